package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
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
	db  *sql.DB
	d   dialect
	ids *idGen
	now func() time.Time
	log *slog.Logger
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
		s.db, err = sql.Open("pgx", cfg.DSN)
		if err == nil {
			s.db.SetMaxOpenConns(20)
			s.db.SetMaxIdleConns(20)
		}
	} else {
		s.d = sqliteDialect{}
		s.db, err = sql.Open("sqlite", sqliteDSN(cfg.DSN))
		if err == nil && cfg.DSN == ":memory:" {
			// Each connection to ":memory:" is its own database: keep one.
			s.db.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// Dialect returns "sqlite" or "postgres".
func (s *DB) Dialect() string { return s.d.name() }

// NewID returns a fresh snowflake ID.
func (s *DB) NewID() pbx.ID { return s.ids.next() }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

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
	sqltx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &Tx{tx: sqltx, s: s}
	if err := fn(t); err != nil {
		sqltx.Rollback()
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Tx is a transaction with the dialect's placeholders applied.
type Tx struct {
	tx *sql.Tx
	s  *DB
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.s.d.rebind(q), args...)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.s.d.rebind(q), args...)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.s.d.rebind(q), args...)
}

func (s *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.d.rebind(q), args...)
}

func (s *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.d.rebind(q), args...)
}

func (s *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.d.rebind(q), args...)
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
