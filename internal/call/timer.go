package call

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// MinSessionExpires is the default smallest session interval the PBX
// accepts (RFC 4028 Min-SE, 90 s).
const MinSessionExpires = 90 * time.Second

// Session timers (RFC 4028) are kept per dialog. Toward the caller the PBX
// is the UAS: when the caller asks for a session timer, the 2xx makes the
// caller the refresher, the PBX answers its refreshes (an UPDATE without
// SDP is answered at once; a re-INVITE or UPDATE with SDP goes through to
// the callee as usual), and a call whose refresh does not come in time is
// hung up. Toward the callee the PBX does not offer timers (no "Supported:
// timer"), so a callee that wants one refreshes by itself, and its
// refreshes are passed through to the caller like any re-INVITE or UPDATE.

// sessionExpires parses a Session-Expires (or x) header: the interval and
// whether there was one. A malformed value counts as absent.
func sessionExpires(req *sip.Request) (time.Duration, bool) {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x")
	}
	if h == nil {
		return 0, false
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// supportsTimer reports whether req lists "timer" in Supported or Require.
func supportsTimer(req *sip.Request) bool {
	for _, name := range []string{"Supported", "k", "Require"} {
		for _, h := range req.GetHeaders(name) {
			for _, opt := range strings.Split(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(opt), "timer") {
					return true
				}
			}
		}
	}
	return false
}

// addTimerHeaders adds to a 2xx for the caller the headers that run a
// session timer with the caller as refresher.
func addTimerHeaders(res *sip.Response, interval time.Duration) {
	res.AppendHeader(sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=uac", int(interval/time.Second))))
	res.AppendHeader(sip.NewHeader("Require", "timer"))
}

// tooSmall answers 422 when req asks for a session interval below the
// minimum (RFC 4028 section 8.1). It reports whether it did.
func (m *Manager) tooSmall(tx sip.ServerTransaction, req *sip.Request) bool {
	d, ok := sessionExpires(req)
	if !ok || d >= m.d.MinSessionExpires {
		return false
	}
	res := sip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
	res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(m.d.MinSessionExpires/time.Second))))
	if tx != nil {
		tx.Respond(res)
	}
	return true
}

// armSessionTimer (re)starts the caller's session timer: without a refresh
// before the interval ends (less a margin, RFC 4028 section 10), the call
// is hung up. The caller holds s.mu.
func (s *session) armSessionTimer() {
	if s.sessionInterval <= 0 {
		return
	}
	wait := s.sessionInterval - min(32*time.Second, s.sessionInterval/3)
	if s.sessionTimer != nil {
		s.sessionTimer.Stop()
	}
	s.sessionTimer = time.AfterFunc(wait, func() {
		s.m.goWait(func() {
			s.log.Info("session timer expired", "interval", s.sessionInterval)
			s.hangup(context.WithoutCancel(s.ctx), "")
		})
	})
}
