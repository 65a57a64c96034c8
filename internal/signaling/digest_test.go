package signaling

import (
	"strconv"
	"testing"
	"time"
)

// The examples of RFC 7616 section 3.9.1.
func TestDigestResponseRFC7616(t *testing.T) {
	const (
		user   = "Mufasa"
		pass   = "Circle of Life"
		realm  = "http-auth@example.org"
		nonce  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		uri    = "/dir/index.html"
		cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	tests := []struct {
		alg, want string
	}{
		{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
		{"", "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{"SHA-512-256", ""},
	}
	for _, tt := range tests {
		got := digestResponse(tt.alg, user, realm, pass, "GET", uri, nonce, "00000001", cnonce, "auth")
		if got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.alg, got, tt.want)
		}
	}
}

// RFC 2617 section 3.5, whose qop=auth example still holds for MD5.
func TestDigestResponseRFC2617(t *testing.T) {
	got := digestResponse("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
		"dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth")
	if want := "6629fae49393a05397450978507c4ef1"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		in   string
		want credentials
		err  bool
	}{
		{
			in: `Digest username="101", realm="acme.test", nonce="abc", uri="sip:acme.test", response="ff", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x,y"`,
			want: credentials{username: "101", realm: "acme.test", nonce: "abc", uri: "sip:acme.test", response: "ff",
				algorithm: "SHA-256", qop: "auth", nc: "00000001", cnonce: "x,y"},
		},
		{
			in:   `digest  USERNAME="a\"b",nonce=n,response="r"`,
			want: credentials{username: `a"b`, nonce: "n", response: "r"},
		},
		{in: `Basic dXNlcjpwYXNz`, err: true},
		{in: `Digest username="101"`, err: true},
		{in: `Digest username="101, nonce="n", response="r"`, err: true},
		{in: `Digest username="a", username="b", nonce=n, response=r`, err: true},
		{in: `Digest =x, nonce=n, response=r, username=u`, err: true},
		{in: `Digest`, err: true},
	}
	for _, tt := range tests {
		got, err := parseCredentials(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%q: err = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if !tt.err && got != tt.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

func TestNonces(t *testing.T) {
	n := nonces{key: []byte("k"), lifetime: time.Minute}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nonce := n.make("acme.test", t0)
	tests := []struct {
		name         string
		nonce, realm string
		at           time.Time
		valid, stale bool
	}{
		{"fresh", nonce, "acme.test", t0.Add(30 * time.Second), true, false},
		{"realm case", nonce, "ACME.test", t0, true, false},
		{"stale", nonce, "acme.test", t0.Add(2 * time.Minute), true, true},
		{"other realm", nonce, "other.test", t0, false, false},
		{"future", n.make("acme.test", t0.Add(time.Hour)), "acme.test", t0, false, false},
		{"garbage", "!!!", "acme.test", t0, false, false},
		{"other key", nonces{key: []byte("j")}.make("acme.test", t0), "acme.test", t0, false, false},
		{"tampered", nonce[:len(nonce)-2] + "AA", "acme.test", t0, false, false},
	}
	for _, tt := range tests {
		valid, stale := n.check(tt.nonce, tt.realm, tt.at)
		if valid != tt.valid || stale != tt.stale {
			t.Errorf("%s: got valid=%v stale=%v, want %v %v", tt.name, valid, stale, tt.valid, tt.stale)
		}
	}
}

func TestChallenge(t *testing.T) {
	got := challenge(`ac"me`, "N", algSHA256, true)
	want := `Digest realm="ac\"me", nonce="N", algorithm=SHA-256, qop="auth", stale=true`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if !validNC("0000000a") || validNC("1") || validNC("0000000g") {
		t.Fatal("validNC")
	}
}

func TestNonceCounts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := newNonceCounts(3)
	use := func(nonce, cnonce, nc string, tx uint64, at time.Duration) ncVerdict {
		now := t0.Add(at)
		return n.use(nonce, cnonce, "101", nc, tx, now, now.Add(time.Minute))
	}
	steps := []struct {
		nonce, cnonce, nc string
		tx                uint64
		at                time.Duration
		want              ncVerdict
	}{
		{"n1", "c1", "00000001", 1, 0, ncFresh},
		{"n1", "c1", "00000001", 1, time.Second, ncResent}, // the same transaction, resent
		{"n1", "c1", "00000001", 9, time.Second, ncReplay}, // in another transaction
		{"n1", "c1", "00000001", 0, time.Second, ncReplay}, // no transaction known
		{"n1", "c1", "00000002", 2, time.Second, ncFresh},
		{"n1", "c1", "00000001", 1, time.Second, ncReplay},      // lower, though its transaction
		{"n1", "c1", "00000002", 2, 34 * time.Second, ncReplay}, // past the window
		{"n1", "c2", "00000001", 3, 0, ncFresh},                 // another client on an equal nonce
		{"n2", "c1", "00000001", 4, 0, ncFresh},
		{"n1", "c1", "00000002", 5, 30 * time.Second, ncReplay},
		{"n1", "c1", "00000002", 6, 61 * time.Second, ncFresh}, // forgotten with its nonce's lifetime
	}
	for i, s := range steps {
		if got := use(s.nonce, s.cnonce, s.nc, s.tx, s.at); got != s.want {
			t.Fatalf("step %d %+v: got %v, want %v", i, s, got, s.want)
		}
	}
	// The table stays within its bound.
	for i := 0; i < 10; i++ {
		use("n"+strconv.Itoa(10+i), "c", "00000001", 1, 70*time.Second)
	}
	if len(n.seen) > 3 {
		t.Fatalf("table holds %d entries, %d keys; want at most 3", len(n.seen), len(n.order))
	}
	if a, b := n.txTag("z9hG4bK1", "c", 1), n.txTag("z9hG4bK1", "c", 2); a == b || a != n.txTag("z9hG4bK1", "c", 1) {
		t.Fatalf("txTag: %x for CSeq 1 (twice %x), %x for CSeq 2", a, n.txTag("z9hG4bK1", "c", 1), b)
	}
}
