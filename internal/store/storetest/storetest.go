// Package storetest opens real databases for tests: a fresh SQLite file in
// the test's temp folder, and a fresh PostgreSQL database on the server that
// GOPBX_TEST_POSTGRES names (a postgres:// URL to a throwaway cluster that
// `make test` starts). Tests that take a store run once per dialect through
// Each, so one suite covers both.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/store"
)

// EnvPostgres names the variable holding the PostgreSQL server URL.
const EnvPostgres = "GOPBX_TEST_POSTGRES"

// EnvRequirePostgres, when "1", turns a missing server into a failure so that
// CI cannot pass while skipping half the suite.
const EnvRequirePostgres = "GOPBX_TEST_REQUIRE_POSTGRES"

var dbSeq atomic.Int64

// Each runs fn as a subtest per dialect: "sqlite" always, "postgres" when a
// server is configured (skipped with a message otherwise).
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}

// DSNs returns one fresh DSN per available dialect, by name, for tests that
// open the database themselves (the e2e tests that boot Main).
func DSNs(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{"sqlite": filepath.Join(t.TempDir(), "gopbx.db")}
	if dsn, ok := postgresDSN(t); ok {
		out["postgres"] = dsn
	}
	return out
}

// OpenSQLite opens a fresh SQLite database in t's temp folder.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "gopbx.db"))
}

// OpenPostgres opens a fresh PostgreSQL database, or skips t when no server
// is configured.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	dsn, ok := postgresDSN(t)
	if !ok {
		t.Skipf("no PostgreSQL: set %s (make test does)", EnvPostgres)
	}
	return open(t, dsn)
}

// PostgresDSN returns a DSN of a fresh, empty PostgreSQL database, or skips.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn, ok := postgresDSN(t)
	if !ok {
		t.Skipf("no PostgreSQL: set %s (make test does)", EnvPostgres)
	}
	return dsn
}

func postgresDSN(t testing.TB) (string, bool) {
	t.Helper()
	server := os.Getenv(EnvPostgres)
	if server == "" {
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatalf("%s is required but not set", EnvPostgres)
		}
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	name := fmt.Sprintf("gopbx_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, dbSeq.Add(1))
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a, err := sql.Open("pgx", server)
		if err != nil {
			return
		}
		defer a.Close()
		a.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String(), true
}

func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DSN: dsn})
	if err != nil {
		t.Fatalf("open %s: %v", strings.SplitN(dsn, "?", 2)[0], err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
