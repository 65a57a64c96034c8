package signaling_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store"
)

func withWS(c *signaling.Config) { c.WS, c.WSS = "127.0.0.1:0", "127.0.0.1:0" }

// dialWS opens a WebSocket phone of 101 to the server's "ws" or "wss"
// listener; it is closed when the test ends.
func (e *env) dialWS(t *testing.T, transport string, protocols ...string) (*siptest.WSPhone, error) {
	t.Helper()
	p, err := siptest.DialWS(ctxT(t), siptest.WSConfig{URL: transport + "://" + e.srv.Addr(transport), Protocols: protocols,
		Domain: domain, User: "101", Password: password})
	if err == nil {
		t.Cleanup(p.Drop)
	}
	return p, err
}

// viaFlow builds req as sipgo does and, for a reliable transport, clears
// the local address so that the phone's own connection carries it (as
// call's viaFlow does).
func viaFlow(c *sipgo.Client, req *sip.Request) error {
	if err := sipgo.ClientRequestBuild(c, req); err != nil {
		return err
	}
	if sip.IsReliable(req.Transport()) {
		req.Laddr = sip.Addr{}
	}
	return nil
}

// A browser registers over WS and WSS with digest authentication; its
// binding has the transport and the connection's source, and an INVITE
// from a UDP extension, sent to that binding, arrives over the same
// connection although its Contact host is *.invalid.
func TestWSRegisterAndInvite(t *testing.T) {
	e := newEnv(t, withWS)
	if e.srv.Addr("ws") == "" || e.srv.Addr("WSS") == "" {
		t.Fatalf("Addr: ws %q wss %q", e.srv.Addr("ws"), e.srv.Addr("WSS"))
	}
	// The handler forks the call to 101's newest binding through the
	// edge's client, as the B2BUA does, and relays the answer.
	e.srv.SetCallHandler(&calls{invite: func(ctx context.Context, o call.Origin, req *sip.Request, tx sip.ServerTransaction) {
		bs, err := e.srv.Registrar().Contacts(ctx, e.tenant.ID, "101")
		if err != nil || len(bs) == 0 {
			tx.Respond(sip.NewResponseFromRequest(req, 480, "Temporarily Unavailable", nil))
			return
		}
		b := bs[len(bs)-1]
		var uri sip.Uri
		if err := sip.ParseUri(b.Contact, &uri); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
			return
		}
		out := sip.NewRequest(sip.INVITE, uri)
		out.SetDestination(b.Source)
		out.SetTransport(b.Transport)
		out.AppendHeader(&sip.FromHeader{Address: req.From().Address, Params: sip.HeaderParams{{K: "tag", V: "b2bua"}}})
		out.AppendHeader(&sip.ToHeader{Address: uri})
		res, err := e.srv.Client().Do(ctx, out, viaFlow)
		if err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 408, "Request Timeout", nil))
			return
		}
		tx.Respond(sip.NewResponseFromRequest(req, res.StatusCode, res.Reason, nil))
	}})

	for _, tr := range []string{"ws", "wss"} {
		t.Run(tr, func(t *testing.T) {
			ctx := ctxT(t)
			p, err := e.dialWS(t, tr)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.Protocol(), "sip"; got != want {
				t.Fatalf("negotiated subprotocol = %q, want %q", got, want)
			}
			res, err := p.Register(ctx, 300)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("register: %v %v", res, err)
			}
			bs := waitContacts(t, e, func(bs []pbx.Binding) bool { return len(bs) == 1 })
			if len(bs) != 1 || bs[0].Transport != upper(tr) || bs[0].Source != p.LocalAddr() || !strings.Contains(bs[0].Contact, ".invalid") {
				t.Fatalf("bindings = %+v, want one %s binding from %s", bs, upper(tr), p.LocalAddr())
			}

			caller := e.ua(t, "udp", "102", "secret102")
			done := make(chan error, 1)
			go func() {
				_, err := caller.Invite(ctx, "sip:101@"+domain, siptest.SDP("127.0.0.1:4000"))
				done <- err
			}()
			inv, err := p.NextRequest(ctx)
			if err != nil {
				t.Fatalf("no INVITE over %s: %v", tr, err)
			}
			if inv.Method != sip.INVITE || inv.Via() == nil || !strings.EqualFold(inv.Via().Transport, tr) {
				t.Fatalf("got over %s:\n%s", tr, inv)
			}
			if err := p.Respond(inv, 486, "Busy Here", nil); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err == nil || !strings.Contains(err.Error(), "486") {
				t.Fatalf("caller got %v, want 486", err)
			}

			// Closing the connection removes the binding: a browser that
			// left cannot be reached any more.
			if tr == "ws" {
				p.Close() // with a close frame
			} else {
				p.Drop() // without
			}
			if bs := waitContacts(t, e, func(bs []pbx.Binding) bool { return len(bs) == 0 }); len(bs) != 0 {
				t.Fatalf("after close: bindings = %+v", bs)
			}
		})
	}
}

// An upgrade that does not offer the "sip" subprotocol is refused with 400
// (RFC 7118 section 4).
func TestWSRequiresSIPSubprotocol(t *testing.T) {
	e := newEnv(t, withWS)
	for _, tr := range []string{"ws", "wss"} {
		for _, protos := range [][]string{{}, {"chat"}} {
			_, err := e.dialWS(t, tr, protos...)
			var se ws.StatusError
			if !errors.As(err, &se) || int(se) != 400 {
				t.Fatalf("%s offering %q: got %v, want status 400", tr, protos, err)
			}
		}
		// Offered among others, "sip" is chosen.
		p, err := e.dialWS(t, tr, "chat", "sip")
		if err != nil || p.Protocol() != "sip" {
			t.Fatalf("%s offering chat, sip: %v", tr, err)
		}
	}
}

// A WebSocket phone with no subscription gets its message-waiting NOTIFY
// over its connection.
func TestWSMessageWaiting(t *testing.T) {
	e := newEnv(t, withWS)
	ctx := ctxT(t)
	p, err := e.dialWS(t, "ws")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := p.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	u := e.users["101"]
	leaveVoicemail(t, e.db, e.tenant.ID, u.ID)
	e.srv.MailboxChanged(ctx, e.tenant.ID, u.ID)
	n, err := p.NextRequest(ctx)
	if err != nil {
		t.Fatalf("no NOTIFY: %v", err)
	}
	if n.Method != sip.NOTIFY || !strings.Contains(string(n.Body()), "Messages-Waiting: yes") {
		t.Fatalf("got:\n%s", n)
	}
	if c := n.Contact(); c == nil || !strings.Contains(c.Address.String(), "transport=ws") {
		t.Fatalf("NOTIFY Contact = %v, want the PBX's ws contact", c)
	}
	p.Respond(n, 200, "OK", nil)
}

// The guard applies to WebSocket phones: a blocked source cannot open a
// connection, and one over its rate has its connection closed.
func TestWSGuard(t *testing.T) {
	t.Run("blocked", func(t *testing.T) {
		e := newEnv(t, withWS)
		ctx := ctxT(t)
		f := store.IPFilter{CIDR: "127.0.0.1", Target: store.IPFilterDeny, Description: "test"}
		if err := e.db.CreateIPFilter(ctx, &f); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.ReloadIPFilters(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.dialWS(t, "ws"); err == nil {
			t.Fatal("a blocked source opened a WebSocket")
		}
	})
	t.Run("flood", func(t *testing.T) {
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		e := newEnv(t, func(c *signaling.Config) {
			withWS(c)
			c.RateLimit = 1 // a burst of 2, never refilled: the clock stands still
			c.Now = func() time.Time { return now }
		})
		ctx := ctxT(t)
		p, err := e.dialWS(t, "ws") // the connection takes one token
		if err != nil {
			t.Fatal(err)
		}
		options := func() (*sip.Response, error) {
			return p.Do(ctx, p.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: domain}))
		}
		if res, err := options(); err != nil || res.StatusCode != 200 {
			t.Fatalf("first OPTIONS: %v %v", res, err)
		}
		if res, err := options(); err == nil {
			t.Fatalf("OPTIONS over the rate answered: %v", res)
		}
	})
}
