package routing

import (
	"context"
	"sync"
)

// cache holds values built on first use, one build per key at a time:
// callers that ask for a key being built wait for that build instead of
// starting their own. A build that fails is not kept, so the next caller
// tries again. A build that overlapped a drop is handed to the callers that
// waited for it but not kept, because it may have read part of the
// configuration from before the change.
type cache[K comparable, V any] struct {
	mu  sync.Mutex
	gen uint64 // counts drops, to spot a build that overlapped one
	m   map[K]*slot[V]
}

type slot[V any] struct {
	ready chan struct{} // closed when v and err are set
	v     V
	err   error
}

// get returns the value of k, building it with build when it is not held.
// A waiter whose ctx ends first returns ctx's error.
func (c *cache[K, V]) get(ctx context.Context, k K, build func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	s, ok := c.m[k]
	if ok {
		c.mu.Unlock()
		select {
		case <-s.ready:
			return s.v, s.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	if c.m == nil {
		c.m = make(map[K]*slot[V])
	}
	s = &slot[V]{ready: make(chan struct{})}
	c.m[k] = s
	gen := c.gen
	c.mu.Unlock()

	defer func() {
		close(s.ready)
		c.mu.Lock()
		if (s.err != nil || c.gen != gen) && c.m[k] == s {
			delete(c.m, k)
		}
		c.mu.Unlock()
	}()
	s.err = errBuildPanicked
	s.v, s.err = build(ctx)
	return s.v, s.err
}

// drop forgets k.
func (c *cache[K, V]) drop(k K) {
	c.mu.Lock()
	c.gen++
	delete(c.m, k)
	c.mu.Unlock()
}

// dropAll forgets every key.
func (c *cache[K, V]) dropAll() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}
