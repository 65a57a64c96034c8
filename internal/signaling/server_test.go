package signaling_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

const (
	domain   = "acme.test"
	password = "secret101"
)

// env is a running server on a fresh database with tenant acme.test:
// users 101 and 102 (enabled), 103 (disabled), and tenant off.test
// (disabled) with user 101.
type env struct {
	db     *store.DB
	srv    *signaling.Server
	tenant pbx.Tenant
	users  map[string]pbx.User
	cfg    signaling.Config
	stop   func()
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("GOPBX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func seed(t testing.TB, db *store.DB) (pbx.Tenant, map[string]pbx.User) {
	t.Helper()
	ctx := context.Background()
	tn := pbx.Tenant{Name: "acme", Domain: domain, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	users := map[string]pbx.User{}
	for _, ext := range []string{"101", "102", "103"} {
		u := pbx.User{Name: "u" + ext, Email: ext + "@acme.test", DisplayName: ext, Role: pbx.RoleStandardUser,
			ExtensionNumber: ext, ExtensionPassword: "secret" + ext, Enabled: ext != "103"}
		if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
			t.Fatal(err)
		}
		users[ext] = u
	}
	off := pbx.Tenant{Name: "off", Domain: "off.test", Enabled: false, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &off); err != nil {
		t.Fatal(err)
	}
	u := pbx.User{Name: "x", Email: "x@off.test", DisplayName: "x", Role: pbx.RoleStandardUser, ExtensionNumber: "101",
		ExtensionPassword: password, Enabled: true}
	if err := db.CreateUser(ctx, off.ID, &u); err != nil {
		t.Fatal(err)
	}
	return tn, users
}

func baseConfig(t testing.TB) signaling.Config {
	dir := t.TempDir()
	return signaling.Config{
		UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", TLS: "127.0.0.1:0",
		TLSCert: filepath.Join(dir, "sip.crt"), TLSKey: filepath.Join(dir, "sip.key"),
		Logger: testLogger(t),
	}
}

// start runs a server with cfg on db until the test ends or stop is called.
func start(t testing.TB, db *store.DB, cfg signaling.Config, deps signaling.Deps) (*signaling.Server, func()) {
	t.Helper()
	deps.Store = db
	srv, err := signaling.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	}
	t.Cleanup(stop)
	return srv, stop
}

func newEnv(t testing.TB, mod func(*signaling.Config)) *env {
	t.Helper()
	db := storetest.OpenSQLite(t)
	tn, users := seed(t, db)
	cfg := baseConfig(t)
	if mod != nil {
		mod(&cfg)
	}
	srv, stop := start(t, db, cfg, signaling.Deps{})
	return &env{db: db, srv: srv, tenant: tn, users: users, cfg: cfg, stop: stop}
}

func (e *env) ua(t testing.TB, transport, user, pass string) *siptest.UA {
	return siptest.New(t, siptest.Config{Server: e.srv.Addr(transport), Transport: transport, Domain: domain,
		User: user, Password: pass, Logger: testLogger(t)})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestOptions(t *testing.T) {
	e := newEnv(t, nil)
	for _, tr := range []string{"udp", "tcp"} {
		res, err := e.ua(t, tr, "999", "").Options(ctxT(t))
		if err != nil {
			t.Fatalf("%s: %v", tr, err)
		}
		if res.StatusCode != 200 || res.GetHeader("Allow") == nil || res.GetHeader("Accept") == nil || res.GetHeader("Supported") == nil {
			t.Fatalf("%s: got %s", tr, res.Short())
		}
	}
	if e.srv.Addr("tls") == "" || e.srv.Addr("TCP") == "" || e.srv.Addr("ws") != "" {
		t.Fatalf("Addr: tls %q tcp %q ws %q", e.srv.Addr("tls"), e.srv.Addr("TCP"), e.srv.Addr("ws"))
	}
}

func TestRegisterUDPAndTCP(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			ua := e.ua(t, tr, "101", password)
			c1 := "<sip:101@10.0.0.1:5060;transport=" + tr + ">"
			c2 := "<sip:101@10.0.0.2:5062;transport=" + tr + ">"
			res, err := ua.Register(ctx, 300, c1, c2)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("register: %v %v", res, err)
			}
			if n := len(res.GetHeaders("Contact")); n != 2 {
				t.Fatalf("200 lists %d contacts, want 2", n)
			}
			bs, err := e.srv.Registrar().Contacts(ctx, e.tenant.ID, "101")
			if err != nil || len(bs) != 2 {
				t.Fatalf("Contacts = %v, %v", bs, err)
			}
			for _, b := range bs {
				if b.Transport != upper(tr) || b.Source == "" {
					t.Fatalf("binding = %+v", b)
				}
			}
			// Refresh keeps two; 423 for too brief; removal of one, then all.
			if res, _ := ua.Register(ctx, 600, c1, c2); res == nil || res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 2 {
				t.Fatalf("refresh: %v", res)
			}
			if res, _ := ua.Register(ctx, 10, c1); res == nil || res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil {
				t.Fatalf("too brief: %v", res)
			}
			if res, _ := ua.Register(ctx, 0, c2); res == nil || res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 1 {
				t.Fatalf("remove one: %v", res)
			}
			if res, _ := ua.Register(ctx, 0, "*"); res == nil || res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 0 {
				t.Fatalf("remove all: %v", res)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// Unknown domain, unknown user, disabled user, disabled tenant and wrong
// password all get the same answers: a challenge, then 403.
func TestAuthFailuresLookAlike(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	cases := []struct{ name, domain, user, pass string }{
		{"wrong password", domain, "101", "nope"},
		{"unknown user", domain, "199", "nope"},
		{"disabled user", domain, "103", "secret103"},
		{"unknown domain", "nowhere.test", "101", password},
		{"disabled tenant", "off.test", "101", password},
	}
	for _, c := range cases {
		ua := siptest.New(t, siptest.Config{Server: e.srv.Addr("udp"), Domain: c.domain, User: c.user, Password: c.pass, Logger: testLogger(t)})
		res, err := ua.Register(ctx, 300)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.StatusCode != 403 || res.Reason != "Forbidden" {
			t.Fatalf("%s: got %s, want 403 Forbidden", c.name, res.Short())
		}
	}
	// Registering someone else's AOR with one's own password is refused.
	ua := siptest.New(t, siptest.Config{Server: e.srv.Addr("udp"), Domain: domain, User: "101", Password: password, Logger: testLogger(t)})
	req, _ := ua.NewRequest("REGISTER", "sip:"+domain)
	req.AppendHeader(toHeader("102"))
	if res, err := ua.Do(ctx, req); err != nil || res.StatusCode != 403 {
		t.Fatalf("foreign AOR: %v %v", res, err)
	}
}
