package call_test

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// answered sets up a call from a raw caller to an answering 102 and
// returns once both ACKs are in.
func answered(t *testing.T, e *env) (*rawUA, *phone) {
	t.Helper()
	callee := newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	caller := newRawUA(t, "101", e.addr)
	caller.invite("102", caller.sdp())
	res := caller.response()
	for res.StatusCode < 200 {
		res = caller.response()
	}
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	caller.confirm(res)
	caller.ack(1)
	callee.next(sip.ACK)
	return caller, callee
}

func TestReinvite2xxRetransmittedUntilACK(t *testing.T) {
	e := newEnv(t, envOpts{clock: fakeClock(), mediaTimeout: -1, sessionExpires: -1})
	caller, callee := answered(t, e)
	e.waitTimers(0)

	re := caller.next(sip.INVITE, caller.sdp())
	ok := caller.response()
	if ok.StatusCode != 200 || ok.CSeq().SeqNo != re.CSeq().SeqNo {
		t.Fatalf("re-INVITE: got %d for CSeq %d", ok.StatusCode, ok.CSeq().SeqNo)
	}
	callee.next(sip.INVITE)
	caller.quiet(100 * time.Millisecond)
	// T1, then 2*T1 later: the same 2xx again.
	for _, step := range []time.Duration{sip.T1, 2 * sip.T1} {
		e.clock.Advance(step)
		res := caller.response()
		if res.StatusCode != 200 || res.CSeq().SeqNo != re.CSeq().SeqNo || res.CSeq().MethodName != sip.INVITE {
			t.Fatalf("retransmission: got %d %v", res.StatusCode, res.CSeq())
		}
	}
	caller.ack(re.CSeq().SeqNo)
	e.waitTimers(0)
	e.clock.Advance(time.Minute)
	caller.quiet(200 * time.Millisecond)

	// A re-INVITE never ACKed: resent up to 64*T1 (interval capped at
	// T2), then the call is hung up on both sides.
	re = caller.next(sip.INVITE, caller.sdp())
	if res := caller.response(); res.StatusCode != 200 {
		t.Fatalf("second re-INVITE: %d", res.StatusCode)
	}
	callee.next(sip.INVITE)
	e.clock.Advance(64 * sip.T1)
	resent := 0
	for {
		msg := caller.read(5 * time.Second)
		if msg == nil {
			t.Fatal("no BYE")
		}
		if res, ok := msg.(*sip.Response); ok {
			if res.StatusCode == 200 && res.CSeq().SeqNo == re.CSeq().SeqNo {
				resent++
			}
			continue
		}
		req := msg.(*sip.Request)
		if req.Method != sip.BYE {
			t.Fatalf("caller got %s", req.Method)
		}
		caller.send(sip.NewResponseFromRequest(req, 200, "OK", nil))
		break
	}
	// 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5 s.
	if resent != 10 {
		t.Errorf("2xx resent %d times, want 10", resent)
	}
	callee.next(sip.BYE)
	e.cdrs(1)
}
