package media

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// DefaultPacerPeriod is a Pacer's tick when its config gives none: the
// usual 20 ms frame, so that all streams wake together. A shorter tick
// splits them into groups a tick apart (each keeps the phase of the tick
// it started on): smaller bursts for a little more CPU (BenchmarkPacing:
// 300 streams cost 1.8 us a frame on 20 ms ticks, 2.7 us on 5 ms ones, 4.7
// us with a timer each).
const DefaultPacerPeriod = 20 * time.Millisecond

// pacerSlots is how many ticks ahead a stream can wait for at once: the
// longest frame a Pacer paces.
const pacerSlots = 16

// errPacerStopped is what Pacer.wait returns once Run has ended: the
// stream goes on with a timer of its own.
var errPacerStopped = errors.New("media pacer stopped")

// PacerConfig is what NewPacer needs.
type PacerConfig struct {
	// Period is the tick; zero means DefaultPacerPeriod. Streams whose
	// frame is a whole number of ticks (up to 16) are paced by it; the
	// others keep a timer of their own.
	Period time.Duration
	// Ticks, when set, drives the Pacer instead of a time.Ticker of
	// Period: each value is the time of a tick, and a value more than a
	// period after the one before counts the ticks missed in between
	// (tests send them by hand).
	Ticks <-chan time.Time
}

// Pacer is one shared clock for the streams the PBX sends itself
// (applications' Endpoints, music on hold): one goroutine ticks every
// Period and wakes every stream due on that tick at once, instead of one
// timer per stream waking its goroutine at its own moment of the frame.
// 300 streams of 20 ms frames then cost the scheduler one wake-up of the
// process per frame rather than 300 spread over it; the last stream of a
// burst leaves a millisecond or two after the first (each encodes and
// sends one packet), and the streams wake in much the same order every
// tick.
//
// Run does the ticking; until it runs, streams paced by the Pacer wait,
// and once it returns they fall back to timers of their own. Its methods
// are safe for concurrent use.
type Pacer struct {
	period time.Duration
	ticks  <-chan time.Time
	// cur is the latest tick. Waiters block on the channel of the tick
	// they wait for, which Run closes when it publishes that tick: a
	// broadcast that reaches every waiter, however many, with one close.
	cur atomic.Pointer[tick]
}

// tick is one tick of a Pacer; it does not change once published.
type tick struct {
	n uint64 // ticks since the Pacer was made, missed ones included
	// next[i] is closed on the tick of the next pacerSlots whose number is
	// i modulo pacerSlots (or when Run ends).
	next    [pacerSlots]chan struct{}
	stopped bool // Run has ended: there is no next tick
}

// NewPacer returns a Pacer; Run starts it.
func NewPacer(cfg PacerConfig) *Pacer {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPacerPeriod
	}
	p := &Pacer{period: cfg.Period, ticks: cfg.Ticks}
	t := &tick{}
	for i := range t.next {
		t.next[i] = make(chan struct{})
	}
	p.cur.Store(t)
	return p
}

// Period is the Pacer's tick.
func (p *Pacer) Period() time.Duration { return p.period }

// Run ticks until ctx ends, then returns nil; streams it paced go on with
// timers of their own. Call it once, from the goroutine of whoever owns
// the Pacer.
func (p *Pacer) Run(ctx context.Context) error {
	ticks := p.ticks
	if ticks == nil {
		t := time.NewTicker(p.period)
		defer t.Stop()
		ticks = t.C
	}
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			p.advance(0, true)
			return nil
		case t := <-ticks:
			// A ticker drops the ticks its reader was too late for (a stall
			// of the process): count them, so that streams see the time
			// that passed and restart rather than fall behind for good.
			k := uint64(1)
			if d := t.Sub(last); !last.IsZero() && d > p.period {
				k = uint64((d + p.period/2) / p.period)
			}
			last = t
			p.advance(k, false)
		}
	}
}

// advance publishes the tick k ticks after the current one and wakes
// everyone waiting for it or one it skipped; stopped wakes everyone.
func (p *Pacer) advance(k uint64, stopped bool) {
	old := p.cur.Load()
	t := &tick{n: old.n + k, next: old.next, stopped: stopped}
	if stopped {
		k = pacerSlots
	}
	for i := uint64(1); i <= min(k, pacerSlots); i++ {
		t.next[(old.n+i)%pacerSlots] = make(chan struct{}) // for the tick pacerSlots later
	}
	// Published before the close, so that a woken waiter finds its tick.
	p.cur.Store(t)
	for i := uint64(1); i <= min(k, pacerSlots); i++ {
		close(old.next[(old.n+i)%pacerSlots])
	}
}

// ticksPer is how many ticks a frame of ms milliseconds lasts, or 0 when
// the Pacer cannot pace such frames (not a whole number of ticks, or more
// than pacerSlots).
func (p *Pacer) ticksPer(ms int) uint64 {
	d := time.Duration(ms) * time.Millisecond
	if p == nil || d <= 0 || d%p.period != 0 || d/p.period > pacerSlots {
		return 0
	}
	return uint64(d / p.period)
}

// now returns the current tick, and false once Run has ended.
func (p *Pacer) now() (uint64, bool) {
	t := p.cur.Load()
	return t.n, !t.stopped
}

// wait blocks until tick n (or a later one) has come and returns the
// current tick. It returns errPacerStopped once Run has ended, ErrClosed
// when done is closed and ctx's error when ctx ends.
func (p *Pacer) wait(ctx context.Context, done <-chan struct{}, n uint64) (uint64, error) {
	for {
		t := p.cur.Load()
		if t.stopped {
			return t.n, errPacerStopped
		}
		if t.n >= n {
			return t.n, nil
		}
		// The channel of tick n, or of the farthest tick there is one for.
		c := t.next[min(n, t.n+pacerSlots)%pacerSlots]
		select {
		case <-c:
		case <-done:
			return t.n, ErrClosed
		case <-ctx.Done():
			return t.n, ctx.Err()
		}
	}
}
