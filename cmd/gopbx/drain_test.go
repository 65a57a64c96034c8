package main

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/siptest"
)

// TestCloseDrainsOrHangsUp checks the two shutdowns: with Drain (SIGTERM)
// Close waits for a live call to end by itself; without (SIGINT) it hangs
// the call up at once, and the callee gets a BYE.
func TestCloseDrainsOrHangsUp(t *testing.T) {
	for _, drain := range []bool{true, false} {
		name := map[bool]string{true: "sigterm drains", false: "sigint hangs up"}[drain]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			m := mustRunMain(t)
			tn := provisionTenant(t, m, "acme.test", "101", "102")
			addr := m.SIP.Addr("udp")
			ua := func(ext string) *siptest.UA {
				u := siptest.New(t, siptest.Config{Server: addr, Domain: tn.Domain, User: ext, Password: sipPassword(tn.Domain, ext)})
				u.Answer(func(*sip.Request) (int, []byte) { return 200, siptest.SDP("127.0.0.1:9") })
				if res, err := u.Register(ctx, 300); err != nil || res.StatusCode != 200 {
					t.Fatalf("register %s: %v %v", ext, res, err)
				}
				return u
			}
			caller, callee := ua("101"), ua("102")
			d, err := caller.Invite(ctx, "sip:102@acme.test", siptest.SDP("127.0.0.1:9"))
			if err != nil {
				t.Fatalf("invite: %v", err)
			}
			m.Drain = drain
			m.Config.DrainTimeout = 10 * time.Second
			closed := make(chan error, 1)
			go func() { closed <- m.Close() }()
			if drain {
				select {
				case err := <-closed:
					t.Fatalf("close returned while a call was up: %v", err)
				case <-time.After(500 * time.Millisecond):
				}
				if err := d.Bye(ctx); err != nil {
					t.Fatalf("bye: %v", err)
				}
			} else {
				// The PBX hangs up: both phones get a BYE.
				for name, u := range map[string]*siptest.UA{"caller": caller, "callee": callee} {
					select {
					case <-u.Byes():
					case <-time.After(10 * time.Second):
						t.Fatalf("%s got no BYE on close", name)
					}
				}
			}
			select {
			case err := <-closed:
				if err != nil {
					t.Fatalf("close: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("close did not return")
			}
		})
	}
}
