package call

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
)

// The session timer toward the callee (RFC 4028): each leg's INVITE offers
// Session-Expires with refresher=uac and the PBX's Min-SE, and a 422 is
// retried with the callee's Min-SE (leg.go). When the answering callee's
// 2xx keeps the PBX as refresher, the PBX refreshes at half the interval:
// by UPDATE without SDP when the callee allows UPDATE, else by re-INVITE
// offering the SDP it last sent. A refresh that fails (no answer, or an
// error other than 422 and 491) ends the call with a BYE to both phones.
// A callee that makes itself refresher (refresher=uas) keeps its own timer:
// its refreshes pass through to the caller like any re-INVITE or UPDATE.

// calleeTimer is the session timer toward the callee, guarded by s.mu.
type calleeTimer struct {
	interval time.Duration // 0: no timer
	minSE    time.Duration
	update   bool // the callee allows UPDATE
	t        timer
}

func (c *calleeTimer) stop() {
	if c.t != nil {
		c.t.Stop()
		c.t = nil
	}
}

// refreshRetry is how long a refresh waits when the callee answered 491 or
// another offer was in flight.
const refreshRetry = 4 * time.Second

// addRefreshHeaders adds to a request for the callee the headers that run
// a session timer with the PBX as refresher.
func addRefreshHeaders(req *sip.Request, interval, min time.Duration) {
	req.AppendHeader(sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=uac", int(interval/time.Second))))
	if min > 0 {
		req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(min/time.Second))))
	}
}

// startCalleeTimer takes the session timer from the answering callee's
// 2xx. The caller holds s.mu.
func (s *session) startCalleeTimer(l *leg, res *sip.Response) {
	d, refresher, ok := sessionExpiresRefresher(res)
	if !ok || l.interval <= 0 || refresher == "uas" {
		return // no timer (RFC 4028 section 7.2), or the callee refreshes
	}
	s.callee.interval = d
	s.callee.minSE = l.minSE
	s.callee.update = lists(res, "UPDATE", "Allow")
	s.armRefresh(d / 2)
}

// armRefresh schedules the next refresh toward the callee. The caller
// holds s.mu.
func (s *session) armRefresh(after time.Duration) {
	s.callee.stop()
	if s.callee.interval <= 0 || s.state != answered {
		return
	}
	s.callee.t = s.m.clock.AfterFunc(after, func() { s.m.goWait(s.refreshCallee) })
}

// refreshCallee sends the callee a session refresh and acts on its answer.
func (s *session) refreshCallee() {
	for try := 0; try <= maxRetries422; try++ {
		s.mu.Lock()
		if s.state != answered || s.callee.interval <= 0 {
			s.mu.Unlock()
			return
		}
		method := sip.UPDATE
		var body []byte
		if !s.callee.update && len(s.sdpTo[media.B]) > 0 {
			if s.offering {
				s.armRefresh(refreshRetry)
				s.mu.Unlock()
				return
			}
			method, body = sip.INVITE, s.sdpTo[media.B]
			s.offering = true
		}
		ct := ""
		if body != nil {
			ct = "application/sdp"
		}
		req := s.b.newRequest(method, body, ct)
		req.AppendHeader(sip.NewHeader("Supported", "timer"))
		addRefreshHeaders(req, s.callee.interval, s.callee.minSE)
		inviteCSeq := s.b.cseq
		s.mu.Unlock()

		res := s.send(s.ctx, req)

		s.mu.Lock()
		if method == sip.INVITE {
			s.offering = false
		}
		if s.state != answered {
			s.mu.Unlock()
			return
		}
		switch {
		case res != nil && res.IsSuccess():
			var ack *sip.Request
			if method == sip.INVITE {
				ack = s.b.newACK(inviteCSeq, nil, "")
				if b := res.Body(); len(b) > 0 && isSDP(res) {
					if _, err := s.rewriteSDP(b, media.B); err != nil {
						s.log.Info("refresh answer sdp unusable", "error", err)
					}
				}
			}
			d, refresher, ok := sessionExpiresRefresher(res)
			switch {
			case !ok || refresher == "uas":
				s.callee.interval = 0 // the callee turned the timer off, or took it
			default:
				s.callee.interval = d
			}
			s.armRefresh(s.callee.interval / 2)
			s.mu.Unlock()
			if ack != nil {
				if err := s.m.write(ack); err != nil {
					s.log.Info("ack refresh", "error", err)
				}
			}
			return
		case res != nil && res.StatusCode == 422 && minSE(res) > s.callee.interval:
			s.callee.interval, s.callee.minSE = minSE(res), minSE(res)
			s.mu.Unlock()
			continue
		case res != nil && res.StatusCode == sip.StatusRequestPending:
			s.armRefresh(refreshRetry)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		s.log.Info("session refresh to callee failed", "status", status)
		s.hangup(context.WithoutCancel(s.ctx), "")
		return
	}
	s.log.Info("session refresh to callee failed", "reason", "422 loop")
	s.hangup(context.WithoutCancel(s.ctx), "")
}
