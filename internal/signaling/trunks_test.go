package signaling_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/siptest"
)

// trunkAt is a signaling.Trunks of one carrier address.
type trunkAt struct {
	ip netip.Addr
	id pbx.ID
}

func (t trunkAt) TrunkAt(a netip.Addr) (pbx.ID, bool) { return t.id, a == t.ip }

// TestTrunkCalls has a carrier on 127.0.0.2 call without credentials: its
// INVITE reaches the handler as the trunk's, while the same INVITE from
// 127.0.0.9 is challenged and never reaches it. The carrier is not rate
// limited; the stranger is.
func TestTrunkCalls(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := newEnv(t, func(c *signaling.Config) { c.Now, c.RateLimit = clk.now, 5 })
	e.srv.SetTrunks(trunkAt{ip: netip.MustParseAddr("127.0.0.2"), id: 42})
	origins := make(chan call.Origin, 20)
	e.srv.SetCallHandler(&calls{invite: func(_ context.Context, o call.Origin, req *sip.Request, tx sip.ServerTransaction) {
		origins <- o
		tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	}})
	ua := func(ip string) *siptest.UA {
		return siptest.New(t, siptest.Config{Server: e.srv.Addr("udp"), Domain: "carrier.test", User: "14155550123", LocalIP: ip, Logger: testLogger(t)})
	}
	invite := func(u *siptest.UA) int {
		req, _ := u.NewRequest(sip.INVITE, "sip:15550100@"+e.srv.Addr("udp"))
		res, err := u.Do(quickCtx(t), req)
		if err != nil {
			return 0
		}
		return res.StatusCode
	}

	carrier := ua("127.0.0.2")
	for i := 0; i < 15; i++ { // three times the rate, the clock standing still
		if got := invite(carrier); got != 486 {
			t.Fatalf("carrier INVITE %d: got %d, want the handler's 486", i, got)
		}
		if o := <-origins; o.Trunk != 42 || o.User.ID != 0 || o.Tenant.ID != 0 {
			t.Fatalf("origin: %+v", o)
		}
	}

	stranger := ua("127.0.0.9")
	if got := invite(stranger); got != 401 && got != 407 && got != 403 {
		t.Fatalf("stranger's INVITE: got %d, want a challenge or 403", got)
	}
	select {
	case o := <-origins:
		t.Fatalf("a stranger's INVITE reached the handler: %+v", o)
	default:
	}
}
