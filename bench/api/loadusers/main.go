// Command loadusers fills a gopbx database with one tenant of many users,
// straight through the store (no API, no password hashing), while the
// server is stopped: bench/api/run.sh uses it to measure the server's
// memory with 100,000 users loaded.
//
//	loadusers --data DIR [--db DSN] [--users 100000] [--domain bench.test] [--admin-password PW]
//
// It makes the system admin with --admin-password (hashed with
// api.DefaultHashParams, as gopbx serve would) when the database is new.
// The users' web password hashes are a placeholder: they cannot log in.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/api"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

func main() {
	data := flag.String("data", "", "gopbx data folder (the SQLite file gopbx.db is made there)")
	dsn := flag.String("db", "", "database DSN (default: gopbx.db in --data)")
	users := flag.Int("users", 100_000, "how many users to create")
	domain := flag.String("domain", "bench.test", "domain of the tenant to create")
	adminPW := flag.String("admin-password", "Admin#12345", "system admin password on a new database")
	flag.Parse()
	if *dsn == "" {
		if *data == "" {
			fmt.Fprintln(os.Stderr, "loadusers: --data or --db is required")
			os.Exit(2)
		}
		if err := os.MkdirAll(*data, 0o750); err != nil {
			fmt.Fprintln(os.Stderr, "loadusers:", err)
			os.Exit(1)
		}
		*dsn = filepath.Join(*data, "gopbx.db")
	}
	if err := run(context.Background(), *dsn, *users, *domain, *adminPW); err != nil {
		fmt.Fprintln(os.Stderr, "loadusers:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dsn string, n int, domain, adminPW string) error {
	start := time.Now()
	db, err := store.Open(ctx, store.Config{DSN: dsn})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := api.Bootstrap(ctx, db, adminPW, api.DefaultHashParams); err != nil {
		return err
	}
	tn := pbx.Tenant{Name: "bench", Domain: domain, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		return err
	}
	// As the store's list benchmark does: CreateUser from several
	// goroutines (two on SQLite, which takes one writer at a time).
	workers := 16
	if db.Dialect() == "sqlite" {
		workers = 2
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				u := pbx.User{Name: fmt.Sprintf("user%d", i), Enabled: i%10 != 0, Email: fmt.Sprintf("user%d@%s", i, domain),
					DisplayName: fmt.Sprintf("User %d", i), Role: pbx.RoleStandardUser, ExtensionNumber: strconv.Itoa(100000 + i),
					ExtensionPassword: "x", PasswordHash: "x"}
				if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("loadusers: tenant %s (%s) with %d users in %v\n", tn.ID, domain, n, time.Since(start).Round(time.Millisecond))
	return nil
}
