package signaling

import (
	"strconv"
	"sync"
	"time"
)

// maxNonceCounts bounds the memory of nonce counts. Only answers with the
// right password add an entry, so a stranger cannot fill it; a full table
// forgets the entries it learned first, whose nonces are the nearest to
// going stale.
const maxNonceCounts = 1 << 18

// nonceCounts remembers, for each nonce and client nonce in use, the
// highest nonce count (nc) accepted, so that an Authorization replayed
// with the same or a lower nc is refused (RFC 7616 section 3.4 and 5.11).
// Nonces stay stateless (see nonces): an entry only lives as long as its
// nonce is fresh, after which the nonce gets a stale=true challenge anyway.
// The key holds the client nonce because stateless nonces made in the same
// millisecond for the same realm are equal: two phones answering one such
// nonce each count from 1. It is safe for concurrent use.
type nonceCounts struct {
	mu    sync.Mutex
	max   int
	seen  map[string]ncEntry
	order []ncKey // keys by first use, for expiry and eviction
}

type ncEntry struct {
	nc      uint64
	expires time.Time
}

type ncKey struct {
	key     string
	expires time.Time
}

func newNonceCounts(max int) *nonceCounts {
	return &nonceCounts{max: max, seen: map[string]ncEntry{}}
}

// use records nc (8 hex digits, checked by validNC) for the nonce, client
// nonce and username, with a memory until expires, and reports whether it
// is higher than every nc accepted for them before.
func (n *nonceCounts) use(nonce, cnonce, username, nc string, now, expires time.Time) bool {
	v, err := strconv.ParseUint(nc, 16, 32)
	if err != nil {
		return false
	}
	key := nonce + "\x00" + cnonce + "\x00" + username
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.seen[key]
	live := ok && e.expires.After(now)
	if live && v <= e.nc {
		return false
	}
	room := 1 // a new key needs a place
	if live {
		room = 0
		expires = e.expires // the nonce's lifetime does not grow with use
	}
	n.pruneLocked(now, room)
	if !live {
		n.order = append(n.order, ncKey{key, expires})
	}
	n.seen[key] = ncEntry{nc: v, expires: expires}
	return true
}

// pruneLocked drops expired entries and, until room more fit within max,
// the oldest ones. n.mu is held.
func (n *nonceCounts) pruneLocked(now time.Time, room int) {
	i := 0
	for ; i < len(n.order); i++ {
		k := n.order[i]
		e, ok := n.seen[k.key]
		current := ok && e.expires.Equal(k.expires) // else the key was re-added later
		if current && k.expires.After(now) && len(n.seen)+room <= n.max {
			break
		}
		if current {
			delete(n.seen, k.key)
		}
	}
	if i > 0 {
		n.order = append(n.order[:0], n.order[i:]...)
	}
}
