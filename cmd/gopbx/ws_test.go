package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
)

// TestWebSocketPhoneThroughServe boots the real server with --sip-ws and
// --sip-wss: a browser-like phone registers over each with digest
// authentication, a UDP extension calls it and the B2BUA's INVITE arrives
// over the phone's WebSocket connection with the PBX's ws Contact, and the
// phone's leaving removes its binding.
func TestWebSocketPhoneThroughServe(t *testing.T) {
	m := mustRunMain(t, "--sip-ws", "127.0.0.1:0", "--sip-wss", "127.0.0.1:0")
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	tenant, err := pbx.ParseTenantID(tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	bindings := func(ctx context.Context) []pbx.Binding {
		t.Helper()
		bs, err := m.SIP.Registrar().Contacts(ctx, tenant, "102")
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	for _, tr := range []string{"ws", "wss"} {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			addr := m.SIP.Addr(tr)
			if addr == "" {
				t.Fatalf("no %s listener", tr)
			}
			p, err := siptest.DialWS(ctx, siptest.WSConfig{URL: tr + "://" + addr, Domain: tn.Domain, User: "102",
				Password: sipPassword(tn.Domain, "102")})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Drop()
			if res, err := p.Register(ctx, 300); err != nil || res.StatusCode != 200 {
				t.Fatalf("register over %s: %v %v", tr, res, err)
			}
			if bs := bindings(ctx); len(bs) != 1 || bs[0].Transport != strings.ToUpper(tr) || bs[0].Source != p.LocalAddr() {
				t.Fatalf("bindings = %+v, want one %s binding from %s", bs, strings.ToUpper(tr), p.LocalAddr())
			}

			caller := siptest.New(t, siptest.Config{Server: m.SIP.Addr("udp"), Domain: tn.Domain, User: "101",
				Password: sipPassword(tn.Domain, "101")})
			done := make(chan struct{})
			go func() {
				defer close(done)
				// Busy may end in voicemail: either way the call ends.
				if d, err := caller.Invite(ctx, "sip:102@"+tn.Domain, siptest.SDP("127.0.0.1:4000")); err == nil {
					d.Bye(ctx)
				}
			}()
			inv, err := p.NextRequest(ctx)
			if err != nil {
				t.Fatalf("no INVITE over %s: %v", tr, err)
			}
			if inv.Method != sip.INVITE || !strings.HasSuffix(inv.Recipient.Host, ".invalid") ||
				inv.Via() == nil || !strings.EqualFold(inv.Via().Transport, tr) {
				t.Fatalf("got over %s:\n%s", tr, inv)
			}
			if c := inv.Contact(); c == nil || !strings.Contains(c.Address.String(), "transport="+tr) ||
				c.Address.Port != portOf(t, addr) {
				t.Fatalf("INVITE Contact = %v, want the PBX's %s contact on %s", c, tr, addr)
			}
			if err := p.Respond(inv, 486, "Busy Here", nil); err != nil {
				t.Fatal(err)
			}
			// The ACK of the 486 comes back over the same connection.
			if ack, err := p.NextRequest(ctx); err != nil || ack.Method != sip.ACK {
				t.Fatalf("after 486 got %v, %v; want ACK", ack, err)
			}
			<-done

			p.Close()
			deadline := time.Now().Add(5 * time.Second)
			for len(bindings(ctx)) != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("bindings after the phone left: %+v", bindings(ctx))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// TestWebSocketFlagsFromEnv reads the WebSocket listeners from
// GOPBX_SIP_WS and GOPBX_SIP_WSS; both are off by default.
func TestWebSocketFlagsFromEnv(t *testing.T) {
	c := NewConfig()
	if c.SIPWS != "" || c.SIPWSS != "" {
		t.Fatalf("defaults: ws %q wss %q, want both off", c.SIPWS, c.SIPWSS)
	}
	env := map[string]string{"GOPBX_SIP_WS": ":8080", "GOPBX_SIP_WSS": ":8443"}
	if err := c.parse(nil, func(k string) string { return env[k] }, nil); err != nil {
		t.Fatal(err)
	}
	if c.SIPWS != ":8080" || c.SIPWSS != ":8443" {
		t.Fatalf("from env: ws %q wss %q", c.SIPWS, c.SIPWSS)
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, port, err := sip.ParseAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}
