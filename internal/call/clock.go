package call

import (
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// clock makes the timers of the Manager's calls: ring timeouts, session
// timers and the retransmissions the PBX does itself (2xx and reliable
// provisionals). The Manager uses the real one; tests swap in a fake one
// (export_test.go) so that timer behaviour is checked without sleeping.
type clock interface {
	AfterFunc(d time.Duration, f func()) timer
}

// timer is a running clock timer.
type timer interface {
	Stop() bool
}

type realClock struct{}

func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// retransmission resends a message on the Manager's clock at T1, 2*T1,
// 4*T1... (capped at limit when limit > 0) until stopped, and calls
// giveUp when it was never stopped within 64*T1 (RFC 3261 13.3.1.4 for
// 2xx, RFC 3262 section 3 for reliable provisionals). Its methods are safe
// for concurrent use.
type retransmission struct {
	c      clock
	resend func()
	giveUp func()
	limit  time.Duration

	mu       sync.Mutex
	stopped  bool
	interval time.Duration
	next     timer
	deadline timer
}

// retransmit starts a retransmission; the first resend comes after T1.
// A nil resend only waits for the stop (a reliable transport resends by
// itself).
func (m *Manager) retransmit(resend, giveUp func(), limit time.Duration) *retransmission {
	r := &retransmission{c: m.clock, resend: resend, giveUp: giveUp, limit: limit, interval: sip.T1}
	r.mu.Lock()
	if resend != nil {
		r.next = r.c.AfterFunc(r.interval, r.fire)
	}
	r.deadline = r.c.AfterFunc(64*sip.T1, r.expire)
	r.mu.Unlock()
	return r
}

func (r *retransmission) fire() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.interval *= 2
	if r.limit > 0 {
		r.interval = min(r.interval, r.limit)
	}
	r.next = r.c.AfterFunc(r.interval, r.fire)
	r.mu.Unlock()
	r.resend()
}

func (r *retransmission) expire() {
	if r.stop() && r.giveUp != nil {
		r.giveUp()
	}
}

// stop ends the retransmission. It reports whether it was running.
func (r *retransmission) stop() bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return false
	}
	r.stopped = true
	if r.next != nil {
		r.next.Stop()
	}
	r.deadline.Stop()
	return true
}
