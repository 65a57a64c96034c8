package call_test

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
)

// TestUnansweredByOutcome checks that Plan.Unanswered is asked with why no
// phone answered, and that its answer decides: busy with a HANGUP rule (nil)
// ends the call with 486, a no-answer rule's App takes the call after the
// plan's own ring timeout, and an offline callee's App answers at once.
func TestUnansweredByOutcome(t *testing.T) {
	caller := newPhone(t, "101", answer)
	busyPhone, silent := newPhone(t, "102", busy), newPhone(t, "103", ringForever)
	app := &toneApp{calls: make(chan *call.AppCall, 3), heard: make(chan [2]float64, 3), digit: make(chan rune, 3)}
	asked := make(chan call.Outcome, 3)
	var e *env
	e = newEnv(t, envOpts{codecs: codecs, router: routerFunc(func(_ context.Context, _ call.Origin, req *sip.Request) (call.Plan, error) {
		return call.Plan{Tenant: e.tenant, Direction: call.ExtensionCall, Extension: req.Recipient.User, Target: req.Recipient.User,
			RingTimeout: 500 * time.Millisecond,
			Unanswered: func(why call.Outcome) call.App {
				asked <- why
				if why == call.Busy {
					return nil
				}
				return app
			}}, nil
	})})
	e.loc.add(e.tenant.ID, "102", busyPhone)
	e.loc.add(e.tenant.ID, "103", silent)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	if _, code := caller.dial(ctx, e.addr, "102"); code != sip.StatusBusyHere {
		t.Errorf("busy with a HANGUP rule: status %d, want 486", code)
	}
	if why := <-asked; why != call.Busy {
		t.Errorf("busy callee: asked for %s", why)
	}

	start := time.Now()
	sess, code := caller.dial(ctx, e.addr, "103")
	if code != 200 {
		t.Fatalf("no answer: status %d, want the app's 200", code)
	}
	if why := <-asked; why != call.NoAnswer {
		t.Errorf("unanswered callee: asked for %s", why)
	}
	if d := time.Since(start); d >= 5*time.Second {
		t.Errorf("the app took the call after %v: the plan's ring timeout was not used", d)
	}
	if c := <-app.calls; c.Target != "103" {
		t.Errorf("app call: %+v", c)
	}
	sess.Bye(ctx)

	// 103's phone is gone: the app takes the call at once.
	e.loc.mu.Lock()
	e.loc.m = map[string][]pbx.Binding{}
	e.loc.mu.Unlock()
	sess, code = caller.dial(ctx, e.addr, "103")
	if code != 200 {
		t.Fatalf("offline: status %d, want the app's 200", code)
	}
	if why := <-asked; why != call.Offline {
		t.Errorf("offline callee: asked for %s", why)
	}
	<-app.calls
	sess.Bye(ctx)
}

// TestForwardWithoutAnswer has a busy callee whose rule forwards to 103:
// 103 rings while the caller still waits for an answer, the caller's 200
// is 103's, and the CDR names 103. When 103 is busy too, the caller gets
// 486: a forward is not forwarded again.
func TestForwardWithoutAnswer(t *testing.T) {
	caller, busyPhone := newPhone(t, "101", answer), newPhone(t, "102", busy)
	target := newPhone(t, "103", answer)
	var e *env
	e = newEnv(t, envOpts{codecs: codecs, router: routerFunc(func(_ context.Context, _ call.Origin, req *sip.Request) (call.Plan, error) {
		p := call.Plan{Tenant: e.tenant, Direction: call.ExtensionCall, Extension: req.Recipient.User, Target: req.Recipient.User}
		if req.Recipient.User == "102" {
			p.Unanswered = call.AlwaysApp(call.Forward{Number: "103"})
		}
		return p, nil
	})})
	e.loc.add(e.tenant.ID, "102", busyPhone)
	e.loc.add(e.tenant.ID, "103", target)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d, want 103's 200", code)
	}
	target.invite()
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	target.next(sip.BYE)
	if r := e.cdrs(1)[0]; r.Callee != "103" || r.AnsweredAt.IsZero() {
		t.Errorf("cdr: callee %q, answered %v", r.Callee, r.AnsweredAt)
	}

	e.loc.mu.Lock()
	e.loc.m = map[string][]pbx.Binding{}
	e.loc.mu.Unlock()
	e.loc.add(e.tenant.ID, "102", busyPhone)
	e.loc.add(e.tenant.ID, "103", newPhone(t, "103", busy))
	if _, code := caller.dial(ctx, e.addr, "102"); code != sip.StatusBusyHere {
		t.Errorf("forward to a busy phone: status %d, want 486", code)
	}
}
