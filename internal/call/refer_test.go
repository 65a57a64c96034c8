package call_test

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
)

func referTo(target sip.Uri, ext string, e *env) *sip.Request {
	req := sip.NewRequest(sip.REFER, target)
	req.AppendHeader(sip.NewHeader("Refer-To", "<sip:"+ext+"@acme.test>"))
	return req
}

// notify waits for the next NOTIFY and checks its sipfrag.
func notify(t *testing.T, p *phone, frag, state string) {
	t.Helper()
	n := p.next(sip.NOTIFY)
	if got := n.GetHeader("Event"); got == nil || got.Value() != "refer" {
		t.Errorf("NOTIFY Event %v", got)
	}
	if got := n.ContentType(); got == nil || got.Value() != "message/sipfrag;version=2.0" {
		t.Errorf("NOTIFY Content-Type %v", got)
	}
	if got := string(n.Body()); got != frag+"\r\n" {
		t.Errorf("NOTIFY sipfrag %q, want %q", got, frag)
	}
	if got := n.GetHeader("Subscription-State"); got == nil || got.Value() != state {
		t.Errorf("NOTIFY Subscription-State %v, want %s", got, state)
	}
}

func TestBlindTransferByCallee(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee, target := newPhone(t, "101", answer), newPhone(t, "102", answer), newPhone(t, "103", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	e.loc.add(e.tenant.ID, "103", target)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	inv := callee.invite()
	callee.next(sip.ACK)
	ds := callee.server()

	res, err := ds.Do(ctx, referTo(ds.InviteRequest.Contact().Address, "103", e))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	notify(t, callee, "SIP/2.0 100 Trying", "active;expires=60")

	// The target is called as if by the transferee, with the SDP the
	// referrer had: the relay's ports facing the transferee do not move.
	tinv := target.invite()
	if got := tinv.From().Address.User; got != "101" {
		t.Errorf("target's INVITE From %q, want the transferee 101", got)
	}
	if string(tinv.Body()) != string(inv.Body()) {
		t.Errorf("target's offer\n%s\nwant\n%s", tinv.Body(), inv.Body())
	}
	notify(t, callee, "SIP/2.0 200 OK", "terminated;reason=noresource")
	callee.next(sip.BYE)

	caller.sendRTP(sess.InviteResponse.Body(), "to-target")
	if msg, _ := target.recvRTP(); msg != "to-target" {
		t.Fatalf("target got %q", msg)
	}
	target.sendRTP(tinv.Body(), "from-target")
	if msg, _ := caller.recvRTP(); msg != "from-target" {
		t.Fatalf("caller got %q", msg)
	}
	select {
	case r := <-caller.reqs:
		t.Errorf("the transferee was disturbed: %s", r.Method)
	case <-time.After(100 * time.Millisecond):
	}

	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	target.next(sip.BYE)
	list := e.cdrs(2)
	reasons := map[string]call.EndReason{}
	for _, r := range list {
		reasons[r.Caller+">"+r.Callee] = r.EndReason
	}
	if reasons["101>102"] != call.EndBlindTransferCompleted || reasons["101>103"] != call.EndCallerDisconnected {
		t.Errorf("cdr end reasons: %v", reasons)
	}
}

func TestBlindTransferByCallerWhoLeavesAtOnce(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee, target := newPhone(t, "101", answer), newPhone(t, "102", answer), newPhone(t, "103", answer)
	target.setDelay(300 * time.Millisecond)
	e.loc.add(e.tenant.ID, "102", callee)
	e.loc.add(e.tenant.ID, "103", target)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	callee.next(sip.ACK)
	contact := sess.InviteResponse.Contact().Address

	if res, err := sess.Do(ctx, referTo(contact, "999", e)); err != nil || res.StatusCode != 404 {
		t.Fatalf("REFER to nobody: %v %v", res, err)
	}
	res, err := sess.Do(ctx, referTo(contact, "103", e))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	if err := sess.Bye(ctx); err != nil { // the referrer leaves at once
		t.Fatal(err)
	}
	tinv := target.invite()
	if got := tinv.From().Address.User; got != "102" {
		t.Errorf("target's INVITE From %q, want the transferee 102", got)
	}
	target.next(sip.ACK)
	// The callee was never hung up and now talks to the target.
	select {
	case r := <-callee.reqs:
		if r.Method == sip.BYE {
			t.Fatal("the transferee was hung up")
		}
	case <-time.After(100 * time.Millisecond):
	}
	if err := target.server().Bye(ctx); err != nil {
		t.Fatal(err)
	}
	callee.next(sip.BYE)
	list := e.cdrs(2)
	reasons := map[string]call.EndReason{}
	for _, r := range list {
		reasons[r.Caller+">"+r.Callee] = r.EndReason
	}
	if reasons["101>102"] != call.EndBlindTransferCompleted || reasons["102>103"] != call.EndCalleeDisconnected {
		t.Errorf("cdr end reasons: %v", reasons)
	}
}
