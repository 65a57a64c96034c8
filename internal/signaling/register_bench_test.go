package signaling

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/registrar"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// BenchmarkRegisterHandling measures what the edge does for one
// registration, without the network and sipgo's parsing: the challenge of
// the first REGISTER, then the digest check of the second (credentials
// cached, as on a refresh) and the registrar's update. Run with -benchmem:
// the allocations are what the garbage collector pays for under load.
func BenchmarkRegisterHandling(b *testing.B) {
	ctx := context.Background()
	db := storetest.OpenSQLite(b)
	tn := pbx.Tenant{Name: "acme", Domain: "acme.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		b.Fatal(err)
	}
	u := pbx.User{Name: "a", Email: "a@x", DisplayName: "a", Role: pbx.RoleStandardUser, ExtensionNumber: "101", ExtensionPassword: "pw", Enabled: true}
	if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{UDP: "127.0.0.1:0", NonceLifetime: time.Hour}, Deps{Store: db})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	parse := func(raw string) *sip.Request {
		msg, err := sip.NewParser().ParseSIP([]byte(strings.ReplaceAll(raw, "\n", "\r\n")))
		if err != nil {
			b.Fatal(err)
		}
		req := msg.(*sip.Request)
		req.SetSource("192.0.2.50:5060")
		req.SetTransport("UDP")
		return req
	}
	const head = `REGISTER sip:acme.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK`
	const tail = `
From: <sip:101@acme.test>;tag=1
To: <sip:101@acme.test>
Call-ID: c1
Contact: <sip:101@192.0.2.50:5060>
Expires: 300
User-Agent: bench
`
	nonce := s.nonces.make("acme.test", time.Now())
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		nc := strconv.FormatUint(uint64(i+1), 16)
		nc = strings.Repeat("0", 8-len(nc)) + nc
		first := parse(head + "a" + strconv.Itoa(i) + tail + "CSeq: " + strconv.Itoa(2*i+1) + " REGISTER\nContent-Length: 0\n\n")
		resp := digestResponse("MD5", "101", "acme.test", "pw", "REGISTER", "sip:acme.test", nonce, nc, "cn", "auth")
		second := parse(head + "b" + strconv.Itoa(i) + tail + "CSeq: " + strconv.Itoa(2*i+2) + " REGISTER\n" +
			`Authorization: Digest username="101", realm="acme.test", nonce="` + nonce + `", uri="sip:acme.test", response="` +
			resp + `", algorithm=MD5, qop=auth, nc=` + nc + `, cnonce="cn"` + "\nContent-Length: 0\n\n")
		b.StartTimer()

		if _, _, res := s.authenticateRegister(ctx, first); res == nil || res.StatusCode != 401 {
			b.Fatalf("first REGISTER: got %v, want 401", res)
		}
		cred, _, res := s.authenticateRegister(ctx, second)
		if res != nil {
			b.Fatalf("second REGISTER: got %v, want it accepted", res)
		}
		res = s.reg.Register(ctx, registrar.Request{SIP: second, Tenant: cred.tenant, User: cred.user,
			Extension: cred.extension, Source: second.Source(), Transport: "UDP"})
		if res.StatusCode != 200 {
			b.Fatalf("register: got %v, want 200", res)
		}
	}
}
