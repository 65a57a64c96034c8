package main

// API benchmarks: each boots the real server (Main) on 127.0.0.1:0 with a
// temp data folder and plain HTTP, and drives it over real HTTP. They run
// once per database: SQLite always, PostgreSQL when GOPBX_TEST_POSTGRES is
// set. They assert nothing about time; bench/api/run.sh runs them all and
// prints the figures as a table.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/api"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

const (
	benchAdminPassword = "Admin#12345"
	benchUserPassword  = "User#2026pw"
)

// benchCheapHash is a cheap argon2id cost, set only on a second API server
// built over Main's database in the benchmarks (Main itself always uses
// api.DefaultHashParams).
var benchCheapHash = api.HashParams{Memory: 64, Time: 1, Threads: 1}

// benchEnvInt reads a positive integer from the environment, or def.
func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// benchMain boots Main on dsn with the rate limit off and no SIP or
// provisioning listeners, and closes it when b ends.
func benchMain(b *testing.B, dsn string) *Main {
	b.Helper()
	m := NewMain()
	args := []string{"--data", b.TempDir(), "--db", dsn, "--api-listen", "127.0.0.1:0", "--api-insecure-http",
		"--provision-listen", "", "--sip-udp", "", "--sip-tcp", "", "--sip-tls", "",
		"--admin-password", benchAdminPassword, "--api-rate-limit", "-1", "--log-level", "error"}
	if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
		b.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// benchClient is an HTTP client with enough idle connections for the
// concurrent benchmarks.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}

// benchDo sends a JSON request to base+path and decodes the answer into out.
func benchDo(base, method, path, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func benchLogin(base, user, pw, domain string) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	body := map[string]string{"username": user, "password": pw}
	if domain != "" {
		body["domain"] = domain
	}
	if _, err := benchDo(base, "POST", "/api/login", "", body, &tok); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// benchTenant creates a tenant through the API with maxExtensions (0: no
// limit) and switches the admin token into it. It returns the tenant's ID.
func benchTenant(b *testing.B, base, token, domain string, maxExtensions int) string {
	b.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": domain, "domain": domain, "timezone": "UTC", "currency": "USD", "region": "US",
		"max_extensions": maxExtensions}
	if _, err := benchDo(base, "POST", "/api/tenants", token, body, &out); err != nil {
		b.Fatal(err)
	}
	if _, err := benchDo(base, "POST", "/api/tenants/switch?id="+out.ID, token, nil, nil); err != nil {
		b.Fatal(err)
	}
	return out.ID
}

func benchUserBody(i int) map[string]any {
	return map[string]any{"name": fmt.Sprintf("user%d", i), "password": benchUserPassword,
		"email": fmt.Sprintf("user%d@bench.test", i), "display_name": fmt.Sprintf("User %d", i), "role": "StandardUser",
		"extension_number": strconv.Itoa(100000 + i), "extension_password": "Sip#pass123", "voicemail_pin": "1234"}
}

// percentiles reports the p50 and p99 of ds in milliseconds.
func percentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
	b.ReportMetric(ms(ds[min(len(ds)-1, len(ds)*99/100)]), "p99-ms")
}

// forEachDB runs fn as a sub-benchmark per available database.
func forEachDB(b *testing.B, fn func(b *testing.B, dsn string, vacuum func())) {
	b.Run("sqlite", func(b *testing.B) {
		fn(b, filepath.Join(b.TempDir(), "gopbx.db"), func() {})
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := storetest.PostgresDSN(b)
		fn(b, dsn, func() {
			// Autovacuum would analyze a table that just took many rows; do
			// it now so that the measurement does not race it.
			raw, err := sql.Open("pgx", dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec("VACUUM ANALYZE"); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkAPICreateUsers creates GOPBX_BENCH_CREATE_USERS (default 10,000)
// users through POST /api/users from GOPBX_BENCH_CLIENTS (default 4)
// concurrent clients, and reports the total time and users per second.
// "argon2id-default" is Main's own handler (api.DefaultHashParams);
// "argon2id-cheap" is a second API server over the same database with
// benchCheapHash, showing what the web password hash costs.
func BenchmarkAPICreateUsers(b *testing.B) {
	n := benchEnvInt("GOPBX_BENCH_CREATE_USERS", 10_000)
	clients := benchEnvInt("GOPBX_BENCH_CLIENTS", 4)
	forEachDB(b, func(b *testing.B, dsn string, _ func()) {
		m := benchMain(b, dsn)
		cheap := httptest.NewServer(api.New(api.Config{Version: Version, RateLimit: -1, Hash: benchCheapHash}, m.DB, nil, nil).Handler())
		b.Cleanup(cheap.Close)
		servers := []struct{ name, base string }{
			{"argon2id-default", "http://" + m.APIAddr()},
			{"argon2id-cheap", cheap.URL},
		}
		var seq atomic.Int64
		for _, srv := range servers {
			b.Run(srv.name, func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					token, err := benchLogin(srv.base, api.AdminName, benchAdminPassword, "")
					if err != nil {
						b.Fatal(err)
					}
					// A limited tenant, as in production: each create also checks
					// the quota (a COUNT of the tenant's users).
					benchTenant(b, srv.base, token, fmt.Sprintf("create%d.bench.test", seq.Add(1)), 1_000_000)
					b.StartTimer()
					start := time.Now()
					var next atomic.Int64
					var wg sync.WaitGroup
					errs := make(chan error, clients)
					for range clients {
						wg.Go(func() {
							for {
								i := int(next.Add(1)) - 1
								if i >= n {
									return
								}
								if _, err := benchDo(srv.base, "POST", "/api/users", token, benchUserBody(i), nil); err != nil {
									errs <- err
									return
								}
							}
						})
					}
					wg.Wait()
					close(errs)
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
					total := time.Since(start)
					b.ReportMetric(total.Seconds(), "total-s")
					b.ReportMetric(float64(n)/total.Seconds(), "users/s")
				}
			})
		}
	})
}

// BenchmarkAPILogin logs a tenant user in through POST /api/login with
// Main's hash (api.DefaultHashParams), one client at a time and from 4
// concurrent clients, and reports p50 and p99 latency.
func BenchmarkAPILogin(b *testing.B) {
	forEachDB(b, func(b *testing.B, dsn string, _ func()) {
		m := benchMain(b, dsn)
		base := "http://" + m.APIAddr()
		token, err := benchLogin(base, api.AdminName, benchAdminPassword, "")
		if err != nil {
			b.Fatal(err)
		}
		const domain = "login.bench.test"
		benchTenant(b, base, token, domain, 0)
		const users = 8
		for i := range users {
			if _, err := benchDo(base, "POST", "/api/users", token, benchUserBody(i), nil); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("sequential", func(b *testing.B) {
			ds := make([]time.Duration, 0, 1024)
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				if _, err := benchLogin(base, fmt.Sprintf("user%d", i%users), benchUserPassword, domain); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			percentiles(b, ds)
		})
		b.Run("concurrent4", func(b *testing.B) {
			// RunParallel starts parallelism x GOMAXPROCS goroutines: 4 or
			// the nearest multiple of GOMAXPROCS above.
			b.SetParallelism((4 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			var mu sync.Mutex
			var ds []time.Duration
			var who atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				user := fmt.Sprintf("user%d", who.Add(1)%users)
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					if _, err := benchLogin(base, user, benchUserPassword, domain); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				ds = append(ds, mine...)
				mu.Unlock()
			})
			percentiles(b, ds)
		})
	})
}

// BenchmarkAPIListUsersFilteredPage lists a filtered, ordered page of 100
// users out of 100,000 (GOPBX_BENCH_LIST_USERS) in one tenant through
// GET /api/users, walking the first five pages, and reports p50 and p99.
// The users are seeded straight into Main's database, as the store's
// benchmark does: through the API they would take minutes of hashing.
func BenchmarkAPIListUsersFilteredPage(b *testing.B) {
	n := benchEnvInt("GOPBX_BENCH_LIST_USERS", 100_000)
	forEachDB(b, func(b *testing.B, dsn string, vacuum func()) {
		m := benchMain(b, dsn)
		base := "http://" + m.APIAddr()
		token, err := benchLogin(base, api.AdminName, benchAdminPassword, "")
		if err != nil {
			b.Fatal(err)
		}
		// No extension limit: with one, every create counts the tenant's
		// users, and seeding 100,000 grows quadratic.
		id := benchTenant(b, base, token, "list.bench.test", 0)
		tenant, err := pbx.ParseID(id)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := seedUsers(context.Background(), m.DB, pbx.TenantID(tenant), n, "x"); err != nil {
			b.Fatal(err)
		}
		vacuum()
		b.Logf("%s: seeded %d users in %v", m.DB.Dialect(), n, time.Since(start).Round(time.Millisecond))
		q := "/api/users?filter=" + url.QueryEscape("startswith(display_name,'User 1') and enabled eq true") +
			"&orderby=" + url.QueryEscape("display_name") + "&top=100"
		b.Run("page", func(b *testing.B) {
			ds := make([]time.Duration, 0, 1024)
			for i := 0; b.Loop(); i++ {
				var out struct {
					Count int               `json:"count"`
					Items []json.RawMessage `json:"items"`
				}
				t0 := time.Now()
				_, err := benchDo(base, "GET", q+"&skip="+strconv.Itoa((i%5)*100), token, nil, &out)
				ds = append(ds, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Items) != 100 {
					b.Fatalf("page of %d users (count %d); want 100", len(out.Items), out.Count)
				}
			}
			percentiles(b, ds)
		})
	})
}

// seedUsers creates n users named user<i> (display name "User <i>",
// extension 100000+i, every tenth disabled) in tenant through CreateUser
// from several goroutines, as the store's list benchmark does, with the web
// password hash given. SQLite takes one writer at a time: more goroutines
// only wait on its lock, and on a busy machine can outwait busy_timeout.
func seedUsers(ctx context.Context, db *store.DB, tenant pbx.TenantID, n int, passwordHash string) error {
	workers := 16
	if db.Dialect() == "sqlite" {
		workers = 2
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				u := pbx.User{Name: fmt.Sprintf("user%d", i), Enabled: i%10 != 0, Email: fmt.Sprintf("user%d@bench.test", i),
					DisplayName: fmt.Sprintf("User %d", i), Role: pbx.RoleStandardUser, ExtensionNumber: strconv.Itoa(100000 + i),
					ExtensionPassword: "x", PasswordHash: passwordHash}
				if err := db.CreateUser(ctx, tenant, &u); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}
