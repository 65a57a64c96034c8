package signaling

import (
	"hash/maphash"
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
//
// An entry also remembers which transaction last raised its count, so that
// a retransmission of that very request (same nc, same transaction, within
// resendWindow) is told apart from a replay: the edge answers a REGISTER
// without keeping its transaction (see Server.register), so retransmissions
// of an accepted one reach it again.
type nonceCounts struct {
	mu    sync.Mutex
	max   int
	seed  maphash.Seed
	seen  map[string]ncEntry
	order []ncKey // keys by first use, for expiry and eviction
}

type ncEntry struct {
	nc      uint64
	expires time.Time
	tx      uint64    // hash of the transaction that set nc (txTag)
	at      time.Time // when it did
}

// resendWindow is how long after a request was accepted its
// retransmissions are recognised as such: 64*T1, the longest a client
// retransmits a non-INVITE request (RFC 3261 Timer F), and the time sipgo
// would have kept its transaction (Timer J).
const resendWindow = 64 * 500 * time.Millisecond

// ncVerdict is what nonceCounts.use says of a nonce count.
type ncVerdict int

const (
	ncFresh  ncVerdict = iota // higher than any accepted before: accepted now
	ncResent                  // the same request as the one that set the count, resent within resendWindow
	ncReplay                  // not higher, and not a retransmission
)

func (v ncVerdict) String() string {
	switch v {
	case ncFresh:
		return "fresh"
	case ncResent:
		return "resent"
	}
	return "replay"
}

type ncKey struct {
	key     string
	expires time.Time
}

func newNonceCounts(max int) *nonceCounts {
	return &nonceCounts{max: max, seed: maphash.MakeSeed(), seen: map[string]ncEntry{}}
}

// txTag hashes what names one transaction of a client (RFC 3261 section
// 17.2.3: the Via branch; with the Call-ID and CSeq, so that a client that
// reuses branches still differs per request) for use. It is not a security
// check: a replayer copies all three; what keeps a replay harmless is that
// a resent REGISTER changes nothing (registrar.Request.Resent).
func (n *nonceCounts) txTag(branch, callID string, cseq uint32) uint64 {
	var h maphash.Hash
	h.SetSeed(n.seed)
	h.WriteString(branch)
	h.WriteByte(0)
	h.WriteString(callID)
	h.WriteByte(0)
	var b [4]byte
	b[0], b[1], b[2], b[3] = byte(cseq>>24), byte(cseq>>16), byte(cseq>>8), byte(cseq)
	h.Write(b[:])
	return h.Sum64()
}

// use records nc (8 hex digits, checked by validNC) for the nonce, client
// nonce and username, sent in the transaction tx (txTag; 0 when unknown),
// with a memory until expires. It says ncFresh when nc is higher than every
// nc accepted for them before, ncResent when it equals the highest and tx is
// the transaction that set it less than resendWindow ago, ncReplay
// otherwise.
func (n *nonceCounts) use(nonce, cnonce, username, nc string, tx uint64, now, expires time.Time) ncVerdict {
	v, err := strconv.ParseUint(nc, 16, 32)
	if err != nil {
		return ncReplay
	}
	key := nonce + "\x00" + cnonce + "\x00" + username
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.seen[key]
	live := ok && e.expires.After(now)
	if live && v <= e.nc {
		if v == e.nc && tx != 0 && tx == e.tx && now.Sub(e.at) < resendWindow {
			return ncResent
		}
		return ncReplay
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
	n.seen[key] = ncEntry{nc: v, expires: expires, tx: tx, at: now}
	return ncFresh
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
