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
// hung up. Toward the callee the PBX is the UAC and offers a timer with
// itself as refresher (refresh.go).

// headers is what requests and responses have in common here.
type headers interface {
	GetHeader(name string) sip.Header
	GetHeaders(name string) []sip.Header
}

// sessionExpires parses a Session-Expires (or x) header: the interval and
// whether there was one. A malformed value counts as absent.
func sessionExpires(msg headers) (time.Duration, bool) {
	d, _, ok := sessionExpiresRefresher(msg)
	return d, ok
}

// sessionExpiresRefresher is sessionExpires with the refresher parameter
// ("uac", "uas" or "").
func sessionExpiresRefresher(msg headers) (time.Duration, string, bool) {
	h := msg.GetHeader("Session-Expires")
	if h == nil {
		h = msg.GetHeader("x")
	}
	if h == nil {
		return 0, "", false
	}
	v, params, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, "", false
	}
	refresher := ""
	for _, p := range strings.Split(params, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return time.Duration(n) * time.Second, refresher, true
}

// minSE parses a Min-SE header; 0 when absent or malformed.
func minSE(msg headers) time.Duration {
	h := msg.GetHeader("Min-SE")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// supportsTimer reports whether req lists "timer" in Supported or Require.
func supportsTimer(req headers) bool {
	return lists(req, "timer", "Supported", "k", "Require")
}

// lists reports whether one of the named option-tag headers (Supported,
// Require, Allow...) of msg has option.
func lists(msg headers, option string, names ...string) bool {
	for _, name := range names {
		for _, h := range msg.GetHeaders(name) {
			for _, opt := range strings.Split(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(opt), option) {
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
	s.sessionTimer = s.m.clock.AfterFunc(wait, func() {
		s.m.goWait(func() {
			s.log.Info("session timer expired", "interval", s.sessionInterval)
			s.hangup(context.WithoutCancel(s.ctx), "")
		})
	})
}
