package api

import (
	"sync"
	"time"
)

// rateLimiter counts requests per key in fixed windows. It forgets idle keys
// at each new window so memory stays bounded by the active clients.
type rateLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	start  time.Time
	counts map[string]int
}

func newRateLimiter(limit int, window time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, now: now, counts: map[string]int{}}
}

func (l *rateLimiter) allow(key string) bool {
	if l.limit < 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); now.Sub(l.start) >= l.window {
		l.start = now
		clear(l.counts)
	}
	l.counts[key]++
	return l.counts[key] <= l.limit
}

// loginGuard throttles failed logins per account and per client address. An
// account or address with too many failures in the window is blocked for a
// while; a success clears the account's count.
type loginGuard struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	block   time.Duration
	now     func() time.Time
	entries map[string]*failEntry
}

type failEntry struct {
	first   time.Time
	count   int
	blocked time.Time // blocked until
}

func newLoginGuard(limit int, window, block time.Duration, now func() time.Time) *loginGuard {
	return &loginGuard{limit: limit, window: window, block: block, now: now, entries: map[string]*failEntry{}}
}

// blocked reports whether any of the keys is blocked now.
func (g *loginGuard) blocked(keys ...string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	for _, k := range keys {
		if e := g.entries[k]; e != nil && now.Before(e.blocked) {
			return true
		}
	}
	return false
}

// fail counts a failure against key, with limit failures allowed per window.
func (g *loginGuard) fail(key string, limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(g.entries) > 100000 {
		g.sweep(now)
	}
	e := g.entries[key]
	if e == nil || now.Sub(e.first) > g.window {
		e = &failEntry{first: now}
		g.entries[key] = e
	}
	e.count++
	if e.count >= limit {
		e.blocked = now.Add(g.block)
	}
}

func (g *loginGuard) succeed(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.entries, key)
}

func (g *loginGuard) sweep(now time.Time) {
	for k, e := range g.entries {
		if now.Sub(e.first) > g.window && now.After(e.blocked) {
			delete(g.entries, k)
		}
	}
}
