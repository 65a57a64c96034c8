// Command loadusers fills a gopbx database for the benchmarks: the system
// admin (as gopbx serve makes it on a new database), one tenant and N users,
// written straight through the store while the server is stopped (no API, no
// argon2id: the users' web password hash is a placeholder, so they cannot
// log in to the API). Extensions are --first .. --first+N-1 with SIP
// password --password, where "{ext}" stands for the extension; every
// --disable-every'th user is disabled, for list filters to have something to
// filter.
//
//	loadusers --data DIR [--db DSN] [--users 100000] [--domain bench.test] [--first 100000] [--password x] [--disable-every 10] [--max-extensions 0]
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

	"github.com/gopbx/gopbx/bench/load"
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
	first := flag.Int("first", 100000, "first extension number")
	pw := flag.String("password", "x", `SIP password of each user; "{ext}" stands for its extension`)
	disableEvery := flag.Int("disable-every", 10, "disable every Nth user (0: none)")
	maxExt := flag.Int("max-extensions", 0, "the tenant's max_extensions (0: no limit)")
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
	o := options{dsn: *dsn, n: *users, domain: *domain, adminPW: *adminPW, first: *first, pw: *pw, disableEvery: *disableEvery, maxExt: *maxExt}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "loadusers:", err)
		os.Exit(1)
	}
}

type options struct {
	dsn, domain, adminPW, pw       string
	n, first, disableEvery, maxExt int
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	n, domain := o.n, o.domain
	db, err := store.Open(ctx, store.Config{DSN: o.dsn})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := api.Bootstrap(ctx, db, o.adminPW, api.DefaultHashParams); err != nil {
		return err
	}
	tn := pbx.Tenant{Name: "bench", Domain: domain, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: o.maxExt}
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
				ext := strconv.Itoa(o.first + i)
				u := pbx.User{Name: fmt.Sprintf("user%d", i), Enabled: o.disableEvery <= 0 || i%o.disableEvery != 0,
					Email: fmt.Sprintf("user%d@%s", i, domain), DisplayName: fmt.Sprintf("User %d", i), Role: pbx.RoleStandardUser,
					ExtensionNumber: ext, ExtensionPassword: load.Password(o.pw, ext), PasswordHash: "x"}
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
