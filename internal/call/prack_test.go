package call_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media/sdp"
)

func fakeClock() *call.FakeClock {
	return call.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

func TestPRACKReliableBothWays(t *testing.T) {
	e := newEnv(t, envOpts{clock: fakeClock(), mediaTimeout: -1})
	callee := newPhone(t, "102", reliableEarly)
	hold := callee.holdAnswer()
	e.loc.add(e.tenant.ID, "102", callee)
	caller := newRawUA(t, "101", e.addr)

	caller.invite("102", caller.sdp(), sip.NewHeader("Supported", "100rel, timer"))
	inv := callee.invite()
	if !strings.Contains(inv.GetHeader("Supported").Value(), "100rel") {
		t.Errorf("leg INVITE Supported: %v", inv.GetHeader("Supported"))
	}

	// The PBX PRACKs the callee's reliable 183 in the early dialog.
	prack := callee.next(sip.PRACK)
	if got, want := prack.GetHeader("RAck").Value(), "1 "+strconv.FormatUint(uint64(inv.CSeq().SeqNo), 10)+" INVITE"; got != want {
		t.Errorf("RAck to callee: got %q, want %q", got, want)
	}
	if tag, _ := prack.To().Params.Get("tag"); tag == "" {
		t.Error("PRACK to callee has no To tag")
	}
	if prack.CSeq().SeqNo != inv.CSeq().SeqNo+1 {
		t.Errorf("PRACK CSeq %d after INVITE %d", prack.CSeq().SeqNo, inv.CSeq().SeqNo)
	}

	// The caller gets its own reliable 183, with the SDP anchored.
	r183 := caller.response()
	if r183.StatusCode != 183 || !lists(r183, "Require", "100rel") {
		t.Fatalf("caller got:\n%s", r183)
	}
	n := rseq(t, r183)
	s, err := sdp.Parse(r183.Body())
	if err != nil {
		t.Fatalf("183 sdp: %v\n%s", err, r183.Body())
	}
	if s.RTP(0).Port() == uint16(callee.rtp.LocalAddr().(*net.UDPAddr).Port) {
		t.Error("early media sdp not rewritten")
	}
	caller.confirm(r183)

	// Without a PRACK it comes again at T1, then 2*T1, same RSeq.
	caller.quiet(100 * time.Millisecond)
	for _, step := range []time.Duration{sip.T1, 2 * sip.T1} {
		e.clock.Advance(step)
		res := caller.response()
		if res.StatusCode != 183 || rseq(t, res) != n {
			t.Fatalf("retransmission: got %d RSeq %d, want 183 RSeq %d", res.StatusCode, rseq(t, res), n)
		}
	}

	// A PRACK for another RSeq is 481; the right one is 200 and ends the
	// retransmissions.
	caller.next(sip.PRACK, nil, rack(n+1, 1))
	if res := caller.response(); res.StatusCode != 481 {
		t.Errorf("PRACK for unknown RSeq: got %d, want 481", res.StatusCode)
	}
	caller.next(sip.PRACK, nil, rack(n, 1))
	if res := caller.response(); res.StatusCode != 200 {
		t.Errorf("PRACK: got %d, want 200", res.StatusCode)
	}
	e.clock.Advance(10 * time.Second)
	caller.quiet(200 * time.Millisecond)
	// The same PRACK again matches nothing now.
	caller.next(sip.PRACK, nil, rack(n, 1))
	if res := caller.response(); res.StatusCode != 481 {
		t.Errorf("second PRACK: got %d, want 481", res.StatusCode)
	}

	close(hold)
	res := caller.response()
	if res.StatusCode != 200 {
		t.Fatalf("answer: got %d", res.StatusCode)
	}
	caller.confirm(res)
	caller.ack(1)
	callee.next(sip.ACK)
	caller.next(sip.BYE, nil)
	if res := caller.response(); res.StatusCode != 200 {
		t.Errorf("BYE: got %d", res.StatusCode)
	}
	callee.next(sip.BYE)
	e.cdrs(1)
}

func TestPRACKCallerWithout100relGetsUnreliable(t *testing.T) {
	e := newEnv(t, envOpts{clock: fakeClock(), mediaTimeout: -1})
	callee := newPhone(t, "102", reliableEarly)
	hold := callee.holdAnswer()
	e.loc.add(e.tenant.ID, "102", callee)
	caller := newRawUA(t, "101", e.addr)

	caller.invite("102", caller.sdp())
	callee.next(sip.PRACK) // the PBX still PRACKs the callee
	r183 := caller.response()
	if r183.StatusCode != 183 || r183.GetHeader("RSeq") != nil || lists(r183, "Require", "100rel") {
		t.Fatalf("caller got:\n%s", r183)
	}
	if !hasLine(r183.Body(), "c=IN IP4 127.0.0.1") {
		t.Errorf("183 sdp:\n%s", r183.Body())
	}
	e.clock.Advance(4 * sip.T1)
	caller.quiet(200 * time.Millisecond) // not retransmitted
	caller.confirm(r183)
	caller.next(sip.PRACK, nil, rack(1, 1))
	if res := caller.response(); res.StatusCode != 481 {
		t.Errorf("PRACK with nothing reliable sent: got %d, want 481", res.StatusCode)
	}
	close(hold)
	res := caller.response()
	if res.StatusCode != 200 {
		t.Fatalf("answer: got %d", res.StatusCode)
	}
	caller.confirm(res)
	caller.ack(1)
	callee.next(sip.ACK) // the phone stops resending its 2xx
	caller.next(sip.BYE, nil)
	if res := caller.response(); res.StatusCode != 200 {
		t.Errorf("BYE: got %d", res.StatusCode)
	}
	callee.next(sip.BYE)
}

func TestPRACKCallerRequires100relNeverPRACKs(t *testing.T) {
	e := newEnv(t, envOpts{clock: fakeClock(), mediaTimeout: -1})
	callee := newPhone(t, "102", ringForever) // an unreliable 180
	e.loc.add(e.tenant.ID, "102", callee)
	caller := newRawUA(t, "101", e.addr)

	caller.invite("102", caller.sdp(), sip.NewHeader("Require", "100rel"))
	r180 := caller.response()
	if r180.StatusCode != 180 || !lists(r180, "Require", "100rel") {
		t.Fatalf("caller requiring 100rel got:\n%s", r180)
	}
	n := rseq(t, r180)
	// Resent at 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s; at 32 s the INVITE
	// is rejected (RFC 3262 section 3) and the leg cancelled.
	e.clock.Advance(64 * sip.T1)
	for i := 0; i < 6; i++ {
		if res := caller.response(); res.StatusCode != 180 || rseq(t, res) != n {
			t.Fatalf("retransmission %d: got %d", i, res.StatusCode)
		}
	}
	if res := caller.response(); res.StatusCode != 500 {
		t.Fatalf("after 64*T1: got %d, want 500", res.StatusCode)
	}
	select {
	case <-callee.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("leg not cancelled")
	}
	if r := e.cdrs(1)[0]; r.StatusCode != 500 {
		t.Errorf("cdr status %d", r.StatusCode)
	}
}

func lists(msg interface{ GetHeaders(string) []sip.Header }, name, option string) bool {
	for _, h := range msg.GetHeaders(name) {
		for _, o := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(o), option) {
				return true
			}
		}
	}
	return false
}
