package call_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
)

// newTCPPhone is a phone that reaches the PBX over TCP and listens on no
// port: like a phone behind NAT, it gets requests only over the
// connection it opened. It opens it with an OPTIONS (as a REGISTER would)
// and is bound in the locator with that connection's address as Source.
func newTCPPhone(t *testing.T, e *env, ext string, do behaviour) *phone {
	t.Helper()
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("tcp-phone-" + ext))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ua.Close()
		rtp.Close()
	})
	// Open the flow.
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	opt := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: e.tcp.Addr().String(), Port: int(e.tcp.Port()),
		UriParams: sip.HeaderParams{{K: "transport", V: "tcp"}}})
	opt.SetTransport("TCP")
	if _, err := cl.Do(ctx, opt); err != nil {
		t.Fatalf("open tcp flow: %v", err)
	}
	conn, err := ua.TransportLayer().GetConnection("tcp", e.tcp.String())
	if err != nil || conn == nil {
		t.Fatalf("tcp flow: %v", err)
	}
	local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: "127.0.0.1", Port: int(local.Port()),
		UriParams: sip.HeaderParams{{K: "transport", V: "tcp"}}}}
	p := newPhoneOn(t, ext, do, local, rtp, cl, contact)
	p.handle(srv) // requests on the client's connection reach the UA's server
	return p
}

func (l *locator) addTCP(tenant pbx.TenantID, ext string, p *phone) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[ext] = append(l.m[ext], pbx.Binding{
		Tenant: tenant, Extension: ext, Transport: "TCP",
		Contact: fmt.Sprintf("<sip:%s@%s;transport=tcp>", ext, p.addr), Source: p.addr.String(),
	})
}

func TestTCPCalleeGetsInDialogRequestsOverItsFlow(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller := newPhone(t, "101", answer)
	callee := newTCPPhone(t, e, "102", answer)
	e.loc.addTCP(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	inv := callee.invite()
	if inv.Transport() != "TCP" || inv.Source() != e.tcp.String() {
		t.Errorf("INVITE came over %s from %s, want TCP from %s", inv.Transport(), inv.Source(), e.tcp)
	}
	if c := inv.Contact(); c == nil || c.Address.UriParams.GetOr("transport", "") != "tcp" {
		t.Errorf("INVITE Contact %v, want the PBX's TCP contact", c)
	}
	callee.next(sip.ACK)

	// A re-INVITE and the BYE come over the same connection.
	req := sip.NewRequest(sip.INVITE, sess.InviteResponse.Contact().Address)
	req.SetBody(caller.sdp("sendonly"))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	res, err := sess.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	sess.WriteRequest(sip.NewRequest(sip.ACK, sess.InviteResponse.Contact().Address))
	for _, m := range []sip.RequestMethod{sip.INVITE, sip.ACK} {
		if r := callee.next(m); r.Transport() != "TCP" || r.Source() != e.tcp.String() {
			t.Errorf("%s came over %s from %s", m, r.Transport(), r.Source())
		}
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if bye := callee.next(sip.BYE); bye.Transport() != "TCP" || bye.Source() != e.tcp.String() {
		t.Errorf("BYE came over %s from %s", bye.Transport(), bye.Source())
	}
	if r := e.cdrs(1)[0]; r.EndReason != "CALLER_DISCONNECTED" {
		t.Errorf("cdr: %+v", r)
	}
}

func TestTCPCalleeHangsUpOverItsFlow(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller := newPhone(t, "101", answer)
	callee := newTCPPhone(t, e, "102", answer)
	e.loc.addTCP(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if _, code := caller.dial(ctx, e.addr, "102"); code != 200 {
		t.Fatalf("status %d", code)
	}
	callee.next(sip.ACK)
	if err := callee.server().Bye(ctx); err != nil {
		t.Fatalf("callee bye over tcp: %v", err)
	}
	caller.next(sip.BYE)
	if r := e.cdrs(1)[0]; r.EndReason != "CALLEE_DISCONNECTED" {
		t.Errorf("cdr: %+v", r)
	}
}

func TestTCPCallerGetsByeOverItsFlow(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller := newTCPPhone(t, e, "101", answer)
	callee := newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	uri := sip.Uri{Scheme: "sip", User: "102", Host: e.tcp.Addr().String(), Port: int(e.tcp.Port()),
		UriParams: sip.HeaderParams{{K: "transport", V: "tcp"}}}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "101", Host: "acme.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	ct := sip.ContentTypeHeader("application/sdp")
	sess, err := caller.dua.Invite(ctx, uri, caller.sdp("sendrecv"), from, &ct)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	callee.invite()
	callee.next(sip.ACK)
	if err := callee.server().Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if bye := caller.next(sip.BYE); bye.Transport() != "TCP" || bye.Source() != e.tcp.String() {
		t.Errorf("BYE to the caller came over %s from %s, want TCP from %s", bye.Transport(), bye.Source(), e.tcp)
	}
	e.cdrs(1)
}
