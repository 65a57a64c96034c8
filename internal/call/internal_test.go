package call

import (
	"testing"

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
