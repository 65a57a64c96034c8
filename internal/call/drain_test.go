package call_test

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestDrainWaitsForLiveCalls checks the graceful shutdown: Drain refuses new
// calls at once but returns only when the live call has ended by itself.
func TestDrainWaitsForLiveCalls(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status: got %d, want 200", code)
	}
	<-callee.invites

	drained := make(chan error, 1)
	go func() { drained <- e.mgr.Drain(ctx) }()
	// Drain has started refusing once a new call gets 503.
	deadline := time.Now().Add(5 * time.Second)
	for {
		other := newPhone(t, "103", answer)
		if _, code := other.dial(ctx, e.addr, "102"); code == 503 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("new call during drain: got %d, want 503", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-drained:
		t.Fatalf("drain returned while a call was up: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	callee.next(sip.BYE)
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("drain did not return after the last call ended")
	}

	// With no call left, Drain returns at once, even on a short deadline.
	short, cancelShort := context.WithTimeout(ctx, time.Millisecond)
	defer cancelShort()
	if err := e.mgr.Drain(short); err != nil {
		t.Fatalf("drain with no calls: %v", err)
	}
}
