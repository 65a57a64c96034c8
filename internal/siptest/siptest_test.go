package siptest_test

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/siptest"
)

// TestCallBetweenUAs has one UA call another directly: INVITE with an SDP
// offer, 200 with an answer, ACK, BYE; and an OPTIONS ping.
func TestCallBetweenUAs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	callee := siptest.New(t, siptest.Config{Domain: "acme.test", User: "102"})
	callee.Answer(func(req *sip.Request) (int, []byte) { return 200, siptest.SDP("127.0.0.1:6000") })
	caller := siptest.New(t, siptest.Config{Server: callee.LocalAddr(), Domain: "acme.test", User: "101"})

	if res, err := caller.Options(ctx); err != nil || res.StatusCode != 200 {
		t.Fatalf("options: %v %v", res, err)
	}
	d, err := caller.Invite(ctx, "sip:102@acme.test", siptest.SDP("127.0.0.1:4000"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-callee.Incoming():
		if req.From().Address.User != "101" || len(req.Body()) == 0 {
			t.Fatalf("callee got %s", req.Short())
		}
	case <-ctx.Done():
		t.Fatal("callee saw no INVITE")
	}
	if got := string(d.InviteResponse.Body()); got != string(siptest.SDP("127.0.0.1:6000")) {
		t.Fatalf("answer = %q", got)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	// Without an answer function, a UA is busy.
	callee.Answer(nil)
	if _, err := caller.Invite(ctx, "sip:102@acme.test", nil); err == nil {
		t.Fatal("busy callee answered")
	}
}
