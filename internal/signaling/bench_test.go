package signaling_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// BenchmarkRegisterUDP measures authenticated REGISTERs (challenge, answer,
// database upsert, 200) over loopback UDP from 64 distinct users, each with
// its own UA and socket, on an SQLite file. One op is one registration, two
// round trips.
func BenchmarkRegisterUDP(b *testing.B) { benchRegisterUDP(b, storetest.OpenSQLite(b)) }

// BenchmarkRegisterUDPPostgres is BenchmarkRegisterUDP on PostgreSQL, which
// several nodes may share; it is skipped without a server (see storetest).
func BenchmarkRegisterUDPPostgres(b *testing.B) { benchRegisterUDP(b, storetest.OpenPostgres(b)) }

func benchRegisterUDP(b *testing.B, db *store.DB) {
	const users = 64
	ctx := context.Background()
	tn := pbx.Tenant{Name: "acme", Domain: domain, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < users; i++ {
		u := pbx.User{Name: fmt.Sprintf("u%d", i), Email: "x", DisplayName: "x", Role: pbx.RoleStandardUser,
			ExtensionNumber: fmt.Sprint(1000 + i), ExtensionPassword: "pw", Enabled: true}
		if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
			b.Fatal(err)
		}
	}
	srv, _ := start(b, db, signaling.Config{UDP: "127.0.0.1:0", RateLimit: -1, Logger: testLogger(b)}, signaling.Deps{})
	uas := make([]*siptest.UA, users)
	for i := range uas {
		uas[i] = siptest.New(b, siptest.Config{Server: srv.Addr("udp"), Domain: domain, User: fmt.Sprint(1000 + i), Password: "pw"})
	}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(users / max(1, testingProcs()))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ua := uas[next.Add(1)-1]
		var mine []time.Duration
		defer func() {
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
		for pb.Next() {
			t0 := time.Now()
			res, err := ua.Register(ctx, 300)
			if err != nil || res.StatusCode != 200 {
				b.Errorf("register: %v %v", res, err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reg/s")
	if len(lat) > 0 {
		// Latency of one registration, both round trips.
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
