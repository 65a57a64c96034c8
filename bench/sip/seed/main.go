// Command seed fills a new gopbx database for bench/sip/run.sh: the system
// admin, one tenant and extensions --first .. --first+--users-1 whose SIP
// password is --password with "{ext}" replaced by the extension, written
// straight through the store while the server is stopped (no API, no
// argon2id: the users' web password hash is a placeholder).
//
//	seed --data DIR [--domain bench.test] [--first 10000] [--users 10000] [--password 'pw{ext}']
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
	data := flag.String("data", "", "gopbx data folder (gopbx.db is made there)")
	domain := flag.String("domain", "bench.test", "tenant domain")
	first := flag.Int("first", 10000, "first extension")
	users := flag.Int("users", 10000, "how many extensions")
	pw := flag.String("password", "pw{ext}", "SIP password pattern")
	adminPW := flag.String("admin-password", "Admin#12345", "system admin password")
	flag.Parse()
	if *data == "" {
		fmt.Fprintln(os.Stderr, "seed: --data is required")
		os.Exit(2)
	}
	if err := run(context.Background(), *data, *domain, *first, *users, *pw, *adminPW); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, data, domain string, first, n int, pw, adminPW string) error {
	start := time.Now()
	if err := os.MkdirAll(data, 0o750); err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{DSN: filepath.Join(data, "gopbx.db")})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := api.Bootstrap(ctx, db, adminPW, api.DefaultHashParams); err != nil {
		return err
	}
	tn := pbx.Tenant{Name: "bench", Domain: domain, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: n + 10}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		return err
	}
	const workers = 2 // SQLite takes one writer at a time
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				ext := strconv.Itoa(first + i)
				u := pbx.User{Name: "u" + ext, Enabled: true, Email: "u" + ext + "@" + domain, DisplayName: "User " + ext,
					Role: pbx.RoleStandardUser, ExtensionNumber: ext, ExtensionPassword: load.Password(pw, ext), PasswordHash: "x"}
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
	fmt.Printf("seed: tenant %s (%s) with %d extensions in %v\n", tn.ID, domain, n, time.Since(start).Round(time.Millisecond))
	return nil
}
