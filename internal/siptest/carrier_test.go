//go:build unix

package siptest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The accounts of the test carrier. The trunk's password has characters
// that need quoting in Kamailio's config.
const (
	testTrunkUser = "gopbx-trunk"
	testTrunkPass = `tr"unk\pw$au`
	testAlice     = "14155550123"
	testBob       = "14155550124"
)

func testCarrierConfig() CarrierConfig {
	return CarrierConfig{
		TrunkUser:     testTrunkUser,
		TrunkPassword: testTrunkPass,
		Phones:        map[string]string{testAlice: "alice-pw", testBob: "bob-pw"},
		DIDPrefixA:    "1650555",
		DIDPrefixB:    "1212555",
		FailPrefixA:   "1999",
	}
}

// phone starts a Go UA that uses the carrier's A socket as user, with the
// password the config gives it; register makes it register first.
func phone(t *testing.T, ctx context.Context, c *Carrier, cfg CarrierConfig, user string, register bool) *UA {
	t.Helper()
	pw := cfg.Phones[user]
	if user == cfg.TrunkUser {
		pw = cfg.TrunkPassword
	}
	ua := New(t, Config{Server: c.A, Domain: c.Domain, User: user, Password: pw})
	if register {
		res, err := ua.Register(ctx, 300)
		if err != nil {
			t.Fatalf("register %s: %v", user, err)
		}
		if res.StatusCode != 200 {
			t.Fatalf("register %s: got %d %s, want 200", user, res.StatusCode, res.Reason)
		}
	}
	return ua
}

// answer makes ua answer calls with 200 and an SDP answer.
func answer(ua *UA) {
	ua.Answer(func(req *sip.Request) (int, []byte) { return 200, SDP("127.0.0.1:6000") })
}

// nextRequest returns the next request of ch or fails the test at ctx's end.
func nextRequest(t *testing.T, ctx context.Context, ch <-chan *sip.Request, what string) *sip.Request {
	t.Helper()
	select {
	case req := <-ch:
		return req
	case <-ctx.Done():
		t.Fatalf("%s: none arrived", what)
		return nil
	}
}

// checkSource fails the test unless req came from ip.
func checkSource(t *testing.T, req *sip.Request, ip string) {
	t.Helper()
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil || host != ip {
		t.Errorf("%s came from %s, want %s", req.Method, req.Source(), ip)
	}
}

// rawInvite returns an INVITE without credentials for ruri, sent from
// laddr, for exchangeUDP.
func rawInvite(ruri, domain string) func(laddr string) string {
	return func(laddr string) string {
		tag := randomToken()
		return "INVITE " + ruri + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + laddr + ";rport;branch=z9hG4bK" + tag + "\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:stranger@" + domain + ">;tag=" + tag + "\r\n" +
			"To: <" + ruri + ">\r\n" +
			"Call-ID: " + tag + "@siptest\r\n" +
			"CSeq: 1 INVITE\r\n" +
			"Contact: <sip:stranger@" + laddr + ">\r\n" +
			"Content-Length: 0\r\n\r\n"
	}
}

// dialogStatus returns the final status of a failed Invite, or 0.
func dialogStatus(err error) int {
	var e *sipgo.ErrDialogResponse
	if errors.As(err, &e) {
		return e.Res.StatusCode
	}
	return 0
}

// TestCarrierPhoneToPhone: PSTN phones register at A with digest auth
// (bad credentials refused), and one calls the other through A: the
// INVITE is challenged, answered, and ACK and BYE follow the Record-Route.
func TestCarrierPhoneToPhone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := testCarrierConfig()
	c := StartCarrier(t, cfg)

	for _, bad := range []Config{
		{User: testAlice, Password: "wrong"},
		{User: "14155559999", Password: "alice-pw"},
	} {
		ua := New(t, Config{Server: c.A, Domain: c.Domain, User: bad.User, Password: bad.Password})
		res, err := ua.Register(ctx, 300)
		if err != nil {
			t.Fatalf("register %s with a bad password: %v", bad.User, err)
		}
		if res.StatusCode != 403 && res.StatusCode != 401 {
			t.Errorf("register %s with a bad password: got %d, want 403 or 401", bad.User, res.StatusCode)
		}
	}

	status, text, err := exchangeUDP("127.0.0.1", c.A, 3*time.Second, rawInvite("sip:"+testBob+"@"+c.Domain, c.Domain))
	if err != nil {
		t.Fatal(err)
	}
	if status != 407 || !strings.Contains(text, `realm="`+c.Domain+`"`) {
		t.Errorf("invite without credentials: got %d, want 407 with realm %q:\n%s", status, c.Domain, text)
	}

	alice := phone(t, ctx, c, cfg, testAlice, true)
	bob := phone(t, ctx, c, cfg, testBob, true)
	answer(bob)
	d, err := alice.Invite(ctx, "sip:"+testBob+"@"+c.Domain, SDP("127.0.0.1:4000"))
	if err != nil {
		t.Fatalf("alice calls bob: %v", err)
	}
	inv := nextRequest(t, ctx, bob.Incoming(), "INVITE at bob")
	checkSource(t, inv, carrierIPA)
	if got := inv.Recipient.User; got != testBob {
		t.Errorf("R-URI user at bob = %q, want %q", got, testBob)
	}
	if got := inv.From().Address.User; got != testAlice {
		t.Errorf("From user at bob = %q, want %q", got, testAlice)
	}
	if h := inv.GetHeader("Proxy-Authorization"); h != nil {
		t.Errorf("credentials reached bob: %s", h.Value())
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	bye := nextRequest(t, ctx, bob.Byes(), "BYE at bob")
	checkSource(t, bye, carrierIPA)
	if log := c.Log(); !strings.Contains(log, "carrier: in-dialog ACK") {
		t.Errorf("the carrier did not route the ACK")
	}
}

// TestCarrierDIDToRegisteredTrunk: a call to a DID of trunk A goes to the
// Contact the trunk registered, from A, with the DID as R-URI user.
func TestCarrierDIDToRegisteredTrunk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := testCarrierConfig()
	c := StartCarrier(t, cfg)
	trunk := phone(t, ctx, c, cfg, testTrunkUser, true)
	answer(trunk)
	alice := phone(t, ctx, c, cfg, testAlice, false)

	did := cfg.DIDPrefixA + "0100"
	d, err := alice.Invite(ctx, "sip:"+did+"@"+c.Domain, SDP("127.0.0.1:4000"))
	if err != nil {
		t.Fatalf("alice calls %s: %v", did, err)
	}
	inv := nextRequest(t, ctx, trunk.Incoming(), "INVITE at the trunk")
	checkSource(t, inv, carrierIPA)
	if got := inv.Recipient.User; got != did {
		t.Errorf("R-URI user at the trunk = %q, want %q", got, did)
	}
	if got, want := inv.Recipient.HostPort(), trunk.LocalAddr(); got != want {
		t.Errorf("R-URI host at the trunk = %q, want its Contact %q", got, want)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	checkSource(t, nextRequest(t, ctx, trunk.Byes(), "BYE at the trunk"), carrierIPA)

	// Once the trunk unregisters, its DIDs are unavailable.
	res, err := trunk.Register(ctx, 0)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("unregister: %v %v", res, err)
	}
	if _, err := alice.Invite(ctx, "sip:"+did+"@"+c.Domain, nil); dialogStatus(err) != 480 {
		t.Errorf("call to %s with the trunk unregistered: got %v, want 480", did, err)
	}
}

// TestCarrierHonoursExpires: the registrar keeps the expiry the phone asks
// for, and a binding is gone once it expires.
func TestCarrierHonoursExpires(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := testCarrierConfig()
	c := StartCarrier(t, cfg)
	bob := phone(t, ctx, c, cfg, testBob, false)
	answer(bob)
	res, err := bob.Register(ctx, 1)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	if h := res.GetHeader("Contact"); h == nil || !strings.Contains(h.Value(), "expires=1") {
		t.Errorf("200 to REGISTER with Expires 1: Contact %v, want expires=1", h)
	}
	alice := phone(t, ctx, c, cfg, testAlice, false)
	time.Sleep(1500 * time.Millisecond)
	if _, err := alice.Invite(ctx, "sip:"+testBob+"@"+c.Domain, nil); dialogStatus(err) != 404 {
		t.Errorf("call to bob after his registration expired: got %v, want 404", err)
	}
}

// TestCarrierCancel: a CANCEL follows the INVITE through the carrier.
func TestCarrierCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := testCarrierConfig()
	c := StartCarrier(t, cfg)
	alice := phone(t, ctx, c, cfg, testAlice, false)
	bob := phone(t, ctx, c, cfg, testBob, true)
	ringing := make(chan struct{})
	bob.Answer(func(req *sip.Request) (int, []byte) {
		// Bob never answers before the caller gives up.
		select {
		case <-ringing:
		case <-time.After(3 * time.Second):
		}
		return 480, nil
	})
	defer close(ringing)

	callCtx, hangUp := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		// sipgo builds the CANCEL from the INVITE without its destination
		// and resolves the R-URI host instead: so the host is A itself.
		_, err := alice.Invite(callCtx, "sip:"+testBob+"@"+c.A, nil)
		errc <- err
	}()
	nextRequest(t, ctx, bob.Incoming(), "INVITE at bob")
	hangUp()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("cancelled call was answered")
		}
	case <-ctx.Done():
		t.Fatal("cancelled call did not end")
	}
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(c.Log(), "carrier: cancel ") {
		if time.Now().After(deadline) {
			t.Fatal("the carrier did not relay the CANCEL")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCarrierDIDToIPTrunk: a call to a DID of trunk B goes to the PBX's
// address from B, as sip:DID@PBX.
func TestCarrierDIDToIPTrunk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pbx := New(t, Config{Domain: "pbx.test", User: "pbx"})
	answer(pbx)
	cfg := testCarrierConfig()
	cfg.PBX = pbx.LocalAddr()
	c := StartCarrier(t, cfg)
	alice := phone(t, ctx, c, cfg, testAlice, false)

	did := cfg.DIDPrefixB + "0100"
	d, err := alice.Invite(ctx, "sip:"+did+"@"+c.Domain, SDP("127.0.0.1:4000"))
	if err != nil {
		t.Fatalf("alice calls %s: %v", did, err)
	}
	inv := nextRequest(t, ctx, pbx.Incoming(), "INVITE at the PBX")
	checkSource(t, inv, carrierIPB)
	if got, want := inv.Recipient.String(), "sip:"+did+"@"+cfg.PBX; got != want {
		t.Errorf("R-URI at the PBX = %q, want %q", got, want)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	checkSource(t, nextRequest(t, ctx, pbx.Byes(), "BYE at the PBX"), carrierIPB)
}

// TestCarrierIPTrunkToPhone: B takes calls from the PBX's IP without
// credentials and sends them to the phone from A, where it registered;
// from any other address B refuses them.
func TestCarrierIPTrunkToPhone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pbx := New(t, Config{Domain: "pbx.test", User: "pbx"})
	cfg := testCarrierConfig()
	cfg.PBX = pbx.LocalAddr()
	c := StartCarrier(t, cfg)
	alice := phone(t, ctx, c, cfg, testAlice, true)
	answer(alice)

	// gopbx places calls from its IP, not necessarily from its listener.
	out := New(t, Config{Server: c.B, Domain: "pbx.test", User: "14155550100"})
	d, err := out.Invite(ctx, "sip:"+testAlice+"@"+c.Domain, SDP("127.0.0.1:4000"))
	if err != nil {
		t.Fatalf("pbx calls alice through B: %v", err)
	}
	inv := nextRequest(t, ctx, alice.Incoming(), "INVITE at alice")
	checkSource(t, inv, carrierIPA)
	if got := inv.Recipient.User; got != testAlice {
		t.Errorf("R-URI user at alice = %q, want %q", got, testAlice)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	checkSource(t, nextRequest(t, ctx, alice.Byes(), "BYE at alice"), carrierIPA)

	status, text, err := exchangeUDP("127.0.0.9", c.B, 3*time.Second, rawInvite("sip:"+testAlice+"@"+c.Domain, c.Domain))
	if err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("invite to B from 127.0.0.9: got %d, want 403:\n%s", status, text)
	}
}

// TestCarrierFailoverAndOptions: A answers 503 to the trunk's calls to
// FailPrefixA, and both sockets answer keep-alive OPTIONS.
func TestCarrierFailoverAndOptions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pbx := New(t, Config{Domain: "pbx.test", User: "pbx"})
	cfg := testCarrierConfig()
	cfg.PBX = pbx.LocalAddr()
	c := StartCarrier(t, cfg)
	trunk := phone(t, ctx, c, cfg, testTrunkUser, false)

	_, err := trunk.Invite(ctx, "sip:"+cfg.FailPrefixA+"5550100@"+c.Domain, SDP("127.0.0.1:4000"))
	if got := dialogStatus(err); got != 503 {
		t.Errorf("trunk calls %s5550100: got %d (%v), want 503", cfg.FailPrefixA, got, err)
	}
	for _, addr := range []string{c.A, c.B} {
		ua := New(t, Config{Server: addr, Domain: c.Domain, User: testTrunkUser})
		res, err := ua.Options(ctx)
		if err != nil {
			t.Fatalf("options to %s: %v", addr, err)
		}
		if res.StatusCode != 200 {
			t.Errorf("options to %s: got %d, want 200", addr, res.StatusCode)
		}
	}
}

// TestCarrierPassesIdentityHeaders: From, P-Asserted-Identity, Privacy and
// Remote-Party-ID reach the phone as the trunk sent them.
func TestCarrierPassesIdentityHeaders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := testCarrierConfig()
	c := StartCarrier(t, cfg)
	alice := phone(t, ctx, c, cfg, testAlice, true)
	alice.Answer(func(req *sip.Request) (int, []byte) { return 486, nil })
	trunk := phone(t, ctx, c, cfg, testTrunkUser, false)

	req, err := trunk.NewRequest(sip.INVITE, "sip:"+testAlice+"@"+c.Domain)
	if err != nil {
		t.Fatal(err)
	}
	req.RemoveHeader("From")
	from := &sip.FromHeader{DisplayName: "Alice Example", Address: sip.Uri{Scheme: "sip", User: "+14155550100", Host: "pbx.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", "f00d")
	req.AppendHeader(from)
	sent := map[string]string{
		"P-Asserted-Identity": `"Alice Example" <sip:+14155550100@pbx.test>`,
		"Privacy":             "id",
		"Remote-Party-ID":     `"Alice Example" <sip:+14155550100@pbx.test>;party=calling;screen=yes;privacy=full`,
	}
	for name, value := range sent {
		req.AppendHeader(sip.NewHeader(name, value))
	}
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: testTrunkUser, Host: "127.0.0.1", Port: 5060}})
	res, err := trunk.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 486 {
		t.Errorf("trunk calls alice: got %d, want 486 (alice is busy)", res.StatusCode)
	}
	inv := nextRequest(t, ctx, alice.Incoming(), "INVITE at alice")
	if got, want := inv.From().Value(), from.Value(); got != want {
		t.Errorf("From at alice = %q, want %q", got, want)
	}
	for name, want := range sent {
		h := inv.GetHeader(name)
		if h == nil {
			t.Errorf("%s did not reach alice", name)
			continue
		}
		if got := h.Value(); got != want {
			t.Errorf("%s at alice = %q, want %q", name, got, want)
		}
	}
}

// TestCarrierConfigChecks: names that would need quoting inside Kamailio
// pseudo-variables are refused, and a carrier without trunk or PBX still
// starts, with B refusing everyone.
func TestCarrierConfigChecks(t *testing.T) {
	for name, cfg := range map[string]CarrierConfig{
		"user with a quote":      {Phones: map[string]string{`14"15`: "pw"}},
		"user with a paren":      {TrunkUser: "trunk)", TrunkPassword: "pw"},
		"pbx without a port":     {PBX: "127.0.0.1"},
		"pbx by name":            {PBX: "pbx.test:5060"},
		"prefix with a dollar":   {DIDPrefixA: "$rU"},
		"trunk is another phone": {TrunkUser: testAlice, TrunkPassword: "x", Phones: map[string]string{testAlice: "alice-pw"}},
		"password with a line":   {Phones: map[string]string{testAlice: "a\nb"}},
	} {
		if _, err := newCarrierTemplate(cfg, "/nowhere"); err == nil {
			t.Errorf("%s: config accepted", name)
		}
	}

	c := StartCarrier(t, CarrierConfig{Phones: map[string]string{testAlice: "alice-pw"}})
	if c.Domain != DefaultCarrierDomain {
		t.Errorf("domain = %q, want %q", c.Domain, DefaultCarrierDomain)
	}
	status, text, err := exchangeUDP("127.0.0.1", c.B, 3*time.Second, rawInvite("sip:"+testAlice+"@"+c.Domain, c.Domain))
	if err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Errorf("invite to B without a PBX: got %d, want 403:\n%s", status, text)
	}
}

// TestCarrierTLS starts the carrier with B over TLS: a client that trusts
// CAPEM completes the handshake for 127.0.0.3, one that does not fails.
func TestCarrierTLS(t *testing.T) {
	c := StartCarrier(t, CarrierConfig{PBX: "127.0.0.1:5999", Phones: map[string]string{testAlice: "pw"}, TLS: true})
	if host, _, err := net.SplitHostPort(c.BTLS); err != nil || host != carrierIPB || c.BTLS == c.B {
		t.Fatalf("BTLS %q, B %q", c.BTLS, c.B)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CAPEM) {
		t.Fatal("CAPEM holds no certificate")
	}
	conn, err := tls.Dial("tcp", c.BTLS, &tls.Config{RootCAs: pool, ServerName: carrierIPB})
	if err != nil {
		t.Fatalf("trusted dial: %v", err)
	}
	conn.Close()
	if conn, err := tls.Dial("tcp", c.BTLS, &tls.Config{ServerName: carrierIPB}); err == nil {
		conn.Close()
		t.Fatal("a client without the test CA accepted the carrier's certificate")
	}
}
