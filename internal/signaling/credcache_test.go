package signaling

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// TestCredentialCacheInvalidation checks the REGISTER credential cache
// against the store: a password changed in the store is taken at once
// (a failing cached password is read again), the old one keeps working
// only until InvalidateCredentials (the API's hook) or the TTL, and a
// disabled user is refused once invalidated.
func TestCredentialCacheInvalidation(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	tn := pbx.Tenant{Name: "acme", Domain: "acme.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	u := pbx.User{Name: "a", Email: "a@x", DisplayName: "a", Role: pbx.RoleStandardUser, ExtensionNumber: "101", ExtensionPassword: "pw", Enabled: true}
	if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := New(Config{UDP: "127.0.0.1:0", Now: clk.now, NonceLifetime: time.Hour, AuthFailures: 1000}, Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	n := 0
	register := func(pass string) int {
		t.Helper()
		n++
		nonce := s.nonces.make("acme.test", clk.now())
		cnonce := "c" + strconv.Itoa(n)
		resp := digestResponse("MD5", "101", "acme.test", pass, "REGISTER", "sip:acme.test", nonce, "00000001", cnonce, "auth")
		req := parseReq(t, `REGISTER sip:acme.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK`+cnonce+`
From: <sip:101@acme.test>;tag=1
To: <sip:101@acme.test>
Call-ID: c1
CSeq: `+strconv.Itoa(n)+` REGISTER
Authorization: Digest username="101", realm="acme.test", nonce="`+nonce+`", uri="sip:acme.test", response="`+resp+`", algorithm=MD5, qop=auth, nc=00000001, cnonce="`+cnonce+`"
Content-Length: 0

`)
		cred, resent, res := s.authenticateRegister(ctx, req)
		if res != nil {
			return res.StatusCode
		}
		if cred.user != u.ID || cred.tenant != tn.ID || cred.extension != "101" || resent {
			t.Fatalf("authenticated as %+v, want user %v of tenant %v", cred, u.ID, tn.ID)
		}
		return 200
	}
	check := func(step, pass string, want int) {
		t.Helper()
		if got := register(pass); got != want {
			t.Fatalf("%s: password %q: got %d, want %d", step, pass, got, want)
		}
	}

	check("first register", "pw", 200)
	if _, _, hit := s.creds.get(credKey{"acme.test", "101"}, clk.now()); !hit {
		t.Fatal("credentials not cached after a good register")
	}

	// Changed in the store only (as by another node): the new password
	// works at once, since a failing cached one is read again.
	if err := db.SetUserExtensionPassword(ctx, tn.ID, u.ID, "pw2"); err != nil {
		t.Fatal(err)
	}
	check("new password, no invalidation", "pw2", 200)
	check("old password after the re-read", "pw", 403)

	// Changed again, then invalidated as the API does: the old password
	// fails at once, even though it is still cached.
	if err := db.SetUserExtensionPassword(ctx, tn.ID, u.ID, "pw3"); err != nil {
		t.Fatal(err)
	}
	s.InvalidateCredentials(tn.ID)
	check("old password after invalidation", "pw2", 403)
	check("new password after invalidation", "pw3", 200)

	// Without invalidation the cached password lasts until the TTL.
	if err := db.SetUserExtensionPassword(ctx, tn.ID, u.ID, "pw4"); err != nil {
		t.Fatal(err)
	}
	check("cached password within the TTL", "pw3", 200)
	clk.advance(DefaultCredentialTTL)
	check("cached password after the TTL", "pw3", 403)
	check("new password after the TTL", "pw4", 200)

	// A disabled user is refused once the API's write invalidates; the
	// invalidation of every tenant (0, as for a tenant write) works too.
	u.ExtensionPassword = "pw4"
	u.Enabled = false
	if err := db.UpdateUser(ctx, tn.ID, &u); err != nil {
		t.Fatal(err)
	}
	s.InvalidateCredentials(0)
	check("disabled user", "pw4", 403)
}

// TestCredCacheBounds checks that the cache keeps at most its size, that
// a read started before an invalidation does not store stale credentials,
// and that invalidating one tenant leaves the others.
func TestCredCacheBounds(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newCredCache(time.Minute, 3)
	for i := range 10 {
		k := credKey{"a.test", strconv.Itoa(i)}
		_, gen, _ := c.get(k, now)
		c.put(k, credential{tenant: pbx.TenantID(1 + i%2), loaded: now}, gen)
	}
	if got := len(c.m); got != 3 {
		t.Fatalf("size: got %d, want 3", got)
	}

	k := credKey{"b.test", "1"}
	_, gen, _ := c.get(k, now)
	c.invalidate(7) // an API write lands while k is read from the store
	c.put(k, credential{tenant: 3, loaded: now}, gen)
	if _, _, hit := c.get(k, now); hit {
		t.Fatal("a read from before an invalidation was cached")
	}

	c = newCredCache(time.Minute, 10)
	for i, tn := range []pbx.TenantID{1, 2, 2} {
		k := credKey{"a.test", strconv.Itoa(i)}
		_, gen, _ := c.get(k, now)
		c.put(k, credential{tenant: tn, loaded: now}, gen)
	}
	c.invalidate(2)
	if _, _, hit := c.get(credKey{"a.test", "0"}, now); !hit || len(c.m) != 1 {
		t.Fatalf("after invalidating tenant 2: %d entries left, want tenant 1's only", len(c.m))
	}
}
