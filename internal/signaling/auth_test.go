package signaling

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

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

func parseReq(t *testing.T, raw string) *sip.Request {
	t.Helper()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	req := msg.(*sip.Request)
	req.SetSource("192.0.2.50:5060")
	req.SetTransport("UDP")
	return req
}

// TestAuthenticate drives the digest checks without the network: a good
// answer in either algorithm passes, a stale nonce gets stale=true, and
// every kind of bad answer gets the same 403.
func TestAuthenticate(t *testing.T) {
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
	s, err := New(Config{UDP: "127.0.0.1:0", Now: clk.now, NonceLifetime: time.Minute, AuthFailures: 1000}, Deps{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const base = `REGISTER sip:acme.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK1
From: <sip:101@acme.test>;tag=1
To: <sip:101@acme.test>
Call-ID: c1
CSeq: 1 REGISTER
Content-Length: 0
`
	res := func() *sip.Response {
		_, _, r := s.authenticate(ctx, parseReq(t, base+"\n"))
		return r
	}()
	if res == nil || res.StatusCode != 401 {
		t.Fatalf("no credentials: got %v, want 401", res)
	}
	chals := res.GetHeaders("WWW-Authenticate")
	if len(chals) != 2 || !strings.Contains(chals[0].Value(), "SHA-256") || !strings.Contains(chals[1].Value(), "MD5") {
		t.Fatalf("challenges = %v", chals)
	}
	nonce := s.nonces.make("acme.test", clk.now())

	auth := func(alg, user, pass, nonce, qop, nc, cnonce string) *sip.Response {
		resp := digestResponse(alg, user, "acme.test", pass, "REGISTER", "sip:acme.test", nonce, nc, cnonce, qop)
		if resp == "" {
			resp = "deadbeef" // an algorithm we do not know
		}
		h := `Authorization: Digest username="` + user + `", realm="acme.test", nonce="` + nonce + `", uri="sip:acme.test", response="` + resp + `"`
		if alg != "" {
			h += ", algorithm=" + alg
		}
		if qop != "" {
			h += ", qop=" + qop
		}
		if nc != "" {
			h += ", nc=" + nc
		}
		if cnonce != "" {
			h += `, cnonce="` + cnonce + `"`
		}
		_, user2, r := s.authenticate(ctx, parseReq(t, base+h+"\n\n"))
		if r == nil && user2.ID != u.ID {
			t.Fatalf("authenticated as %v", user2.ID)
		}
		return r
	}
	status := func(r *sip.Response) int {
		if r == nil {
			return 0
		}
		return r.StatusCode
	}
	tests := []struct {
		name                            string
		alg, user, pass, nonce, qop, nc string
		cnonce                          string
		want                            int
	}{
		{"sha-256", "SHA-256", "101", "pw", nonce, "auth", "00000001", "a1", 0},
		{"md5", "MD5", "101", "pw", nonce, "auth", "00000001", "a2", 0},
		{"md5 implied", "", "101", "pw", nonce, "auth", "00000001", "a3", 0},
		{"wrong password", "MD5", "101", "nope", nonce, "auth", "00000001", "abc", 403},
		{"unknown user", "MD5", "199", "pw", nonce, "auth", "00000001", "abc", 403},
		{"no qop (rfc 2069)", "MD5", "101", "pw", nonce, "", "", "", 403},
		{"qop without cnonce (svcrack)", "MD5", "101", "pw", nonce, "auth", "", "", 403},
		{"bad nc", "MD5", "101", "pw", nonce, "auth", "1", "abc", 403},
		{"unknown algorithm", "SHA-512", "101", "pw", nonce, "auth", "00000001", "abc", 403},
		{"foreign nonce", "MD5", "101", "pw", s.nonces.make("other.test", clk.now()), "auth", "00000001", "abc", 401},
	}
	for _, tt := range tests {
		if got := status(auth(tt.alg, tt.user, tt.pass, tt.nonce, tt.qop, tt.nc, tt.cnonce)); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}

	// Replay: the same Authorization again (same nonce, cnonce and nc) or
	// a lower nc is re-challenged without stale; a higher nc passes.
	if got := status(auth("MD5", "101", "pw", nonce, "auth", "00000001", "r1")); got != 0 {
		t.Fatalf("first use: got %d, want 0", got)
	}
	for _, nc := range []string{"00000001", "00000001"} {
		r := auth("MD5", "101", "pw", nonce, "auth", nc, "r1")
		if status(r) != 401 || strings.Contains(r.GetHeader("WWW-Authenticate").Value(), "stale") {
			t.Fatalf("replay of nc %s: got %v, want 401 without stale", nc, r)
		}
	}
	if got := status(auth("MD5", "101", "pw", nonce, "auth", "00000002", "r1")); got != 0 {
		t.Fatalf("nc 2: got %d, want 0", got)
	}
	if got := status(auth("SHA-256", "101", "pw", nonce, "auth", "00000003", "r1")); got != 0 {
		t.Fatalf("nc 3: got %d, want 0", got)
	}
	if got := status(auth("MD5", "101", "pw", nonce, "auth", "00000002", "r1")); got != 401 {
		t.Fatalf("lower nc: got %d, want 401", got)
	}
	// A wrong answer replaying an nc is still a plain 403.
	if got := status(auth("MD5", "101", "nope", nonce, "auth", "00000003", "r1")); got != 403 {
		t.Fatalf("replayed nc, wrong password: got %d, want 403", got)
	}

	clk.advance(2 * time.Minute)
	r := auth("MD5", "101", "pw", nonce, "auth", "00000002", "abc")
	if status(r) != 401 || !strings.Contains(r.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("stale nonce: got %v", r)
	}
	if got := status(auth("MD5", "101", "nope", nonce, "auth", "00000002", "abc")); got != 403 {
		t.Fatalf("stale nonce, wrong password: got %d, want 403", got)
	}

	// INVITE is challenged with 407 and Proxy-Authenticate.
	inv := parseReq(t, strings.ReplaceAll(strings.ReplaceAll(base, "REGISTER", "INVITE"), "sip:acme.test SIP", "sip:102@acme.test SIP")+"\n")
	if _, _, r := s.authenticate(ctx, inv); status(r) != 407 || len(r.GetHeaders("Proxy-Authenticate")) != 2 {
		t.Fatalf("invite: got %v", r)
	}
}

func TestRequestDomain(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"REGISTER sip:10.0.0.1 SIP/2.0\nTo: <sip:101@Acme.Test>\nFrom: <sip:101@x.test>;tag=1\n", "acme.test"},
		{"INVITE sip:102@acme.test SIP/2.0\nTo: <sip:102@b.test>\nFrom: <sip:101@x.test>;tag=1\n", "acme.test"},
		{"INVITE sip:102@10.0.0.1:5060 SIP/2.0\nTo: <sip:102@10.0.0.1>\nFrom: <sip:101@acme.test>;tag=1\n", "acme.test"},
	}
	for _, tt := range tests {
		req := parseReq(t, tt.raw+"Via: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\nCall-ID: x\nCSeq: 1 "+strings.Fields(tt.raw)[0]+"\nContent-Length: 0\n\n")
		if got := requestDomain(req); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.raw, got, tt.want)
		}
	}
}
