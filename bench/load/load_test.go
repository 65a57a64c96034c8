package load_test

import (
	"context"
	"flag"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/bench/load"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

var (
	flagCalls       = flag.Int("load.calls", 40, "calls to place")
	flagConcurrency = flag.Int("load.concurrency", 20, "calls up at once")
	flagHold        = flag.Duration("load.hold", time.Second, "how long each call stays up")
	flagRate        = flag.Float64("load.rate", 0, "calls per second cap (0: none)")
)

// startPBX boots the SIP edge and the B2BUA in-process on loopback, with
// tenant acme.test and extensions 101 and 102, and returns its UDP address.
func startPBX(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := storetest.OpenSQLite(t)
	tn := pbx.Tenant{Name: "acme", Domain: "acme.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 100}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"101", "102"} {
		u := pbx.User{Name: "u" + ext, Role: pbx.RoleStandardUser, ExtensionNumber: ext, ExtensionPassword: "pw" + ext, Enabled: true}
		if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	sig, err := signaling.New(signaling.Config{UDP: "127.0.0.1:0", RateLimit: -1, AuthFailures: -1, Logger: log}, signaling.Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(sig.Addr("udp"))
	lo, hi := freeRange(t, 6*(*flagConcurrency)+100)
	pool, err := media.NewPortPool(media.PortPoolConfig{IP: addr.Addr(), MinPort: lo, MaxPort: hi, Quarantine: -1})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := call.New(call.Deps{
		Logger: log, Client: sig.Client(), Locator: sig.Registrar(), Users: db, CDRs: db, NewID: db.NewID, Ports: pool,
		Contacts: map[string]sip.Uri{"UDP": {Scheme: "sip", Host: addr.Addr().String(), Port: int(addr.Port())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sig.SetCallHandler(mgr)
	done := make(chan error, 1)
	go func() { done <- sig.Run(ctx) }()
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		start := time.Now()
		sessions := mgr.Sessions(tn.ID)
		live := len(sessions)
		for _, si := range sessions {
			t.Logf("live session %v answered %v started %v", si.ID, si.Calls[0].Answered, si.Calls[0].StartedAt.Format("15:04:05.000"))
		}
		if err := mgr.Close(cctx); err != nil {
			t.Errorf("close manager: %v", err)
		}
		t.Logf("manager closed in %v with %d live sessions", time.Since(start).Round(time.Millisecond), live)
		cancel()
		<-done
		_, n, _ := db.ListCDRs(context.Background(), tn.ID, store.ListOptions{})
		t.Logf("cdrs written: %d", n)
	})
	return addr.String()
}

func TestLoad(t *testing.T) {
	target := startPBX(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	rep, err := load.Run(ctx, load.Config{
		Target: target, Domain: "acme.test",
		Caller: "101", CallerPassword: "pw101", Callee: "102", CalleePassword: "pw102",
		Calls: *flagCalls, Concurrency: *flagConcurrency, Hold: *flagHold, Rate: *flagRate, RTP: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if rep.Answered != *flagCalls {
		t.Errorf("answered %d of %d", rep.Answered, *flagCalls)
	}
	// Packets in flight when a call ends are lost by design: judge the
	// media only on calls held long enough.
	if *flagHold >= time.Second && (rep.RTPSent == 0 || float64(rep.RTPReceived) < 0.9*float64(rep.RTPSent)) {
		t.Errorf("rtp: sent %d, received %d", rep.RTPSent, rep.RTPReceived)
	}
}

func freeRange(t testing.TB, n int) (int, int) { return siptest.FreeUDPRange(t, n) }
