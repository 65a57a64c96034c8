package signaling_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/certs"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/siptest"
	"github.com/gopbx/gopbx/internal/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// quickCtx is short: a blocked source gets no answer, and the client's
// retransmissions would otherwise run for 32 s.
func quickCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

func TestBruteForceBlocks(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := newEnv(t, func(c *signaling.Config) {
		c.Now, c.AuthFailures, c.AuthFailWindow, c.BlockFor = clk.now, 3, time.Minute, 10*time.Minute
	})
	ctx := ctxT(t)
	bad := e.ua(t, "udp", "101", "wrong")
	for i := 0; i < 2; i++ {
		if res, err := bad.Register(ctx, 300); err != nil || res.StatusCode != 403 {
			t.Fatalf("attempt %d: %v %v", i, res, err)
		}
	}
	// The third failure blocks: no answer, to this or anything else.
	if res, err := bad.Register(quickCtx(t), 300); err == nil {
		t.Fatalf("third attempt answered: %v", res.Short())
	}
	if res, err := e.ua(t, "udp", "999", "").Options(quickCtx(t)); err == nil {
		t.Fatalf("blocked source got OPTIONS answer %v", res.Short())
	}
	fs, _, err := e.db.ListIPFilters(ctx, store.ListOptions{})
	if err != nil || len(fs) != 1 || fs[0].CIDR != "127.0.0.1/32" || fs[0].Target != store.IPFilterDeny ||
		!fs[0].ExpireAt.Equal(clk.now().Add(10*time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("ip filters = %+v, %v", fs, err)
	}
	// An administrator lifts the block.
	if err := e.db.DeleteIPFilter(ctx, fs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.ReloadIPFilters(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := e.ua(t, "udp", "999", "").Options(ctxT(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("after lifting: %v %v", res, err)
	}
	// Blocked again, the block ends by itself.
	for i := 0; i < 2; i++ {
		bad.Register(ctx, 300)
	}
	bad.Register(quickCtx(t), 300)
	if _, err := e.ua(t, "tcp", "999", "").Options(quickCtx(t)); err == nil {
		t.Fatal("blocked source answered over TCP")
	}
	clk.advance(11 * time.Minute)
	if res, err := e.ua(t, "udp", "999", "").Options(ctxT(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("after the block ended: %v %v", res, err)
	}
	// A restart reloads the blocks that are still on.
	for i := 0; i < 3; i++ {
		bad.Register(quickCtx(t), 300)
	}
	e.stop()
	srv, _ := start(t, e.db, baseConfigWith(t, func(c *signaling.Config) { c.Now = clk.now }), signaling.Deps{})
	ua := siptest.New(t, siptest.Config{Server: srv.Addr("udp"), Domain: domain, User: "999", Logger: testLogger(t)})
	if _, err := ua.Options(quickCtx(t)); err == nil {
		t.Fatal("block lost on restart")
	}
}

func baseConfigWith(t testing.TB, mod func(*signaling.Config)) signaling.Config {
	c := baseConfig(t)
	mod(&c)
	return c
}

func TestAllowListNeverBlocks(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.AuthFailures, c.AllowList = 2, []string{"127.0.0.0/8"} })
	bad := e.ua(t, "udp", "101", "wrong")
	for i := 0; i < 4; i++ {
		if res, err := bad.Register(ctxT(t), 300); err != nil || res.StatusCode != 403 {
			t.Fatalf("attempt %d: %v %v", i, res, err)
		}
	}
}

func TestRateLimit(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := newEnv(t, func(c *signaling.Config) { c.Now, c.RateLimit = clk.now, 5 })
	ua := e.ua(t, "udp", "999", "")
	ok := 0
	for i := 0; i < 12; i++ {
		if res, err := ua.Options(quickCtx(t)); err == nil && res.StatusCode == 200 {
			ok++
		}
	}
	// A burst of twice the rate passes (the clock stands still), the rest is dropped.
	if ok != 10 {
		t.Fatalf("%d of 12 answered, want 10", ok)
	}
	clk.advance(time.Second)
	if res, err := ua.Options(ctxT(t)); err != nil || res.StatusCode != 200 {
		t.Fatalf("after refill: %v %v", res, err)
	}
}

// calls is a CallHandler with func fields; nil fields refuse.
type calls struct {
	invite   func(ctx context.Context, o call.Origin, req *sip.Request, tx sip.ServerTransaction)
	inDialog func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) bool
}

func (c *calls) Invite(ctx context.Context, o call.Origin, req *sip.Request, tx sip.ServerTransaction) {
	c.invite(ctx, o, req, tx)
}

func (c *calls) InDialog(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) bool {
	if c.inDialog == nil {
		return false
	}
	return c.inDialog(ctx, req, tx)
}

var _ signaling.CallHandler = (*calls)(nil)

func TestInviteReachesCallHandler(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	caller := e.ua(t, "udp", "101", password)

	// Without a handler: 503.
	if _, err := caller.Invite(ctx, "sip:102@"+domain, siptest.SDP("127.0.0.1:4000")); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("no handler: %v", err)
	}

	origins := make(chan call.Origin, 1)
	methods := make(chan string, 4)
	host, port, _ := sip.ParseAddr(e.srv.Addr("udp"))
	e.srv.SetCallHandler(&calls{
		invite: func(ctx context.Context, o call.Origin, req *sip.Request, tx sip.ServerTransaction) {
			origins <- o
			res := sip.NewResponseFromRequest(req, 200, "OK", siptest.SDP("127.0.0.1:5000"))
			res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: host, Port: port}})
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			tx.Respond(res)
		},
		inDialog: func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) bool {
			methods <- string(req.Method)
			if req.Method == sip.ACK {
				return true
			}
			if req.Method == sip.BYE {
				tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
				return true
			}
			return false
		},
	})
	next := func(want string) {
		t.Helper()
		select {
		case m := <-methods:
			if m != want {
				t.Fatalf("in-dialog got %s, want %s", m, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s reached the handler", want)
		}
	}
	d, err := caller.Invite(ctx, "sip:102@"+domain, siptest.SDP("127.0.0.1:4000"))
	if err != nil {
		t.Fatal(err)
	}
	o := <-origins
	if o.Tenant.ID != e.tenant.ID || o.User.ID != e.users["101"].ID || o.Transport != "UDP" || o.Source != caller.LocalAddr() {
		t.Fatalf("origin = %+v", o)
	}
	next("ACK")
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	next("BYE")

	// A request of no known dialog: 481.
	req, _ := caller.NewRequest(sip.INFO, "sip:102@"+domain)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "102", Host: domain}, Params: sip.NewParams()}
	to.Params.Add("tag", "nope")
	req.AppendHeader(to)
	res, err := caller.Do(ctx, req)
	if err != nil || res.StatusCode != 481 {
		t.Fatalf("unknown dialog: %v %v", res, err)
	}
	// Wrong password on INVITE: 403 after the 407.
	_, err = e.ua(t, "udp", "101", "nope").Invite(ctx, "sip:102@"+domain, nil)
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != 403 {
		t.Fatalf("bad password invite: %v", err)
	}
}

// TestRequestsReachPhonesOnTheirFlow sends OPTIONS from the PBX to each
// registered phone through Server.Client, to the binding's Source: over TCP
// and TLS the phone has no listener, so only the connection it registered
// on can carry the request.
func TestRequestsReachPhonesOnTheirFlow(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	for _, tr := range []string{"udp", "tcp", "tls"} {
		ua := e.ua(t, tr, "102", "secret102")
		if res, err := ua.Register(ctx, 300); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s register: %v %v", tr, res, err)
		}
		bs, err := e.srv.Registrar().Contacts(ctx, e.tenant.ID, "102")
		if err != nil || len(bs) == 0 {
			t.Fatalf("contacts: %v %v", bs, err)
		}
		b := bs[len(bs)-1]
		var uri sip.Uri
		if err := sip.ParseUri(b.Contact, &uri); err != nil {
			t.Fatal(err)
		}
		req := sip.NewRequest(sip.OPTIONS, uri)
		req.SetDestination(b.Source)
		req.SetTransport(b.Transport)
		res, err := e.srv.Client().Do(ctx, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: OPTIONS to phone: %v %v", tr, res, err)
		}
		ua.Register(ctx, 0)
	}
}

// TestTLS answers OPTIONS over TLS with the self-signed certificate it
// created on first start, and reuses that certificate on the next.
func TestTLS(t *testing.T) {
	e := newEnv(t, nil)
	conn, err := tls.Dial("tcp", e.srv.Addr("tls"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := "OPTIONS sip:acme.test SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bKtls1;rport\r\n" +
		"From: <sip:x@acme.test>;tag=1\r\nTo: <sip:acme.test>\r\nCall-ID: tls1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("got %q, %v", line, err)
	}
	before, _ := os.ReadFile(e.cfg.TLSCert)
	if _, err := certs.LoadOrCreate(e.cfg.TLSCert, e.cfg.TLSKey, nil); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(e.cfg.TLSCert); len(before) == 0 || !bytes.Equal(before, after) {
		t.Fatal("certificate not kept")
	}
}

func TestTCPKeepAlive(t *testing.T) {
	e := newEnv(t, nil)
	conn, err := net.Dial("tcp", e.srv.Addr("tcp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2)
	if _, err := conn.Read(buf); err != nil || !bytes.Equal(buf, []byte("\r\n")) {
		t.Fatalf("pong = %q, %v", buf, err)
	}
}

func TestRestartKeepsBindings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gopbx.db")
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Config{DSN: path})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	seed(t, db)
	srv, stop := start(t, db, baseConfig(t), signaling.Deps{})
	ctx := ctxT(t)
	ua := siptest.New(t, siptest.Config{Server: srv.Addr("udp"), Domain: domain, User: "101", Password: password, Logger: testLogger(t)})
	if res, err := ua.Register(ctx, 300, "<sip:101@10.0.0.1>", "<sip:101@10.0.0.2>"); err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	stop()
	db.Close()

	db = open()
	defer db.Close()
	srv, _ = start(t, db, baseConfig(t), signaling.Deps{})
	tn, err := db.TenantByDomain(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := srv.Registrar().Contacts(ctx, tn.ID, "101")
	if err != nil || len(bs) != 2 {
		t.Fatalf("after restart: %v %v", bs, err)
	}
	ua2 := siptest.New(t, siptest.Config{Server: srv.Addr("udp"), Domain: domain, User: "101", Password: password, Logger: testLogger(t)})
	if res, err := ua2.Query(ctx); err != nil || len(res.GetHeaders("Contact")) != 2 {
		t.Fatalf("query after restart: %v %v", res, err)
	}
}

// TestClientUDPFromListener sends a request to a UA that never sent the PBX
// anything (a trunk, say): with Laddr set to the UDP listener, it leaves
// from the listening port, as its Via says.
func TestClientUDPFromListener(t *testing.T) {
	e := newEnv(t, nil)
	ua := e.ua(t, "udp", "999", "")
	var uri sip.Uri
	if err := sip.ParseUri("sip:999@"+ua.LocalAddr(), &uri); err != nil {
		t.Fatal(err)
	}
	host, port, _ := sip.ParseAddr(e.srv.Addr("udp"))
	req := sip.NewRequest(sip.OPTIONS, uri)
	req.Laddr = sip.Addr{IP: net.ParseIP(host), Port: port}
	res, err := e.srv.Client().Do(ctxT(t), req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("options: %v %v", res, err)
	}
	if via := res.Via(); via == nil || via.Port != port {
		t.Fatalf("Via = %v, want port %d", via, port)
	}
}
