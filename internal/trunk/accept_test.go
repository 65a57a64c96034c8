package trunk

import (
	"encoding/json"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// waitLoaded waits until the Registry has loaded trunk id.
func waitLoaded(t *testing.T, h *harness, id pbx.ID) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, ok := h.r.Trunk(id); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trunk %d not loaded", id)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitGone waits until a reload has dropped the registration of trunk id.
func waitGone(t *testing.T, h *harness, id pbx.ID) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, ok := h.r.Registration(id); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("registration of trunk %d not dropped", id)
		}
		time.Sleep(time.Millisecond)
	}
}

const acceptSettings = `{"auth_mode":"ACCEPT_REGISTER","transport":"UDP","auth_id":"gw-auth","username":"gw1","keep_alive":false,"concurrency":1}`

func acceptProvider(id pbx.ID, settings string) store.Provider {
	return store.Provider{ID: id, Name: "gateway" + id.String(), Enabled: true, Hostname: "198.51.100.60", Port: 5060,
		Password: "gw-secret", Settings: json.RawMessage(settings)}
}

func TestAccount(t *testing.T) {
	h := start(t, Deps{},
		acceptProvider(1, acceptSettings),
		acceptProvider(2, `{"auth_mode":"ACCEPT_REGISTER","username":"gw2","keep_alive":false}`),
		store.Provider{ID: 3, Name: "ip", Enabled: true, Hostname: "192.0.2.3", Settings: json.RawMessage(`{"auth_mode":"IP_AUTH","username":"ipuser","keep_alive":false}`)},
		store.Provider{ID: 4, Name: "off", Enabled: false, Hostname: "192.0.2.4", Settings: json.RawMessage(`{"auth_mode":"ACCEPT_REGISTER","username":"offuser","keep_alive":false}`)},
	)
	waitLoaded(t, h, 1)
	tests := []struct {
		user string
		want pbx.ID // 0: none
	}{
		{"gw1", 1}, {"gw-auth", 1}, {"gw2", 2},
		{"GW1", 0}, {"ipuser", 0}, {"offuser", 0}, {"", 0}, {"nobody", 0},
	}
	for _, tt := range tests {
		c, ok := h.r.Account(tt.user)
		if ok != (tt.want != 0) || c.ID != tt.want {
			t.Errorf("Account(%q) = %d, %v; want %d", tt.user, c.ID, ok, tt.want)
		}
	}
	if c, _ := h.r.Account("gw1"); c.Password != "gw-secret" {
		t.Errorf("Account password = %q, want gw-secret", c.Password)
	}
}

func TestAcceptIdentifyRouteStatus(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	h := start(t, Deps{Now: clk.now}, acceptProvider(1, acceptSettings),
		store.Provider{ID: 2, Name: "ip", Enabled: true, Hostname: "192.0.2.0", Settings: json.RawMessage(`{"auth_mode":"IP_AUTH","keep_alive":false,"additional_ips":"192.0.2.0/24"}`)})
	waitLoaded(t, h, 1)
	src := netip.MustParseAddr("192.0.2.5")
	tc := call.TrunkCall{CalledNum: "4930123456", CallerNum: "101"}

	// Not registered: not identified, no route, UNREGISTERED and down.
	if c, ok := h.r.Identify(src); !ok || c.ID != 2 {
		t.Errorf("Identify before registration = %d, %v; want the IP trunk 2", c.ID, ok)
	}
	if _, ok := h.r.Route(1, tc); ok {
		t.Error("Route through an unregistered ACCEPT_REGISTER trunk succeeded")
	}
	if st := h.r.Status(1); st.State != StateUnregistered || st.Registered || st.Up {
		t.Errorf("Status before registration = %+v, want UNREGISTERED, down", st)
	}

	var contact sip.Uri
	if err := sip.ParseUri("sip:gw1@10.0.0.7:5080;transport=udp", &contact); err != nil {
		t.Fatal(err)
	}
	b := Binding{Contact: contact, Source: netip.MustParseAddrPort("[::ffff:192.0.2.5]:40000"), Transport: "udp", ExpiresAt: clk.now().Add(time.Minute)}
	if !h.r.Accept(1, b) {
		t.Fatal("Accept = false")
	}
	if e := waitEvent(t, h, EventRegistered); e.Trunk != 1 {
		t.Errorf("event = %+v, want trunk 1", e)
	}
	// The registration is more specific than the IP trunk's prefix.
	if c, ok := h.r.Identify(src); !ok || c.ID != 1 {
		t.Errorf("Identify = %d, %v; want 1", c.ID, ok)
	}
	if c, ok := h.r.Identify(netip.MustParseAddr("198.51.100.60")); ok {
		t.Errorf("Identify(hostname) = %d; an ACCEPT_REGISTER trunk is known by its registration only", c.ID)
	}
	rt, ok := h.r.Route(1, tc)
	if !ok {
		t.Fatal("Route through a registered trunk failed")
	}
	if got, want := rt.Dest, "192.0.2.5:40000"; got != want {
		t.Errorf("Dest = %s, want %s", got, want)
	}
	if rt.Transport != "UDP" {
		t.Errorf("Transport = %s, want UDP", rt.Transport)
	}
	if got, want := rt.RequestURI.String(), "sip:4930123456@10.0.0.7:5080;transport=udp"; got != want {
		t.Errorf("Request-URI = %s, want %s", got, want)
	}
	if _, ok := rt.Acquire(); !ok {
		t.Error("Acquire failed")
	}
	if _, ok := rt.Acquire(); ok {
		t.Error("Acquire beyond concurrency 1 succeeded")
	}
	st := h.r.Status(1)
	if !st.Registered || st.State != StateRegistered || !st.Up || !st.ExpiresAt.Equal(b.ExpiresAt) || st.LiveCalls != 1 {
		t.Errorf("Status = %+v, want REGISTERED, up, expiring %v, 1 live call", st, b.ExpiresAt)
	}
	if got, ok := h.r.Registration(1); !ok || got.Source.Addr() != src {
		t.Errorf("Registration = %+v, %v; want source %s unmapped", got, ok, src)
	}

	// A refresh is not a new registration.
	b.ExpiresAt = clk.now().Add(2 * time.Minute)
	h.r.Accept(1, b)
	select {
	case e := <-h.events:
		t.Errorf("event on refresh: %+v", e)
	default:
	}

	// Expired: absent everywhere, without anyone removing it.
	clk.advance(2*time.Minute + time.Second)
	if c, ok := h.r.Identify(src); !ok || c.ID != 2 {
		t.Errorf("Identify after expiry = %d, %v; want the IP trunk 2", c.ID, ok)
	}
	if _, ok := h.r.Route(1, tc); ok {
		t.Error("Route after expiry succeeded")
	}
	if st := h.r.Status(1); st.State != StateUnregistered || st.Up {
		t.Errorf("Status after expiry = %+v, want UNREGISTERED, down", st)
	}
	if h.r.Accept(1, b) {
		t.Error("Accept of an expired binding = true")
	}
}

func TestAcceptRelease(t *testing.T) {
	h := start(t, Deps{}, acceptProvider(1, acceptSettings))
	waitLoaded(t, h, 1)
	var contact, other sip.Uri
	sip.ParseUri("sip:gw1@192.0.2.5:5060", &contact)
	sip.ParseUri("sip:gw1@192.0.2.6:5060", &other)
	b := Binding{Contact: contact, Source: netip.MustParseAddrPort("192.0.2.5:5060"), Transport: "UDP", ExpiresAt: time.Now().Add(time.Hour)}
	h.r.Accept(1, b)
	if h.r.Release(1, other) {
		t.Error("Release of another contact removed the registration")
	}
	if _, ok := h.r.Registration(1); !ok {
		t.Fatal("registration lost")
	}
	if !h.r.Release(1, contact) {
		t.Error("Release of the registered contact = false")
	}
	if _, ok := h.r.Identify(b.Source.Addr()); ok {
		t.Error("Identify after Release still matches")
	}
	h.r.Accept(1, b)
	if !h.r.Release(1, sip.Uri{Wildcard: true}) {
		t.Error("Release with the wildcard = false")
	}
	if _, ok := h.r.Registration(1); ok {
		t.Error("registration kept after a wildcard Release")
	}
	if h.r.Accept(99, b) {
		t.Error("Accept for an unknown trunk = true")
	}
}

func TestAcceptReload(t *testing.T) {
	p := acceptProvider(1, acceptSettings)
	h := start(t, Deps{}, p, acceptProvider(2, `{"auth_mode":"ACCEPT_REGISTER","username":"gw2","keep_alive":false}`))
	waitLoaded(t, h, 1)
	var contact sip.Uri
	sip.ParseUri("sip:gw1@192.0.2.5:5060", &contact)
	b := Binding{Contact: contact, Source: netip.MustParseAddrPort("192.0.2.5:5060"), Transport: "UDP", ExpiresAt: time.Now().Add(time.Hour)}
	b2 := b
	b2.Source = netip.MustParseAddrPort("192.0.2.6:5060")
	if !h.r.Accept(1, b) || !h.r.Accept(2, b2) {
		t.Fatal("Accept = false")
	}

	// An unrelated change keeps it.
	p.Name = "renamed"
	h.store.set(p, acceptProvider(2, `{"auth_mode":"ACCEPT_REGISTER","username":"gw2","keep_alive":false}`))
	h.r.Reload()
	deadline := time.Now().Add(2 * time.Second)
	for c, _ := h.r.Trunk(1); c.Name != "renamed"; c, _ = h.r.Trunk(1) {
		if time.Now().After(deadline) {
			t.Fatal("rename not loaded")
		}
		time.Sleep(time.Millisecond)
	}
	if _, ok := h.r.Registration(1); !ok {
		t.Error("a rename dropped the registration")
	}

	// A new password drops it: the device must prove the new one.
	p.Password = "new-secret"
	h.store.set(p, acceptProvider(2, `{"auth_mode":"ACCEPT_REGISTER","username":"gw2","keep_alive":false}`))
	h.r.Reload()
	waitGone(t, h, 1)

	// Disabled, then deleted.
	h.r.Accept(1, b)
	p.Enabled = false
	h.store.set(p, acceptProvider(2, `{"auth_mode":"ACCEPT_REGISTER","username":"gw2","keep_alive":false}`))
	h.r.Reload()
	waitGone(t, h, 1)
	if h.r.Accept(1, b) {
		t.Error("Accept for a disabled trunk = true")
	}
	if st := h.r.Status(1); st.State != StateDisabled {
		t.Errorf("Status of a disabled trunk = %+v, want DISABLED", st)
	}
	if _, ok := h.r.Registration(2); !ok {
		t.Error("another trunk's registration was dropped")
	}
	h.store.set(p)
	h.r.Reload()
	waitGone(t, h, 2)
	if _, ok := h.r.Identify(b2.Source.Addr()); ok {
		t.Error("a deleted trunk is still identified")
	}
}
