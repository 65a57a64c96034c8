package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// benchUsers is how many users the list benchmark's tenant holds.
const benchUsers = 100_000

// seedUsers creates n users in a new tenant without an extension limit,
// through CreateUser from several goroutines, and returns the tenant.
func seedUsers(b *testing.B, db *store.DB, n int) pbx.TenantID {
	b.Helper()
	ctx := context.Background()
	tn := pbx.Tenant{Name: "bench", Domain: "bench.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		b.Fatal(err)
	}
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				u := pbx.User{Name: fmt.Sprintf("user%d", i), Enabled: i%10 != 0, Email: fmt.Sprintf("user%d@bench.test", i),
					DisplayName: fmt.Sprintf("User %d", i), Role: pbx.RoleStandardUser, ExtensionNumber: fmt.Sprintf("%d", 100000+i),
					ExtensionPassword: "x", PasswordHash: "x"}
				if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return tn.ID
}

// BenchmarkListUsersFilteredPage lists a filtered, ordered page of 100 users
// out of 100,000 in one tenant, as the users page of the web portal does,
// and reports the 99th percentile latency of one list call.
func BenchmarkListUsersFilteredPage(b *testing.B) {
	filter, err := query.Parse("startswith(display_name,'User 1') and enabled eq true")
	if err != nil {
		b.Fatal(err)
	}
	order, err := query.ParseOrderBy("display_name")
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, db *store.DB, settle func()) {
		start := time.Now()
		tenant := seedUsers(b, db, benchUsers)
		if settle != nil {
			settle()
		}
		b.Logf("%s: seeded %d users in %v", db.Dialect(), benchUsers, time.Since(start).Round(time.Millisecond))
		b.Run("page", func(b *testing.B) {
			ctx := context.Background()
			durations := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				// Walk the first pages so that skip is exercised too.
				t0 := time.Now()
				users, total, err := db.ListUsers(ctx, tenant, store.ListOptions{Filter: filter, OrderBy: order, Top: 100, Skip: (i % 5) * 100})
				durations = append(durations, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if len(users) != 100 || total != 10_000 {
					b.Fatalf("page of %d users, total %d; want 100 of 10000", len(users), total)
				}
			}
			slices.Sort(durations)
			p99 := durations[(len(durations)*99)/100]
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
		})
	}
	b.Run("sqlite", func(b *testing.B) { run(b, storetest.OpenSQLite(b), nil) })
	b.Run("postgres", func(b *testing.B) {
		dsn := storetest.PostgresDSN(b)
		db, err := store.Open(context.Background(), store.Config{DSN: dsn})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		// Autovacuum would vacuum and analyze a table that just took 100,000
		// rows; do it now so that the measurement does not race it.
		run(b, db, func() {
			raw, err := sql.Open("pgx", dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec("VACUUM ANALYZE users"); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// TestListUsersDisplayNamePrefix checks that the display_name_key ranges the
// benchmark relies on give the same answers as the startswith they replace.
func TestListUsersDisplayNamePrefix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "a.test")
		names := []string{"Al", "al bundy", "ALAN", "Alzheimer", "Ałbert", "Am", "B", "alpha\\x", "al_x", "al%x", ""}
		for i, n := range names {
			u := pbx.User{Name: "u" + string(rune('a'+i)), Email: "x@a.test", DisplayName: n, Role: pbx.RoleStandardUser,
				ExtensionNumber: "10" + string(rune('0'+i)), ExtensionPassword: "x", Enabled: true}
			if err := db.CreateUser(ctx, a, &u); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			filter string
			want   int
		}{
			{"startswith(display_name,'al')", 7},
			{"startswith(display_name,'AL') and enabled eq true", 7},
			{"enabled eq true and startswith(display_name,'al ')", 1},
			{"startswith(display_name,'al_')", 1},
			{"startswith(display_name,'al%')", 1},
			{"startswith(display_name,'ałb')", 1},
			{"startswith(display_name,'am') or startswith(display_name,'b')", 2},
			{"startswith(display_name,'z')", 0},
			{"not startswith(display_name,'al')", 4},
		} {
			f, err := query.Parse(c.filter)
			if err != nil {
				t.Fatal(err)
			}
			if _, total, err := db.ListUsers(ctx, a, store.ListOptions{Filter: f}); err != nil || total != c.want {
				t.Errorf("%s: total %d, %v; want %d", c.filter, total, err, c.want)
			}
		}
	})
}

func TestCreateUserExtensionQuota(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tn := pbx.Tenant{Name: "small", Domain: "small.test", Enabled: true, Timezone: "UTC", MaxExtensions: 1}
		if err := db.CreateTenant(ctx, &tn); err != nil {
			t.Fatal(err)
		}
		u := pbx.User{Name: "one", Email: "o@s.test", DisplayName: "One", Role: pbx.RoleStandardUser, ExtensionNumber: "101", ExtensionPassword: "x"}
		if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
			t.Fatal(err)
		}
		u2 := u
		u2.Name, u2.ExtensionNumber = "two", "102"
		if err := db.CreateUser(ctx, tn.ID, &u2); pbx.ErrorCode(err) != pbx.EFORBIDDEN {
			t.Fatalf("over quota: %v", err)
		}
		if _, err := db.Extension(ctx, tn.ID, "102"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("refused create claimed its number: %v", err)
		}
	})
}
