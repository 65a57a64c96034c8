package signaling

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// fakeTx is a server transaction that records responses.
type fakeTx struct {
	responses []*sip.Response
	done      chan struct{}
}

func (tx *fakeTx) Terminate()                           {}
func (tx *fakeTx) OnTerminate(f sip.FnTxTerminate) bool { return false }
func (tx *fakeTx) Done() <-chan struct{}                { return tx.done }
func (tx *fakeTx) Err() error                           { return nil }
func (tx *fakeTx) Acks() <-chan *sip.Request            { return nil }
func (tx *fakeTx) OnCancel(f sip.FnTxCancel) bool       { return false }
func (tx *fakeTx) Respond(res *sip.Response) error {
	tx.responses = append(tx.responses, res)
	return nil
}

var _ sip.ServerTransaction = (*fakeTx)(nil)

// FuzzHandleMessage feeds raw bytes through sipgo's parser into the
// server's request path, as a datagram from the network would go. Nothing
// may panic, and every response must serialise.
func FuzzHandleMessage(f *testing.F) {
	seeds := []string{
		"OPTIONS sip:acme.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@acme.test>;tag=1\r\nTo: <sip:acme.test>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:acme.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2\r\nFrom: <sip:101@acme.test>;tag=1\r\nTo: <sip:101@acme.test>\r\nCall-ID: 2\r\nCSeq: 1 REGISTER\r\nContact: <sip:101@192.0.2.1>;expires=30, *\r\nExpires: 99999999999\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:acme.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK3\r\nFrom: <sip:101@acme.test>;tag=1\r\nTo: <sip:101@acme.test>\r\nCall-ID: 3\r\nCSeq: 2 REGISTER\r\nAuthorization: Digest username=\"101\", realm=\"acme.test\", nonce=\"AAAA\", uri=\"sip:acme.test\", response=\"00\", qop=auth, nc=00000001, cnonce=\"x\"\r\nContent-Length: 0\r\n\r\n",
		"INVITE sip:102@acme.test SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK4\r\nFrom: <sip:101@acme.test>;tag=1\r\nTo: <sip:102@acme.test>\r\nCall-ID: 4\r\nCSeq: 1 INVITE\r\nRequire: foo\r\nContent-Length: 0\r\n\r\n",
		"BYE sip:102@acme.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK5\r\nFrom: <sip:101@acme.test>;tag=1\r\nTo: <sip:102@acme.test>;tag=2\r\nCall-ID: 5\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
		"\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if files, _ := filepath.Glob("../../../shared/testdata/rfc4475/*.dat"); len(files) > 0 {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	ctx := context.Background()
	db := storetest.OpenSQLite(f)
	tn := pbx.Tenant{Name: "acme", Domain: "acme.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		f.Fatal(err)
	}
	u := pbx.User{Name: "a", Email: "a@x", DisplayName: "a", Role: pbx.RoleStandardUser, ExtensionNumber: "101", ExtensionPassword: "pw", Enabled: true}
	if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{UDP: "127.0.0.1:0", RateLimit: -1, AuthFailures: -1}, Deps{Store: db})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := parser.ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		req.SetSource("192.0.2.1:5060")
		req.SetTransport("UDP")
		tx := &fakeTx{done: make(chan struct{})}
		s.serve(ctx, req, tx)
		for _, res := range tx.responses {
			if !strings.HasPrefix(res.String(), "SIP/2.0 ") {
				t.Fatalf("bad response %q", res.String())
			}
		}
	})
}
