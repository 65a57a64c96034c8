package load_test

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/bench/load"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/routing"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
	"github.com/gopbx/gopbx/internal/trunk"
)

var (
	flagCalls       = flag.Int("load.calls", 40, "calls to place")
	flagConcurrency = flag.Int("load.concurrency", 20, "calls up at once")
	flagHold        = flag.Duration("load.hold", time.Second, "how long each call stays up")
	flagRate        = flag.Float64("load.rate", 0, "calls per second cap (0: none)")
)

// The test PBX's carrier: an IP_AUTH trunk at carrierIP whose DID rings
// extension 102.
const (
	carrierIP = "127.0.0.2"
	did       = "15550100"
)

// trunks is what cmd/gopbx makes of the trunk registry for signalling
// (TrunkAt) and routing (Route, Incoming); see cmd/gopbx/trunks.go.
type trunks struct{ r *trunk.Registry }

func (t trunks) TrunkAt(src netip.Addr) (pbx.ID, bool) {
	c, ok := t.r.Identify(src)
	return c.ID, ok
}

func (t trunks) Route(id pbx.ID, tc call.TrunkCall) (call.TrunkRoute, bool) { return t.r.Route(id, tc) }

func (t trunks) Incoming(id pbx.ID, req *sip.Request) (callerNum, callerName, calledNum string, anonymous, ok bool) {
	c, ok := t.r.Trunk(id)
	if !ok {
		return "", "", "", false, false
	}
	callerNum, callerName, calledNum, anonymous = c.Incoming(req)
	return callerNum, callerName, calledNum, anonymous, true
}

// startPBX boots the SIP edge, the B2BUA, the router and the trunks
// in-process on loopback, as cmd/gopbx wires them, with tenant acme.test,
// extensions 101 and 102 and an IP_AUTH trunk at carrierIP whose DID did
// an inbound rule routes to 102, and returns the PBX's UDP address.
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
	settings := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	prov := store.Provider{Name: "carrier", Enabled: true, Hostname: carrierIP, Port: 5060,
		Settings: settings(map[string]any{"auth_mode": "IP_AUTH", "transport": "UDP", "keep_alive": false})}
	if err := db.CreateProvider(ctx, &prov); err != nil {
		t.Fatal(err)
	}
	if err := db.AssignProvider(ctx, store.ProviderAssignee{Provider: prov.ID, Tenant: tn.ID, DIDNumbers: "15550100-15550199"}); err != nil {
		t.Fatal(err)
	}
	fwd := map[string]any{"action": "FORWARD_TO_NUMBER", "number": "102"}
	rule := store.InboundRule{Name: "main", Enabled: true, DIDNumbers: did, Provider: prov.ID,
		Settings: settings(map[string]any{"office_hours_forward_rule": fwd, "non_office_hours_forward_rule": fwd, "holiday_forward_rule": fwd})}
	if err := db.CreateInboundRule(ctx, tn.ID, &rule); err != nil {
		t.Fatal(err)
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
	contacts := map[string]sip.Uri{"UDP": {Scheme: "sip", Host: addr.Addr().String(), Port: int(addr.Port())}}
	reg, err := trunk.New(trunk.Deps{Client: sig.Client(), Store: db, Logger: log, Contacts: contacts})
	if err != nil {
		t.Fatal(err)
	}
	tr := trunks{reg}
	mgr, err := call.New(call.Deps{
		Logger: log, Client: sig.Client(), Locator: sig.Registrar(), Users: db, CDRs: db, NewID: db.NewID, Ports: pool,
		Contacts: contacts, Router: routing.New(routing.Deps{Store: db, Trunks: tr, Logger: log}),
	})
	if err != nil {
		t.Fatal(err)
	}
	sig.SetCallHandler(mgr)
	sig.SetTrunks(tr)
	done := make(chan error, 2)
	go func() { done <- sig.Run(ctx) }()
	go func() { done <- reg.Run(ctx) }()
	// The registry loads the trunks when it starts.
	for i := 0; ; i++ {
		if _, ok := reg.Identify(netip.MustParseAddr(carrierIP)); ok {
			break
		}
		if i == 500 {
			t.Fatal("the carrier's trunk was not loaded")
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	// Gaps are measured, not judged: timing belongs to bench/.
	if *flagHold >= time.Second && rep.GapMax == 0 {
		t.Error("no gap between RTP packets measured")
	}
}

// TestLoadFromTrunk has the generator play the carrier: calls from the
// trunk's address, without credentials, to the DID that the inbound rule
// routes to 102. The same calls from an address that is no trunk's are
// challenged and reach nobody.
func TestLoadFromTrunk(t *testing.T) {
	target := startPBX(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := load.Config{
		Target: target, Domain: "acme.test", Caller: "14155550123", CallerIP: carrierIP, DID: did,
		Callee: "102", CalleePassword: "pw102", Calls: 10, Concurrency: 10, Hold: time.Second, RTP: true,
	}
	rep, err := load.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if rep.Answered != cfg.Calls {
		t.Errorf("answered %d of %d", rep.Answered, cfg.Calls)
	}
	if rep.RTPSent == 0 || float64(rep.RTPReceived) < 0.9*float64(rep.RTPSent) || rep.DeafPeers != 0 {
		t.Errorf("rtp: sent %d, received %d, deaf endpoints %d", rep.RTPSent, rep.RTPReceived, rep.DeafPeers)
	}

	cfg.CallerIP, cfg.Calls = "", 2
	rep, err = load.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Answered != 0 || rep.Status[401]+rep.Status[407] != cfg.Calls {
		t.Errorf("calls from no trunk's address: %v; want every one challenged", rep)
	}
}

func freeRange(t testing.TB, n int) (int, int) { return siptest.FreeUDPRange(t, n) }
