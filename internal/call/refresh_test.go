package call_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// timerHeaders is what a callee that accepts the PBX's session timer puts
// in its 2xx.
func timerHeaders(interval string, allowUpdate bool) func() []sip.Header {
	return func() []sip.Header {
		h := []sip.Header{sip.NewHeader("Session-Expires", interval+";refresher=uac"), sip.NewHeader("Require", "timer")}
		if allowUpdate {
			h = append(h, sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE"))
		}
		return h
	}
}

func TestSessionTimerToCalleeRefreshByUpdateThenFailure(t *testing.T) {
	e := newEnv(t, envOpts{clock: fakeClock(), mediaTimeout: -1})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	callee.set(func(p *phone) { p.headers2xx = timerHeaders("1800", true) })
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if _, code := caller.dial(ctx, e.addr, "102"); code != 200 {
		t.Fatalf("status %d", code)
	}
	inv := callee.invite()
	if got := inv.GetHeader("Session-Expires"); got == nil || got.Value() != "1800;refresher=uac" {
		t.Errorf("leg INVITE Session-Expires: %v", got)
	}
	if got := inv.GetHeader("Min-SE"); got == nil || got.Value() != "90" {
		t.Errorf("leg INVITE Min-SE: %v", got)
	}
	if !lists(inv, "Supported", "timer") {
		t.Errorf("leg INVITE Supported: %v", inv.GetHeader("Supported"))
	}
	callee.next(sip.ACK)
	e.waitTimers(1) // the refresh; the caller's 2xx is ACKed

	e.clock.Advance(899 * time.Second)
	select {
	case r := <-callee.reqs:
		t.Fatalf("refresh before half the interval: %s", r.Method)
	case <-time.After(100 * time.Millisecond):
	}
	e.clock.Advance(time.Second)
	upd := callee.next(sip.UPDATE)
	if got := upd.GetHeader("Session-Expires"); got == nil || got.Value() != "1800;refresher=uac" || len(upd.Body()) != 0 {
		t.Errorf("refresh UPDATE: Session-Expires %v, body %q", got, upd.Body())
	}
	if !lists(upd, "Supported", "timer") {
		t.Errorf("refresh UPDATE Supported: %v", upd.GetHeader("Supported"))
	}
	e.waitTimers(1) // the next refresh

	// The callee forgot the dialog: the next refresh fails and the call ends.
	callee.set(func(p *phone) { p.updateStatus = 481 })
	e.clock.Advance(900 * time.Second)
	callee.next(sip.UPDATE)
	caller.next(sip.BYE)
	callee.next(sip.BYE)
	if r := e.cdrs(1)[0]; r.AnsweredAt.IsZero() || r.EndedAt.IsZero() {
		t.Errorf("cdr: %+v", r)
	}
}

func TestSessionTimerToCalleeRefreshByReinvite(t *testing.T) {
	e := newEnv(t, envOpts{clock: fakeClock(), mediaTimeout: -1, sessionExpires: 120 * time.Second})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	callee.set(func(p *phone) { p.headers2xx = timerHeaders("120", false) }) // no UPDATE
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	inv := callee.invite()
	callee.next(sip.ACK)
	e.waitTimers(1)

	e.clock.Advance(60 * time.Second)
	re := callee.next(sip.INVITE)
	if got := re.GetHeader("Session-Expires"); got == nil || got.Value() != "120;refresher=uac" {
		t.Errorf("refresh re-INVITE Session-Expires: %v", got)
	}
	if string(re.Body()) != string(inv.Body()) {
		t.Errorf("refresh re-INVITE offers\n%s\nwant the SDP sent before\n%s", re.Body(), inv.Body())
	}
	if re.CSeq().SeqNo <= inv.CSeq().SeqNo {
		t.Errorf("refresh CSeq %d after INVITE %d", re.CSeq().SeqNo, inv.CSeq().SeqNo)
	}
	ack := callee.next(sip.ACK)
	if ack.CSeq().SeqNo != re.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d for re-INVITE %d", ack.CSeq().SeqNo, re.CSeq().SeqNo)
	}
	e.waitTimers(1) // refreshed: the next one is armed
	select {
	case r := <-caller.reqs:
		t.Errorf("the refresh reached the caller: %s", r.Method)
	case <-time.After(100 * time.Millisecond):
	}
	sess.Bye(ctx)
	callee.next(sip.BYE)
}

func TestSessionTimerToCallee422Retried(t *testing.T) {
	e := newEnv(t, envOpts{clock: fakeClock(), mediaTimeout: -1})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	callee.set(func(p *phone) {
		p.minSE = 3600
		p.headers2xx = timerHeaders("3600", true)
	})
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	first, retry := callee.invite(), callee.invite()
	if got := first.GetHeader("Session-Expires").Value(); got != "1800;refresher=uac" {
		t.Errorf("first INVITE Session-Expires %q", got)
	}
	if got := retry.GetHeader("Session-Expires").Value(); got != "3600;refresher=uac" {
		t.Errorf("retry Session-Expires %q, want the callee's Min-SE", got)
	}
	if got := retry.GetHeader("Min-SE").Value(); got != "3600" {
		t.Errorf("retry Min-SE %q", got)
	}
	if retry.CallID().Value() != first.CallID().Value() || retry.CSeq().SeqNo != first.CSeq().SeqNo+1 {
		t.Errorf("retry Call-ID/CSeq %s %d, first %s %d", retry.CallID().Value(), retry.CSeq().SeqNo, first.CallID().Value(), first.CSeq().SeqNo)
	}
	if ft, _ := first.From().Params.Get("tag"); !strings.Contains(retry.From().Value(), ft) {
		t.Errorf("retry From %q lost tag %q", retry.From().Value(), ft)
	}
	callee.next(sip.ACK)
	e.waitTimers(1)
	e.clock.Advance(1800 * time.Second)
	if got := callee.next(sip.UPDATE).GetHeader("Session-Expires").Value(); got != "3600;refresher=uac" {
		t.Errorf("refresh Session-Expires %q", got)
	}
	sess.Bye(ctx)
	callee.next(sip.BYE)
}
