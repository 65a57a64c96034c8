package routing

import (
	"sync"

	"github.com/gopbx/gopbx/internal/pbx"
)

// shares counts each tenant's live calls on each trunk, so that a tenant
// stays within its share of a shared trunk (the assignment's concurrency,
// PortSIP's per-tenant limit); the trunk's own limit is the trunk
// registry's. A call over the share fails over to the next route like a
// trunk at its limit.
type shares struct {
	mu   sync.Mutex
	live map[shareKey]int
}

type shareKey struct {
	tenant pbx.TenantID
	trunk  pbx.ID
}

// bind returns an Acquire for a route of tenant on trunk that takes one of
// the tenant's share (limit; 0 is no limit) and then the trunk's own
// (next, nil when the trunk has none).
func (s *shares) bind(tenant pbx.TenantID, trunk pbx.ID, limit int, next func() (func(), bool)) func() (func(), bool) {
	if limit <= 0 {
		return next
	}
	k := shareKey{tenant, trunk}
	return func() (func(), bool) {
		s.mu.Lock()
		if s.live[k] >= limit {
			s.mu.Unlock()
			return nil, false
		}
		if s.live == nil {
			s.live = map[shareKey]int{}
		}
		s.live[k]++
		s.mu.Unlock()
		release := func() {
			s.mu.Lock()
			if s.live[k]--; s.live[k] <= 0 {
				delete(s.live, k)
			}
			s.mu.Unlock()
		}
		if next == nil {
			return release, true
		}
		inner, ok := next()
		if !ok {
			release()
			return nil, false
		}
		return func() { inner(); release() }, true
	}
}
