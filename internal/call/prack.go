package call

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
)

// Reliable provisional responses (RFC 3262) are handled per leg. Toward a
// callee the PBX is the UAC: it offers 100rel, and PRACKs each reliable
// 18x itself, in the leg's early dialog. Toward the caller the PBX is the
// UAS: a provisional goes reliably (Require: 100rel and the PBX's own
// RSeq) when the caller requires 100rel, or supports it and the callee
// sent it reliably; it is resent at T1, 2*T1... until the caller's PRACK,
// and a second reliable provisional waits for the first one's PRACK. A
// caller that does not support 100rel gets every provisional unreliably.

// relState is the 100rel state toward the caller, guarded by s.mu.
type relState struct {
	supported bool // the caller's INVITE has 100rel in Supported or Require
	required  bool // in Require
	rseq      uint32
	pending   *reliable       // sent, not PRACKed yet
	queue     []*sip.Response // waiting for pending's PRACK
}

// reliable is a reliable provisional sent to the caller.
type reliable struct {
	res  *sip.Response
	rseq uint32
	rt   *retransmission
}

// respondReliable sends the caller a provisional reliably, or queues it
// behind the one not PRACKed yet. The caller holds s.mu.
func (s *session) respondReliable(code int, reason string, body []byte) {
	res := s.responseA(code, reason, body)
	s.rel.rseq++
	res.AppendHeader(sip.NewHeader("Require", "100rel"))
	res.AppendHeader(sip.NewHeader("RSeq", strconv.FormatUint(uint64(s.rel.rseq), 10)))
	if s.rel.pending != nil {
		s.rel.queue = append(s.rel.queue, res)
		return
	}
	s.sendReliable(res, s.rel.rseq)
}

// sendReliable sends res and resends it until its PRACK; without one in
// 64*T1 the caller's INVITE is rejected (RFC 3262 section 3). The caller
// holds s.mu.
func (s *session) sendReliable(res *sip.Response, rseq uint32) {
	p := &reliable{res: res, rseq: rseq}
	s.rel.pending = p
	giveUp := func() {
		s.m.goWait(func() { s.giveUp(sip.StatusInternalServerError, "no prack") })
	}
	// The timers run before the response goes out, so that they count
	// from it whatever the scheduler does.
	if strings.EqualFold(s.a.transport, "UDP") {
		p.rt = s.m.retransmit(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.rel.pending == p {
				s.tx.Respond(res)
			}
		}, giveUp, 0)
	} else {
		// A reliable transport delivers it; the PRACK is still awaited.
		p.rt = s.m.retransmit(nil, giveUp, 0)
	}
	if err := s.tx.Respond(res); err != nil {
		s.log.Debug("respond to caller", "status", res.StatusCode, "error", err)
	}
}

// endReliable stops the retransmission of a reliable provisional and
// drops the queued ones: the INVITE got its final answer (RFC 3262
// section 3). The caller holds s.mu.
func (s *session) endReliable() {
	if p := s.rel.pending; p != nil {
		p.rt.stop()
	}
	s.rel.pending = nil
	s.rel.queue = nil
}

// prackFrom answers a PRACK. Only the caller's PRACK for the reliable
// provisional awaiting it gets a 200; anything else a 481 (RFC 3262
// section 3).
func (s *session) prackFrom(side media.Side, req *sip.Request, tx sip.ServerTransaction) {
	rseq, cseq, method, ok := parseRAck(req)
	s.mu.Lock()
	p := s.rel.pending
	if side != media.A || !ok || p == nil || rseq != p.rseq || cseq != s.req.CSeq().SeqNo || method != sip.INVITE {
		s.mu.Unlock()
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	p.rt.stop()
	s.rel.pending = nil
	respond(tx, req, sip.StatusOK, "OK")
	if len(s.rel.queue) > 0 && s.state == ringing {
		next := s.rel.queue[0]
		s.rel.queue = s.rel.queue[1:]
		n, _ := rseqOf(next)
		s.sendReliable(next, n)
	}
	s.mu.Unlock()
}

// prackCallee handles a provisional from the callee on leg l: a reliable
// one is PRACKed in the leg's early dialog. It reports whether res was
// reliable and whether it is new (not a retransmission, nor out of
// order: RFC 3262 section 4 says those are not processed).
func (l *leg) prackCallee(res *sip.Response) (reliable, fresh bool) {
	if res.StatusCode == sip.StatusTrying || !lists(res, "100rel", "Require") {
		return false, true
	}
	rseq, ok := rseqOf(res)
	if !ok {
		return false, true
	}
	s := l.s
	s.mu.Lock()
	if l.rseq != 0 && rseq != l.rseq+1 {
		s.mu.Unlock()
		return true, false
	}
	l.rseq = rseq
	l.d.confirmUAC(res) // the early dialog: tag, target, route set
	req := l.d.newRequest(sip.PRACK, nil, "")
	req.AppendHeader(sip.NewHeader("RAck", fmt.Sprintf("%d %d INVITE", rseq, l.d.inviteCSeq)))
	s.mu.Unlock()
	s.m.goWait(func() {
		res := s.send(context.WithoutCancel(s.ctx), req)
		if res == nil || !res.IsSuccess() {
			s.log.Info("prack to callee failed", "contact", l.name())
		}
	})
	return true, true
}

func rseqOf(res *sip.Response) (uint32, bool) {
	h := res.GetHeader("RSeq")
	if h == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	return uint32(n), err == nil && n > 0
}

// parseRAck parses "RAck: rseq cseq method".
func parseRAck(req *sip.Request) (rseq, cseq uint32, method sip.RequestMethod, ok bool) {
	h := req.GetHeader("RAck")
	if h == nil {
		return 0, 0, "", false
	}
	f := strings.Fields(h.Value())
	if len(f) != 3 {
		return 0, 0, "", false
	}
	r, err1 := strconv.ParseUint(f[0], 10, 32)
	c, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, "", false
	}
	return uint32(r), uint32(c), sip.RequestMethod(strings.ToUpper(f[2])), true
}
