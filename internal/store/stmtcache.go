package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
)

// maxCachedStmts bounds the statement cache. Queries are written as
// constants, but list filters build their text from the request, so the set
// of texts is not closed: past the bound a new text runs unprepared.
const maxCachedStmts = 512

// pool is a database/sql connection pool with its statement cache: it
// remembers, per query text as the store writes it ('?'
// placeholders), the text rebound to the dialect and, when the driver gains
// from it, a prepared *sql.Stmt. SQLite spends most of a small query parsing
// its SQL, and modernc's driver keeps a statement compiled for as long as
// the *sql.Stmt lives, so the cache prepares SQLite statements. pgx already
// keeps a per-connection cache of prepared statements, which it invalidates
// when another node migrates the schema, so PostgreSQL statements are only
// rebound once.
//
// Statements are prepared lazily, on first use outside a transaction (see
// get), and never closed before the DB: database/sql prepares each on the
// pooled connections that use it. It is safe for concurrent use.
type pool struct {
	db      *sql.DB
	d       dialect
	prepare bool
	m       sync.Map // string -> *cachedStmt
	n       atomic.Int32
}

type cachedStmt struct {
	text string    // rebound for the dialect
	stmt *sql.Stmt // nil when not prepared
}

func newPool(db *sql.DB, d dialect, prepare bool) *pool {
	return &pool{db: db, d: d, prepare: prepare}
}

// lookup returns the cached entry of q, or nil.
func (c *pool) lookup(q string) *cachedStmt {
	if v, ok := c.m.Load(q); ok {
		return v.(*cachedStmt)
	}
	return nil
}

// get returns the entry of q, preparing it when it is new and cacheable. It
// must not be called while the caller holds a connection of the pool in a
// transaction: preparing takes a connection, and a full pool would wait on
// itself. A failed prepare leaves q uncached and returns an entry without a
// statement, so that the caller runs the text and reports the driver's error
// as it always has.
func (c *pool) get(ctx context.Context, q string) *cachedStmt {
	if e := c.lookup(q); e != nil {
		return e
	}
	return c.add(ctx, q)
}

func (c *pool) add(ctx context.Context, q string) *cachedStmt {
	e := &cachedStmt{text: c.d.rebind(q)}
	if !cacheable(q) || c.n.Load() >= maxCachedStmts {
		return e
	}
	if c.prepare {
		// No lock is held while preparing waits for a connection: two
		// goroutines may prepare one text, and the second closes its own.
		st, err := c.db.PrepareContext(ctx, e.text)
		if err != nil {
			return e
		}
		e.stmt = st
	}
	if old, loaded := c.m.LoadOrStore(q, e); loaded {
		if e.stmt != nil {
			e.stmt.Close()
		}
		return old.(*cachedStmt)
	}
	c.n.Add(1)
	return e
}

// close closes every prepared statement and the pool. The DB is closing:
// no query runs.
func (c *pool) close() error {
	c.m.Range(func(_, v any) bool {
		if e := v.(*cachedStmt); e.stmt != nil {
			e.stmt.Close()
		}
		return true
	})
	return c.db.Close()
}

// cacheable reports whether q is a single data statement worth keeping:
// schema changes run once and would leave dead statements behind.
func cacheable(q string) bool {
	switch firstWord(q) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
	default:
		return false
	}
	// A trailing statement would be run by the driver's script path anyway.
	i := strings.IndexByte(q, ';')
	return i < 0 || strings.TrimSpace(q[i+1:]) == ""
}

// isRead reports whether q only reads: it starts with SELECT.
func isRead(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n(")
	return len(q) > 6 && strings.EqualFold(q[:6], "SELECT") && !isLetter(q[6])
}

// firstWord returns the first keyword of q in upper case.
func firstWord(q string) string {
	q = strings.TrimLeft(q, " \t\r\n(")
	end := 0
	for end < len(q) && isLetter(q[end]) {
		end++
	}
	return strings.ToUpper(q[:end])
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
