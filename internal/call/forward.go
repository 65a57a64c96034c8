package call

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
)

// Forward is what Plan.Unanswered returns to send a call no phone answered
// on to Number (PortSIP's FORWARD_TO_NUMBER rules). The session rings
// Number's phones or trunks while the caller keeps hearing it ring, without
// answering it: a carrier's caller is not billed for a call nobody took.
// Where that cannot be done (the caller's INVITE had no SDP offer, or no
// phone of the callee rang at all), Forward serves as an App: the PBX
// answers and puts the caller through (AppCall.Transfer).
type Forward struct {
	Number string
}

// Serve puts the caller through to f.Number once answered.
func (f Forward) Serve(_ context.Context, c *AppCall) error {
	c.Transfer(f.Number)
	return nil
}

// forwardTo rings f.Number for a ringing caller whose phones failed with
// code, as if the caller had dialled it, and reports whether the call goes
// on (ringing anew, or taken by the App the number belongs to). The legs
// of the first round are cancelled; a late failure of theirs no longer
// counts (onLegFailed). The new round has no Unanswered of its own, so a
// forward never loops: when it fails too the caller gets its status. s.mu
// is not held.
func (s *session) forwardTo(f Forward, code int) bool {
	plan, ok := s.nextPlan(&appNext{number: f.Number})
	if !ok || plan.Reject != 0 {
		s.log.Info("forward refused", "number", f.Number, "status", plan.Reject, "reason", plan.Reason)
		return false
	}
	if plan.App != nil {
		s.mu.Lock()
		ringing := s.state == ringing
		s.unanswered = nil
		s.mu.Unlock()
		if ringing {
			s.serveApp(plan.App, plan.Target)
		}
		return true
	}
	legs, ok := s.legsFor(plan)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != ringing {
		return true // the caller left meanwhile, or a late answer won
	}
	for _, l := range s.legs {
		l.cancel()
	}
	if s.ringTimer != nil {
		s.ringTimer.Stop()
	}
	s.legs, s.codes = legs, nil
	s.routes = plan.Trunks
	s.unanswered = nil
	if plan.Direction != "" && plan.Direction != ExtensionCall {
		s.rec.Direction = plan.Direction
	}
	s.ringTimer = s.m.clock.AfterFunc(s.m.d.RingTimeout, func() {
		s.m.goWait(func() { s.giveUp(sip.StatusTemporarilyUnavailable, "ring timeout") })
	})
	offer := s.sdpTo[media.B]
	for _, l := range legs {
		s.m.goWait(func() { l.run(offer) })
	}
	s.log.Info("call forwarded", "status", code, "number", f.Number, "extension", plan.Extension, "trunks", len(plan.Trunks), "legs", len(legs))
	return true
}

// unansweredApp returns the App that takes the call now that its phones
// failed with code (Plan.Unanswered), or nil when the call ends with code:
// no such App, a status that is no unanswered call, or a HANGUP rule. The
// caller holds s.mu.
func (s *session) unansweredApp(code int) App {
	if s.unanswered == nil || !unansweredCode(code) || s.aDone {
		return nil
	}
	why := NoAnswer
	if code == sip.StatusBusyHere || code == 600 {
		why = Busy
	}
	return s.unanswered(why)
}

// directForward reports whether app is a Forward the session can ring
// without answering the caller: the caller's INVITE offered SDP, which the
// new legs are offered. The caller holds s.mu.
func (s *session) directForward(app App) (Forward, bool) {
	fw, ok := app.(Forward)
	return fw, ok && !s.lateOffer && s.sdpTo[media.B] != nil
}

// unansweredCode reports whether an extension call that failed with code
// counts as unanswered (busy, no answer, unavailable), which an Unanswered
// app takes, rather than refused (declined, cancelled).
func unansweredCode(code int) bool {
	switch code {
	case sip.StatusBusyHere, 600, sip.StatusTemporarilyUnavailable, sip.StatusRequestTimeout, sip.StatusNotFound:
		return true
	}
	return false
}
