package signaling

import (
	"net/netip"
	"sync"
	"time"
)

// guard is the flood and brute-force defence of the SIP edge, keyed by
// source IP. A source that sends more than its rate is dropped packet by
// packet; a source that fails authentication too often in a window is
// blocked, which drops everything it sends until the block ends. Sources on
// the allow list are never limited or blocked. It is safe for concurrent use
// and cheap enough to run on every packet before parsing.
type guard struct {
	now        func() time.Time
	rate       float64 // tokens per second; 0 disables rate limiting
	burst      float64
	failLimit  int // failures that block; 0 disables
	failWindow time.Duration
	blockFor   time.Duration

	mu      sync.Mutex
	allow   []netip.Prefix // from the configuration and ACCEPT filters
	deny    []netip.Prefix // DENY filters wider than one address
	blocked map[netip.Addr]time.Time
	sources map[netip.Addr]*source
	lastGC  time.Time
}

type source struct {
	tokens      float64
	last        time.Time
	fails       int
	windowStart time.Time
}

func newGuard(now func() time.Time, rate float64, burst, failLimit int, failWindow, blockFor time.Duration, allow []netip.Prefix) *guard {
	return &guard{
		now: now, rate: rate, burst: float64(burst), failLimit: failLimit, failWindow: failWindow, blockFor: blockFor,
		allow: allow, blocked: map[netip.Addr]time.Time{}, sources: map[netip.Addr]*source{},
	}
}

func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// admit reports whether a packet from a may be processed: false when a is
// blocked or over its rate.
func (g *guard) admit(a netip.Addr) bool {
	a = a.Unmap()
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if inPrefixes(g.allow, a) {
		return true
	}
	if until, ok := g.blocked[a]; ok {
		if now.Before(until) {
			return false
		}
		delete(g.blocked, a)
	}
	if inPrefixes(g.deny, a) {
		return false
	}
	if g.rate <= 0 {
		return true
	}
	g.gc(now)
	s := g.sources[a]
	if s == nil {
		s = &source{tokens: g.burst, last: now}
		g.sources[a] = s
	}
	s.tokens += now.Sub(s.last).Seconds() * g.rate
	if s.tokens > g.burst {
		s.tokens = g.burst
	}
	s.last = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// isBlocked reports whether a is blocked now, without counting a packet.
func (g *guard) isBlocked(a netip.Addr) bool {
	a = a.Unmap()
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if inPrefixes(g.allow, a) {
		return false
	}
	until, ok := g.blocked[a]
	return (ok && now.Before(until)) || inPrefixes(g.deny, a)
}

// authFailed counts a failed authentication from a and returns the end of
// the block it starts, or the zero time when a is not (newly) blocked.
func (g *guard) authFailed(a netip.Addr) time.Time {
	a = a.Unmap()
	if g.failLimit <= 0 {
		return time.Time{}
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if inPrefixes(g.allow, a) {
		return time.Time{}
	}
	s := g.sources[a]
	if s == nil {
		s = &source{tokens: g.burst, last: now}
		g.sources[a] = s
	}
	if now.Sub(s.windowStart) > g.failWindow {
		s.windowStart, s.fails = now, 0
	}
	s.fails++
	if s.fails < g.failLimit {
		return time.Time{}
	}
	s.fails = 0
	until := now.Add(g.blockFor)
	g.blocked[a] = until
	return until
}

// setFilters replaces the blocks and allow entries that come from the
// stored IP filters: single-address DENY filters become blocks until their
// expiry (zero: for good), wider ones are kept as prefixes. Blocks not in
// deny are lifted, so that removing a filter unblocks its source.
func (g *guard) setFilters(cfgAllow, allow []netip.Prefix, deny map[netip.Prefix]time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.allow = append(append([]netip.Prefix(nil), cfgAllow...), allow...)
	g.deny = g.deny[:0]
	g.blocked = make(map[netip.Addr]time.Time, len(deny))
	for p, until := range deny {
		if until.IsZero() {
			until = time.Unix(1<<62, 0)
		}
		if p.IsSingleIP() {
			g.blocked[p.Addr()] = until
		} else {
			g.deny = append(g.deny, p)
		}
	}
}

// gc drops idle sources so that a scan of many addresses cannot grow the
// table for ever. It runs at most once a minute; g.mu is held.
func (g *guard) gc(now time.Time) {
	if now.Sub(g.lastGC) < time.Minute {
		return
	}
	g.lastGC = now
	for a, s := range g.sources {
		if now.Sub(s.last) > time.Minute && now.Sub(s.windowStart) > g.failWindow {
			delete(g.sources, a)
		}
	}
}
