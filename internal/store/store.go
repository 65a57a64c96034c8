package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	// Drivers: modernc's SQLite needs no cgo; pgx's stdlib adapter gives
	// PostgreSQL the same database/sql face.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Config says which database to open and how.
type Config struct {
	// DSN is a postgres:// or postgresql:// URL for PostgreSQL; anything else
	// is the path of an SQLite file (":memory:" for a private in-memory one).
	DSN string
	// Node is the snowflake node number (0-1023) of this process.
	Node int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives migration and maintenance messages; nil discards them.
	Logger *slog.Logger
}

// DB is gopbx's database. It is safe for concurrent use.
type DB struct {
	// rd runs the statements that only read, and wr the rest and every
	// transaction. They are one pool but for an SQLite file, where wr has
	// a single connection: SQLite writes one transaction at a time, and a
	// writer that finds the lock taken sleeps for milliseconds in the busy
	// handler, where one waiting for the connection wakes as soon as it is
	// free. Readers of the WAL run beside the writer.
	rd, wr *pool
	d      dialect
	ids    *idGen
	now    func() time.Time
	log    *slog.Logger
}

// Open connects to the database that cfg names and runs the migrations that
// have not run yet.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &DB{ids: newIDGen(cfg.Node, now), now: now, log: log}
	var err error
	if isPostgres(cfg.DSN) {
		s.d = postgresDialect{}
		var db *sql.DB
		if db, err = sql.Open("pgx", cfg.DSN); err == nil {
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(20)
			s.rd = newPool(db, s.d, false)
			s.wr = s.rd
		}
	} else {
		s.d = sqliteDialect{}
		s.rd, s.wr, err = openSQLite(cfg.DSN)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openSQLite opens the read and write pools of an SQLite database. Every
// connection stays open, since opening one parses the whole schema.
func openSQLite(path string) (rd, wr *pool, err error) {
	d := sqliteDialect{}
	rdb, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, nil, err
	}
	if path == ":memory:" {
		// Each connection to ":memory:" is its own database: keep one.
		rdb.SetMaxOpenConns(1)
		rd = newPool(rdb, d, true)
		return rd, rd, nil
	}
	n := sqliteReaders()
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	wdb, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	return newPool(rdb, d, true), newPool(wdb, d, true), nil
}

// Close closes the database. No query may run during or after Close.
func (s *DB) Close() error {
	err := s.rd.close()
	if s.wr != s.rd {
		err = errors.Join(err, s.wr.close())
	}
	return err
}

// Dialect returns "sqlite" or "postgres".
func (s *DB) Dialect() string { return s.d.name() }

// NewID returns a fresh snowflake ID.
func (s *DB) NewID() pbx.ID { return s.ids.next() }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.rd.db.PingContext(ctx); err != nil {
		return err
	}
	return s.wr.db.PingContext(ctx)
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqliteReaders is the size of an SQLite file's read pool: a connection
// for every CPU, and as many again waiting on the disk.
func sqliteReaders() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// sqliteDSN adds the pragmas every connection needs: WAL so readers do not
// block the writer, foreign keys, a busy timeout instead of SQLITE_BUSY, and
// IMMEDIATE transactions so two writers never deadlock on lock upgrade.
func sqliteDSN(path string) string {
	p := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if path == ":memory:" {
		return "file::memory:?" + p
	}
	return "file:" + path + "?_pragma=journal_mode(WAL)&" + p
}

// tx runs fn in a transaction and commits when fn returns nil, so that a
// failed create or update leaves nothing half-written.
func (s *DB) tx(ctx context.Context, fn func(*Tx) error) error {
	sqltx, err := s.wr.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &Tx{tx: sqltx, s: s, c: s.wr}
	err = fn(t)
	if err != nil {
		sqltx.Rollback()
	} else if err = sqltx.Commit(); err != nil {
		err = fmt.Errorf("commit: %w", err)
	}
	// Prepare what the transaction ran unprepared now that it has given
	// its connection back (see pool.get).
	for _, q := range t.missed {
		s.wr.get(ctx, q)
	}
	return err
}

// Tx is a transaction with the dialect's placeholders applied and the
// statements of the cache bound to it.
type Tx struct {
	tx     *sql.Tx
	s      *DB
	c      *pool
	stmts  []txStmt
	missed []string
}

// txStmt is a cached statement bound to a transaction by tx.StmtContext,
// kept so that a statement run in a loop is bound once.
type txStmt struct {
	parent, stmt *sql.Stmt
}

// maxMissed bounds the texts a transaction remembers to prepare afterwards.
const maxMissed = 8

// stmt returns the statement to run q with in t, or nil and the rebound text
// when q is not prepared yet.
func (t *Tx) stmt(ctx context.Context, q string) (*sql.Stmt, string) {
	e := t.c.lookup(q)
	switch {
	case e == nil && !t.c.prepare:
		// Nothing to prepare: the entry needs no connection.
		e = t.c.add(ctx, q)
	case e == nil:
		if len(t.missed) < maxMissed && cacheable(q) {
			t.missed = append(t.missed, q)
		}
		return nil, t.c.d.rebind(q)
	}
	if e.stmt == nil {
		return nil, e.text
	}
	for _, ts := range t.stmts {
		if ts.parent == e.stmt {
			return ts.stmt, e.text
		}
	}
	st := t.tx.StmtContext(ctx, e.stmt)
	t.stmts = append(t.stmts, txStmt{parent: e.stmt, stmt: st})
	return st, e.text
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, text := t.stmt(ctx, q)
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, text, args...)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, text := t.stmt(ctx, q)
	if st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, text, args...)
}

func (s *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	e := s.wr.get(ctx, q)
	if e.stmt != nil {
		return e.stmt.ExecContext(ctx, args...)
	}
	return s.wr.db.ExecContext(ctx, e.text, args...)
}

// execOne runs q, an UPDATE or DELETE of at most one row. An error goes
// through conflict (nil: none), which turns a unique-key violation into the
// resource's ECONFLICT, and is wrapped with op; no row changed is
// ENOTFOUND naming what, so another tenant's ID is not found either.
func (s *DB) execOne(ctx context.Context, op, what string, conflict func(error) error, q string, args ...any) error {
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		if conflict != nil {
			err = conflict(err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pbx.Errorf(pbx.ENOTFOUND, "%s not found", what)
	}
	return nil
}

// poolFor returns the pool to run q on outside a transaction.
func (s *DB) poolFor(q string) *pool {
	if s.rd != s.wr && isRead(q) {
		return s.rd
	}
	return s.wr
}

func (s *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	p := s.poolFor(q)
	e := p.get(ctx, q)
	if e.stmt != nil {
		return e.stmt.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, e.text, args...)
}

func (s *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	p := s.poolFor(q)
	e := p.get(ctx, q)
	if e.stmt != nil {
		return e.stmt.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, e.text, args...)
}

// nowMS is the clock in the Unix milliseconds every timestamp column holds.
func (s *DB) nowMS() int64 { return s.now().UnixMilli() }

// notFound turns sql.ErrNoRows into an ENOTFOUND error naming what was missing.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return pbx.Errorf(pbx.ENOTFOUND, "%s not found", what)
	}
	return err
}

// isUniqueViolation reports whether err is a unique-constraint failure in
// either dialect, so that callers can answer ECONFLICT.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint failed") || // SQLite
		strings.Contains(m, "SQLSTATE 23505") // PostgreSQL
}

// msTime converts a stored millisecond timestamp to UTC time; 0 is the zero time.
func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
