package store

import (
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// snowflakeEpoch is PortSIP's ID epoch, 2018-01-01T00:00:00Z, in Unix ms.
const snowflakeEpoch = 1514764800000

// idGen makes snowflake IDs: 41 bits of milliseconds since snowflakeEpoch,
// 10 bits of node and 12 bits of sequence. It is safe for concurrent use.
// When the sequence of one millisecond is used up, or the clock steps back,
// it borrows from the next millisecond rather than repeat an ID.
type idGen struct {
	mu   sync.Mutex
	node int64
	now  func() time.Time
	last int64 // last millisecond used
	seq  int64
}

func newIDGen(node int, now func() time.Time) *idGen {
	return &idGen{node: int64(node) & 0x3ff, now: now}
}

func (g *idGen) next() pbx.ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.now().UnixMilli() - snowflakeEpoch
	if ms <= g.last {
		g.seq++
		if g.seq > 0xfff {
			g.last++
			g.seq = 0
		}
	} else {
		g.last, g.seq = ms, 0
	}
	return pbx.ID(g.last<<22 | g.node<<12 | g.seq)
}
