package call

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
)

// inDialog handles a request from side's phone inside the call.
func (s *session) inDialog(ctx context.Context, side media.Side, req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.ACK:
		if side == media.A {
			s.ackOnce.Do(func() { close(s.acked) })
		}
		if cs := req.CSeq(); cs != nil {
			s.acked2xx(side, cs.SeqNo)
		}
		s.ackFrom(side, req)
	case sip.BYE:
		respond(tx, req, sip.StatusOK, "OK")
		s.byeFrom(ctx, side)
	case sip.CANCEL:
		respond(tx, req, sip.StatusOK, "OK")
	case sip.PRACK:
		s.prackFrom(side, req, tx)
	case sip.REFER:
		if s.hasApp() {
			// An app's caller has nobody to transfer.
			respond(tx, req, sip.StatusForbidden, "Forbidden")
			return
		}
		s.referFrom(ctx, side, req, tx)
	case sip.INVITE, sip.UPDATE, sip.INFO, sip.MESSAGE, sip.NOTIFY, sip.OPTIONS:
		if (req.Method == sip.INVITE || req.Method == sip.UPDATE) && s.m.tooSmall(tx, req) {
			return
		}
		if s.hasApp() {
			s.appRequest(req, tx)
			return
		}
		if req.Method == sip.UPDATE && len(req.Body()) == 0 {
			// Without SDP an UPDATE only refreshes its own dialog's
			// session timer: the PBX answers it, so that a phone without
			// UPDATE on the other side never sees it.
			s.answerRefresh(side, req, tx)
			return
		}
		s.forward(ctx, side, req, tx)
	default:
		respond(tx, req, sip.StatusNotImplemented, "Not Implemented")
	}
}

// ackFrom handles side's ACK for a 2xx: when the other side's ACK waits
// for it (late offer), it goes on with the SDP answer rewritten.
func (s *session) ackFrom(side media.Side, req *sip.Request) {
	s.mu.Lock()
	ack := s.pendingACK[side]
	s.pendingACK[side] = nil
	if ack == nil {
		s.mu.Unlock()
		return
	}
	if body := req.Body(); len(body) > 0 && isSDP(req) {
		if b, err := s.rewriteSDP(body, side); err == nil {
			s.sdpTo[1-side] = b
			ack.SetBody(b)
			ct := sip.ContentTypeHeader("application/sdp")
			ack.AppendHeader(&ct)
		} else {
			s.log.Info("ack sdp unusable", "error", err)
		}
	}
	s.mu.Unlock()
	if err := s.m.write(ack); err != nil {
		s.log.Info("forward ack", "error", err)
	}
}

// forward passes a request from side's phone to the other side's, with
// SDP rewritten both ways, and relays the final answer back: re-INVITE
// (hold, resume, new codec or address), UPDATE, INFO (DTMF), MESSAGE,
// NOTIFY, OPTIONS.
func (s *session) forward(ctx context.Context, side media.Side, req *sip.Request, tx sip.ServerTransaction) {
	offer := req.Method == sip.INVITE || req.Method == sip.UPDATE
	s.mu.Lock()
	if s.state != answered {
		s.mu.Unlock()
		if offer {
			respond(tx, req, sip.StatusRequestPending, "Request Pending")
		} else {
			respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		}
		return
	}
	if offer && s.offering {
		s.mu.Unlock()
		respond(tx, req, sip.StatusRequestPending, "Request Pending")
		return
	}
	from, to := s.a, s.b
	if side == media.B {
		from, to = s.b, s.a
	}
	if c := req.Contact(); c != nil && offer {
		from.remoteTarget = c.Address // target refresh (RFC 3261 12.2.2)
	}
	body, ct := req.Body(), ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	hasSDP := len(body) > 0 && isSDP(req)
	if hasSDP {
		b, err := s.rewriteSDP(body, side)
		if err != nil {
			s.mu.Unlock()
			respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
			return
		}
		body, ct = b, "application/sdp"
		s.sdpTo[1-side] = b
	}
	if offer {
		s.offering = true
	}
	out := to.newRequest(req.Method, body, ct)
	timerB := offer && to == s.b && s.callee.interval > 0
	if timerB {
		// Any re-INVITE or UPDATE refreshes the callee's session timer;
		// without the headers the callee would turn it off (RFC 4028
		// section 9).
		out.AppendHeader(sip.NewHeader("Supported", "timer"))
		addRefreshHeaders(out, s.callee.interval, s.callee.minSE)
	}
	for _, name := range []string{"Info-Package", "Content-Disposition", "Event", "Subscription-State"} {
		for _, h := range req.GetHeaders(name) {
			out.AppendHeader(sip.HeaderClone(h))
		}
	}
	inviteCSeq := uint32(0)
	if req.Method == sip.INVITE {
		inviteCSeq = to.cseq
	}
	s.mu.Unlock()

	res := s.send(ctx, out)

	s.mu.Lock()
	if offer {
		s.offering = false
	}
	if res == nil {
		s.mu.Unlock()
		respond(tx, req, sip.StatusRequestTimeout, "Request Timeout")
		return
	}
	if offer && hasSDP && res.IsSuccess() && isSDP(res) {
		s.holdAfter(side, req.Body(), res.Body()) // music on hold (hold.go)
	}
	var rbody []byte
	rct := ""
	if h := res.ContentType(); h != nil {
		rct = h.Value()
	}
	if b := res.Body(); len(b) > 0 {
		rbody = b
		if isSDP(res) {
			other := media.B
			if side == media.B {
				other = media.A
			}
			if rb, err := s.rewriteSDP(b, other); err == nil {
				rbody, rct = rb, "application/sdp"
				s.sdpTo[side] = rb
			} else {
				rbody, rct = nil, ""
				s.log.Info("answer sdp unusable", "error", err)
			}
		}
	}
	if timerB && res.IsSuccess() {
		if d, refresher, ok := sessionExpiresRefresher(res); ok && refresher != "uas" {
			s.callee.interval = d
			s.armRefresh(d / 2)
		} else {
			s.callee.interval = 0
			s.callee.stop()
		}
	}
	if req.Method == sip.INVITE && res.IsSuccess() {
		if c := res.Contact(); c != nil {
			to.remoteTarget = c.Address
		}
		ack := to.newACK(inviteCSeq, nil, "")
		if !hasSDP {
			// A re-INVITE without SDP: the 2xx has the offer, and the ACK
			// of the side that asked has the answer.
			s.pendingACK[side] = ack
			ack = nil
		}
		s.mu.Unlock()
		if ack != nil {
			s.m.write(ack)
		}
	} else {
		s.mu.Unlock()
	}
	r := sip.NewResponseFromRequest(req, res.StatusCode, res.Reason, rbody)
	if res.IsSuccess() && offer {
		r.AppendHeader(&sip.ContactHeader{Address: *from.contact.Clone()})
	}
	if len(rbody) > 0 {
		h := sip.ContentTypeHeader(rct)
		r.AppendHeader(&h)
	}
	if res.IsSuccess() && offer && side == media.A {
		s.mu.Lock()
		refreshed := s.refreshedBy(req)
		s.mu.Unlock()
		if refreshed {
			addTimerHeaders(r, s.sessionInterval)
		}
	}
	if req.Method == sip.INVITE && res.IsSuccess() {
		s.respond2xx(side, from, req, tx, r)
		return
	}
	if tx != nil {
		tx.Respond(r)
	}
}

// refreshedBy restarts the caller's session timer after a successful
// re-INVITE or UPDATE, taking a new interval if the request asked for
// one. It reports whether a timer runs. The caller holds s.mu.
func (s *session) refreshedBy(req *sip.Request) bool {
	if d, ok := sessionExpires(req); ok && supportsTimer(req) {
		s.sessionInterval = d
	}
	if s.sessionInterval <= 0 || s.state != answered {
		return false
	}
	s.armSessionTimer()
	return true
}

// answerRefresh answers an UPDATE without SDP: a session refresh. For the
// caller it restarts the session timer and says so in the 2xx.
func (s *session) answerRefresh(side media.Side, req *sip.Request, tx sip.ServerTransaction) {
	s.mu.Lock()
	if s.state != answered {
		s.mu.Unlock()
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	timer := side == media.A && s.refreshedBy(req)
	interval := s.sessionInterval
	d := s.a
	if side == media.B {
		d = s.b
	}
	s.mu.Unlock()
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(&sip.ContactHeader{Address: *d.contact.Clone()})
	if timer {
		addTimerHeaders(res, interval)
	}
	if tx != nil {
		tx.Respond(res)
	}
}
