package signaling_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/siptest"
)

// gateways is a fake of the trunk runtime for ACCEPT_REGISTER trunks: it
// has accounts, keeps their bindings and identifies requests by them.
type gateways struct {
	now      func() time.Time
	accounts map[string]signaling.TrunkAccount

	mu       sync.Mutex
	bindings map[pbx.ID]signaling.TrunkBinding
}

func newGateways(now func() time.Time, accts ...signaling.TrunkAccount) *gateways {
	g := &gateways{now: now, accounts: map[string]signaling.TrunkAccount{}, bindings: map[pbx.ID]signaling.TrunkBinding{}}
	for _, a := range accts {
		g.accounts[a.Username] = a
		if a.AuthID != "" {
			g.accounts[a.AuthID] = a
		}
	}
	return g
}

func (g *gateways) TrunkAccount(user string) (signaling.TrunkAccount, bool) {
	a, ok := g.accounts[user]
	return a, ok
}

func (g *gateways) BindTrunk(id pbx.ID, b signaling.TrunkBinding) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.bindings[id] = b
	return true
}

func (g *gateways) UnbindTrunk(id pbx.ID, contact sip.Uri) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if b, ok := g.bindings[id]; ok && (contact.Wildcard || b.Contact.Host == contact.Host && b.Contact.Port == contact.Port) {
		delete(g.bindings, id)
	}
}

func (g *gateways) binding(id pbx.ID) (signaling.TrunkBinding, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.bindings[id]
	return b, ok
}

func (g *gateways) TrunkAt(src netip.Addr) (pbx.ID, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, b := range g.bindings {
		if b.Source.Addr() == src && b.ExpiresAt.After(g.now()) {
			return id, true
		}
	}
	return 0, false
}

var (
	_ signaling.Trunks        = (*gateways)(nil)
	_ signaling.TrunkAccounts = (*gateways)(nil)
)

// TestTrunkRegister has the gateway of an ACCEPT_REGISTER trunk on
// 127.0.0.5 register with the trunk's account: a wrong password is
// refused, the right one binds it with the bounded expiry, and its INVITEs
// then reach the handler as the trunk's without a challenge, until it
// unregisters.
func TestTrunkRegister(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := newEnv(t, func(c *signaling.Config) { c.Now = clk.now })
	g := newGateways(clk.now, signaling.TrunkAccount{ID: 77, AuthID: "gw-auth", Username: "gw1", Password: "gw-secret"})
	e.srv.SetTrunks(g)
	e.srv.SetTrunkAccounts(g)
	origins := make(chan call.Origin, 4)
	e.srv.SetCallHandler(&calls{invite: func(_ context.Context, o call.Origin, req *sip.Request, tx sip.ServerTransaction) {
		origins <- o
		tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	}})
	ctx := ctxT(t)
	gw := func(user, pass string) *siptest.UA {
		return siptest.New(t, siptest.Config{Server: e.srv.Addr("udp"), Domain: "gw.carrier.test", User: user, Password: pass,
			LocalIP: "127.0.0.5", Logger: testLogger(t)})
	}
	invite := func(u *siptest.UA) int {
		t.Helper()
		req, _ := u.NewRequest(sip.INVITE, "sip:15550100@"+e.srv.Addr("udp"))
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "15550100", Host: "gw.carrier.test"}})
		res, err := u.Do(quickCtx(t), req)
		if err != nil {
			return 0
		}
		return res.StatusCode
	}

	if res, err := gw("gw1", "wrong").Register(ctx, 300); err != nil || res.StatusCode != 403 {
		t.Fatalf("wrong password: %v %v, want 403", res, err)
	}
	if _, ok := g.binding(77); ok {
		t.Fatal("a wrong password bound the trunk")
	}
	// Before registering, the gateway is a stranger.
	good := gw("gw1", "gw-secret")
	if got := invite(good); got == 486 {
		t.Fatal("an unregistered gateway's INVITE reached the handler")
	}

	// Too short, then too long (capped at MaxExpires, 3600 by default).
	if res, err := good.Register(ctx, 10); err != nil || res.StatusCode != 423 || res.GetHeader("Min-Expires").Value() != "60" {
		t.Fatalf("Expires 10: %v %v, want 423 with Min-Expires 60", res, err)
	}
	res, err := good.Register(ctx, 100000)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v, want 200", res, err)
	}
	if got, want := res.GetHeader("Contact").Value(), "<"+good.ContactURI()+">;expires=3600"; got != want {
		t.Errorf("Contact = %s, want %s", got, want)
	}
	if got := res.GetHeader("Expires").Value(); got != "3600" {
		t.Errorf("Expires = %s, want 3600", got)
	}
	b, ok := g.binding(77)
	if !ok || b.Source.String() != good.LocalAddr() || b.Transport != "UDP" || !b.ExpiresAt.Equal(clk.now().Add(time.Hour)) ||
		b.Contact.Host != "127.0.0.5" {
		t.Fatalf("binding = %+v, %v; want from %s over UDP for an hour", b, ok, good.LocalAddr())
	}

	// Its INVITE reaches the handler as the trunk's, unchallenged.
	if got := invite(good); got != 486 {
		t.Fatalf("INVITE from the registered gateway: %d, want the handler's 486", got)
	}
	if o := <-origins; o.Trunk != 77 || o.User.ID != 0 || o.Source != good.LocalAddr() {
		t.Fatalf("origin = %+v, want trunk 77 from %s", o, good.LocalAddr())
	}

	// The digest user may be the auth_id.
	byAuthID := gw("gw-auth", "gw-secret")
	if res, err := byAuthID.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("register as auth_id: %v %v", res, err)
	}

	// Unregistered, it is a stranger again.
	if res, err := byAuthID.Register(ctx, 0); err != nil || res.StatusCode != 200 {
		t.Fatalf("unregister: %v %v", res, err)
	}
	if _, ok := g.binding(77); ok {
		t.Fatal("binding kept after Expires: 0")
	}
	if got := invite(good); got == 486 || got == 0 {
		t.Fatalf("INVITE after unregistering: %d, want a challenge or 403", got)
	}
	select {
	case o := <-origins:
		t.Fatalf("an unregistered gateway's INVITE reached the handler: %+v", o)
	default:
	}
}

// TestTrunkRegisterShadowedByExtension: an account named like extension
// 101 is the extension's in the tenant's domain and the trunk's elsewhere.
func TestTrunkRegisterShadowedByExtension(t *testing.T) {
	e := newEnv(t, nil)
	g := newGateways(time.Now, signaling.TrunkAccount{ID: 5, Username: "101", Password: "trunk-pass"})
	e.srv.SetTrunks(g)
	e.srv.SetTrunkAccounts(g)
	ctx := ctxT(t)
	ua := func(dom, pass string) *siptest.UA {
		return siptest.New(t, siptest.Config{Server: e.srv.Addr("udp"), Domain: dom, User: "101", Password: pass, LocalIP: "127.0.0.6", Logger: testLogger(t)})
	}
	if res, err := ua(domain, "trunk-pass").Register(ctx, 300); err != nil || res.StatusCode != 403 {
		t.Fatalf("trunk password in the tenant's domain: %v %v, want 403", res, err)
	}
	if res, err := ua(domain, password).Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("extension password in the tenant's domain: %v %v, want 200", res, err)
	}
	if _, ok := g.binding(5); ok {
		t.Fatal("the extension's registration bound the trunk")
	}
	if res, err := ua("127.0.0.1", "trunk-pass").Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("trunk password at the PBX's address: %v %v, want 200", res, err)
	}
	if _, ok := g.binding(5); !ok {
		t.Fatal("the trunk is not bound")
	}
}

// TestTrunkRegisterBruteForce: wrong trunk passwords block the source as
// wrong extension passwords do.
func TestTrunkRegisterBruteForce(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.AuthFailures, c.AuthFailWindow, c.BlockFor = 3, time.Minute, time.Hour })
	g := newGateways(time.Now, signaling.TrunkAccount{ID: 5, Username: "gw1", Password: "gw-secret"})
	e.srv.SetTrunkAccounts(g)
	bad := siptest.New(t, siptest.Config{Server: e.srv.Addr("udp"), Domain: "gw.carrier.test", User: "gw1", Password: "guess",
		LocalIP: "127.0.0.7", Logger: testLogger(t)})
	for i := 0; i < 2; i++ {
		if res, err := bad.Register(ctxT(t), 300); err != nil || res.StatusCode != 403 {
			t.Fatalf("attempt %d: %v %v, want 403", i, res, err)
		}
	}
	if res, err := bad.Register(quickCtx(t), 300); err == nil {
		t.Fatalf("third attempt answered: %v", res.Short())
	}
	if _, err := bad.Options(quickCtx(t)); err == nil {
		t.Fatal("blocked source answered OPTIONS")
	}
}
