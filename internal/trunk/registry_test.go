package trunk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// fakeStore is a Store whose providers a test changes.
type fakeStore struct {
	mu sync.Mutex
	ps []store.Provider
}

func (s *fakeStore) Providers(ctx context.Context) ([]store.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Provider(nil), s.ps...), nil
}

func (s *fakeStore) set(ps ...store.Provider) {
	s.mu.Lock()
	s.ps = ps
	s.mu.Unlock()
}

// carrier is a SIP peer on loopback: a registrar that challenges with 401
// and checks the digest, and answers OPTIONS unless told to stay silent.
type carrier struct {
	addr     string
	password string
	expires  int // granted; 0 grants what was asked
	silent   atomic.Bool
	regs     chan *sip.Request // every REGISTER, challenged or not
	ok       chan *sip.Request // REGISTERs accepted
	options  atomic.Int32
}

func newCarrier(t *testing.T, password string, expires int) *carrier {
	t.Helper()
	c := &carrier{password: password, expires: expires, regs: make(chan *sip.Request, 100), ok: make(chan *sip.Request, 100)}
	ua := quietUA(t)
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(c.onRegister)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		c.options.Add(1)
		if c.silent.Load() {
			return
		}
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil))
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = pc.LocalAddr().String()
	go srv.ServeUDP(pc)
	t.Cleanup(func() { ua.Close(); pc.Close() })
	return c
}

const realm = "carrier.test"

// quiet discards sipgo's own messages.
var quiet = slog.New(slog.DiscardHandler)

func quietUA(t *testing.T) *sipgo.UserAgent {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	return ua
}

func (c *carrier) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	c.regs <- req
	h := req.GetHeader("Authorization")
	if h == nil {
		res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5`, realm, sip.GenerateTagN(16))))
		tx.Respond(res)
		return
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	want, err := digest.Digest(&digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: "MD5"},
		digest.Options{Method: "REGISTER", URI: cred.URI, Username: cred.Username, Password: c.password})
	if err != nil || cred.Username != "auth99" || want.Response != cred.Response {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	exp := req.GetHeader("Expires").Value()
	if c.expires > 0 && exp != "0" {
		exp = strconv.Itoa(c.expires)
	}
	if ct := req.Contact(); ct != nil {
		res.AppendHeader(sip.NewHeader("Contact", "<"+ct.Address.String()+">;expires="+exp))
	}
	c.ok <- req
	tx.Respond(res)
}

// harness runs a Registry with a client on loopback until the test ends.
type harness struct {
	r      *Registry
	store  *fakeStore
	events chan Event
	stop   func()
}

func start(t *testing.T, d Deps, ps ...store.Provider) *harness {
	t.Helper()
	// The PBX side listens, as the SIP edge does, so that requests leave
	// from its socket and answers come back to it.
	ua := quietUA(t)
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	laddr := pc.LocalAddr().String()
	go srv.ServeUDP(pc)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if conn, err := ua.TransportLayer().GetConnection("udp", laddr); err == nil && conn != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("udp listener not serving")
		}
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(laddr), sipgo.WithClientLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{store: &fakeStore{}, events: make(chan Event, 100)}
	h.store.set(ps...)
	d.Client, d.Store = client, h.store
	d.OnEvent = func(e Event) { h.events <- e }
	if d.Contacts == nil {
		d.Contacts = map[string]sip.Uri{"UDP": {Scheme: "sip", Host: "127.0.0.1", Port: 5999}}
	}
	if d.Resolve == nil {
		d.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return nil, fmt.Errorf("no DNS in tests: %s", host)
		}
	}
	h.r, err = New(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.r.Run(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Run did not return")
			}
			ua.Close()
			pc.Close()
		})
	}
	t.Cleanup(h.stop)
	return h
}

func provider(id pbx.ID, addr string, settings string) store.Provider {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return store.Provider{ID: id, Name: "carrier" + id.String(), Enabled: true, Hostname: host, Port: p, Password: "secret", Settings: json.RawMessage(settings)}
}

const regSettings = `{"auth_mode":"REGISTER_AUTH","transport":"UDP","auth_id":"auth99","username":"4930111","register_interval":60,"keep_alive":false}`

func waitEvent(t *testing.T, h *harness, kind string) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-h.events:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

func recv(t *testing.T, ch chan *sip.Request, what string) *sip.Request {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s", what)
	}
	return nil
}

func TestRegisterAndRefresh(t *testing.T) {
	c := newCarrier(t, "secret", 1) // grants 1 s: refresh after 850 ms
	h := start(t, Deps{}, provider(1, c.addr, regSettings))
	first := recv(t, c.ok, "registration")
	e := waitEvent(t, h, EventRegistered)
	if e.Trunk != 1 || e.Name != "carrier1" {
		t.Errorf("event = %+v, want trunk 1 carrier1", e)
	}
	if got, want := first.Recipient.String(), "sip:"+c.addr; got != want {
		t.Errorf("Request-URI = %s, want %s", got, want)
	}
	if got := first.From().Address.String(); got != "sip:4930111@127.0.0.1" {
		t.Errorf("From = %s, want sip:4930111@127.0.0.1", got)
	}
	if got := first.Contact().Address.String(); got != "sip:4930111@127.0.0.1:5999" {
		t.Errorf("Contact = %s, want sip:4930111@127.0.0.1:5999", got)
	}
	if got := first.GetHeader("Expires").Value(); got != "60" {
		t.Errorf("Expires = %s, want 60", got)
	}
	st := h.r.Status(1)
	if !st.Registered || st.State != StateRegistered || !st.Up || st.LastStatusCode != 200 || time.Until(st.ExpiresAt) > 2*time.Second {
		t.Errorf("Status = %+v, want registered, up, 200, expiring within 1 s", st)
	}
	refresh := recv(t, c.ok, "refresh")
	if refresh.CallID().Value() != first.CallID().Value() || refresh.CSeq().SeqNo <= first.CSeq().SeqNo {
		t.Errorf("refresh Call-ID %s CSeq %d after %s %d: want the same Call-ID and a higher CSeq",
			refresh.CallID().Value(), refresh.CSeq().SeqNo, first.CallID().Value(), first.CSeq().SeqNo)
	}

	// Shutting down unregisters.
	h.stop()
	var last *sip.Request
	for len(c.ok) > 0 {
		last = <-c.ok
	}
	if last == nil || last.GetHeader("Expires").Value() != "0" {
		t.Errorf("last REGISTER after stop = %v, want Expires: 0", last)
	}
}

func TestRegisterWrongPasswordBacksOff(t *testing.T) {
	c := newCarrier(t, "other", 0)
	h := start(t, Deps{RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond}, provider(1, c.addr, regSettings))
	e := waitEvent(t, h, EventRegistrationFailed)
	if e.Detail != "403 Forbidden" {
		t.Errorf("event detail = %q, want 403 Forbidden", e.Detail)
	}
	time.Sleep(time.Second)
	st := h.r.Status(1)
	if st.Registered || st.State != StateFailed || st.LastStatusCode != 403 || !st.Up {
		t.Errorf("Status = %+v, want FAILED 403, up", st)
	}
	// Two REGISTERs an attempt (challenged, answered); waits of 50, 100,
	// 200, 200... ms give about 6 attempts in a second, not 20.
	attempts := len(c.regs) / 2
	if attempts < 3 || attempts > 9 {
		t.Errorf("%d attempts in about 1 s, want 3 to 9 with back-off 50 ms doubling to 200 ms", attempts)
	}
	select {
	case e := <-h.events:
		if e.Kind == EventRegistrationFailed {
			t.Errorf("registration_failed sent again on retry: %+v", e)
		}
	default:
	}
}

func TestReloadDisabledUnregisters(t *testing.T) {
	c := newCarrier(t, "secret", 0)
	p := provider(1, c.addr, regSettings)
	h := start(t, Deps{}, p)
	recv(t, c.ok, "registration")
	p.Enabled = false
	h.store.set(p)
	h.r.Reload()
	un := recv(t, c.ok, "unregistration")
	if got := un.GetHeader("Expires").Value(); got != "0" {
		t.Errorf("Expires = %s, want 0", got)
	}
	deadline := time.Now().Add(2 * time.Second)
	for h.r.Status(1).State != StateDisabled && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := h.r.Status(1); st.State != StateDisabled {
		t.Errorf("Status = %+v, want DISABLED", st)
	}
	if _, ok := h.r.Route(1, call.TrunkCall{}); ok {
		t.Error("Route through a disabled trunk succeeded")
	}

	// Enabled again with a new password: it registers again.
	p.Enabled = true
	h.store.set(p)
	h.r.Reload()
	recv(t, c.ok, "registration after enabling")
}

func TestKeepAliveUpDown(t *testing.T) {
	c := newCarrier(t, "secret", 0)
	h := start(t, Deps{}, provider(1, c.addr, `{"auth_mode":"IP_AUTH","keep_alive":true,"keep_alive_interval":0.1}`))
	e := waitEvent(t, h, EventUp)
	if e.Trunk != 1 {
		t.Errorf("up event = %+v", e)
	}
	if st := h.r.Status(1); !st.Up || st.State != StateNotApplicable || st.LastCheck.IsZero() {
		t.Errorf("Status = %+v, want up, NOT_APPLICABLE, checked", st)
	}
	c.silent.Store(true)
	waitEvent(t, h, EventDown)
	if st := h.r.Status(1); st.Up {
		t.Errorf("Status = %+v, want down", st)
	}
	c.silent.Store(false)
	waitEvent(t, h, EventUp)
}

func TestIdentify(t *testing.T) {
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "sip.carrier.test" {
			return []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("::ffff:192.0.2.11")}, nil
		}
		return nil, fmt.Errorf("%s: not found", host)
	}
	ps := []store.Provider{
		{ID: 1, Name: "by-host", Enabled: true, Hostname: "sip.carrier.test", Settings: json.RawMessage(`{"keep_alive":false}`)},
		{ID: 2, Name: "by-cidr", Enabled: true, Hostname: "198.51.100.1", Settings: json.RawMessage(`{"keep_alive":false,"additional_ips":"203.0.113.0/24, 192.0.2.0/24"}`)},
		{ID: 3, Name: "outbound", Enabled: true, Hostname: "unresolvable.test", Settings: json.RawMessage(`{"keep_alive":false,"outbound_server":"2001:db8::5","auth_mode":"REGISTER_AUTH","registration":false}`)},
		{ID: 4, Name: "disabled", Enabled: false, Hostname: "198.51.100.50", Settings: json.RawMessage(`{"keep_alive":false}`)},
		{ID: 5, Name: "accept", Enabled: true, Hostname: "198.51.100.60", Settings: json.RawMessage(`{"keep_alive":false,"auth_mode":"ACCEPT_REGISTER"}`)},
		{ID: 6, Name: "teams", Enabled: true, Hostname: "198.51.100.70", Settings: json.RawMessage(`{"keep_alive":false,"auth_mode":"TEAMS"}`)},
	}
	h := start(t, Deps{Resolve: resolve}, ps...)
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, ok := h.r.Trunk(1); ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	tests := []struct {
		src  string
		want pbx.ID // 0: none
	}{
		{"192.0.2.10", 1}, {"192.0.2.11", 1}, {"::ffff:192.0.2.10", 1},
		{"192.0.2.99", 2}, {"203.0.113.200", 2}, {"198.51.100.1", 2},
		{"2001:db8::5", 3},
		{"198.51.100.50", 0}, {"198.51.100.60", 0}, {"198.51.100.70", 0}, {"127.0.0.1", 0},
	}
	for _, tt := range tests {
		c, ok := h.r.Identify(netip.MustParseAddr(tt.src))
		if ok != (tt.want != 0) || c.ID != tt.want {
			t.Errorf("Identify(%s) = %d, %v; want %d", tt.src, c.ID, ok, tt.want)
		}
	}
	if st := h.r.Status(4); st.State != StateDisabled {
		t.Errorf("Status of a disabled trunk = %+v, want DISABLED", st)
	}
	if st := h.r.Status(1); st.State != StateNotApplicable {
		t.Errorf("Status of an IP trunk = %+v, want NOT_APPLICABLE", st)
	}
	if st := h.r.Status(99); st.State != StateNotApplicable {
		t.Errorf("Status of an unknown trunk = %+v, want NOT_APPLICABLE", st)
	}
}

func TestRouteConcurrency(t *testing.T) {
	h := start(t, Deps{},
		store.Provider{ID: 1, Name: "two", Enabled: true, Hostname: "192.0.2.1", Settings: json.RawMessage(`{"keep_alive":false,"concurrency":2}`)},
		store.Provider{ID: 2, Name: "unlimited", Enabled: true, Hostname: "192.0.2.2", Settings: json.RawMessage(`{"keep_alive":false}`)})
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, ok := h.r.Trunk(1); ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	rt, ok := h.r.Route(1, call.TrunkCall{CalledNum: "9"})
	if !ok || rt.Acquire == nil || rt.RequestURI.User != "9" || rt.Dest != "192.0.2.1:5060" {
		t.Fatalf("Route = %+v, %v", rt, ok)
	}
	r1, ok1 := rt.Acquire()
	r2, ok2 := rt.Acquire()
	if _, ok3 := rt.Acquire(); !ok1 || !ok2 || ok3 {
		t.Fatalf("Acquire three times = %v %v %v, want true true false", ok1, ok2, ok3)
	}
	if got := h.r.Status(1).LiveCalls; got != 2 {
		t.Errorf("LiveCalls = %d, want 2", got)
	}
	r1()
	r1() // a second release does not free another call
	if _, ok := rt.Acquire(); !ok {
		t.Error("Acquire after a release failed")
	}
	if _, ok := rt.Acquire(); ok {
		t.Error("Acquire over the limit succeeded after a double release")
	}
	r2()
	rt2, _ := h.r.Route(2, call.TrunkCall{})
	for i := range 50 {
		if _, ok := rt2.Acquire(); !ok {
			t.Fatalf("Acquire %d on an unlimited trunk failed", i)
		}
	}
	if _, ok := h.r.Route(3, call.TrunkCall{}); ok {
		t.Error("Route through an unknown trunk succeeded")
	}
}
