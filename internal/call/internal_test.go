package call

import (
	"slices"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestFinalCode(t *testing.T) {
	for _, tc := range []struct {
		codes []int
		want  int
	}{
		{[]int{486, 486}, 486},
		{[]int{480, 486}, 486},
		{[]int{408, 503}, 480},
		{[]int{603, 480}, 603},
		{[]int{600}, 486},
		{nil, 480},
	} {
		if got := finalCode(tc.codes); got != tc.want {
			t.Errorf("finalCode(%v) = %d, want %d", tc.codes, got, tc.want)
		}
	}
}

func TestContactURI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<sip:102@10.0.0.5:5070;transport=udp>;expires=300", "sip:102@10.0.0.5:5070;transport=udp"},
		{"sip:102@10.0.0.5", "sip:102@10.0.0.5"},
		{`"Bob" <sip:102@host:5062;ob>`, "sip:102@host:5062;ob"},
	} {
		u, err := contactURI(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := u.String(); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := contactURI("<sip:102@host"); err == nil {
		t.Error("unclosed < accepted")
	}
}

func TestSessionExpires(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "x"})
	if _, ok := sessionExpires(req); ok {
		t.Error("no header: got an interval")
	}
	req.AppendHeader(sip.NewHeader("Session-Expires", "1800;refresher=uac"))
	req.AppendHeader(sip.NewHeader("Supported", "100rel, timer"))
	if d, ok := sessionExpires(req); !ok || d.Seconds() != 1800 {
		t.Errorf("got %v %v, want 1800 s", d, ok)
	}
	if !supportsTimer(req) {
		t.Error("timer in Supported not seen")
	}
}

func TestParseRAck(t *testing.T) {
	for _, tc := range []struct {
		in         string
		rseq, cseq uint32
		method     sip.RequestMethod
		ok         bool
	}{
		{"776656 1 INVITE", 776656, 1, sip.INVITE, true},
		{"  1   314159 invite ", 1, 314159, sip.INVITE, true},
		{"1 2", 0, 0, "", false},
		{"x 2 INVITE", 0, 0, "", false},
	} {
		req := sip.NewRequest(sip.PRACK, sip.Uri{Scheme: "sip", Host: "x"})
		req.AppendHeader(sip.NewHeader("RAck", tc.in))
		rseq, cseq, method, ok := parseRAck(req)
		if rseq != tc.rseq || cseq != tc.cseq || method != tc.method || ok != tc.ok {
			t.Errorf("parseRAck(%q) = %d %d %s %v, want %d %d %s %v", tc.in, rseq, cseq, method, ok, tc.rseq, tc.cseq, tc.method, tc.ok)
		}
	}
}

func TestSessionExpiresRefresher(t *testing.T) {
	for _, tc := range []struct {
		in        string
		secs      int
		refresher string
		ok        bool
	}{
		{"1800;refresher=uac", 1800, "uac", true},
		{"90; refresher = UAS", 90, "uas", true},
		{"600", 600, "", true},
		{"0;refresher=uac", 0, "", false},
		{"soon", 0, "", false},
	} {
		res := sip.NewResponse(200, "OK")
		res.AppendHeader(sip.NewHeader("Session-Expires", tc.in))
		d, r, ok := sessionExpiresRefresher(res)
		if int(d.Seconds()) != tc.secs || r != tc.refresher || ok != tc.ok {
			t.Errorf("%q: got %v %q %v, want %ds %q %v", tc.in, d, r, ok, tc.secs, tc.refresher, tc.ok)
		}
	}
}

// TestRetransmissionSchedule checks the resend times of RFC 3261 13.3.1.4
// (2xx: doubling up to T2) and RFC 3262 section 3 (reliable provisional:
// doubling without limit), and the give-up at 64*T1.
func TestRetransmissionSchedule(t *testing.T) {
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		name  string
		limit time.Duration
		want  []time.Duration
	}{
		{"2xx", sip.T2, []time.Duration{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}},
		{"reliable 1xx", 0, []time.Duration{500, 1500, 3500, 7500, 15500, 31500}},
	} {
		c := NewFakeClock(start)
		m := &Manager{clock: c}
		var got []time.Duration
		gaveUp := time.Duration(0)
		m.retransmit(func() { got = append(got, c.Now().Sub(start)/time.Millisecond) },
			func() { gaveUp = c.Now().Sub(start) }, tc.limit)
		c.Advance(time.Minute)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: resent at %v ms, want %v", tc.name, got, tc.want)
		}
		if gaveUp != 64*sip.T1 {
			t.Errorf("%s: gave up at %v, want %v", tc.name, gaveUp, 64*sip.T1)
		}
		if n := c.Pending(); n != 0 {
			t.Errorf("%s: %d timers left", tc.name, n)
		}
	}
	c := NewFakeClock(start)
	m := &Manager{clock: c}
	n := 0
	r := m.retransmit(func() { n++ }, func() { t.Error("gave up after stop") }, sip.T2)
	c.Advance(sip.T1)
	if !r.stop() || r.stop() {
		t.Error("stop: want true once")
	}
	c.Advance(time.Minute)
	if n != 1 {
		t.Errorf("resent %d times, want 1 before stop", n)
	}
}
