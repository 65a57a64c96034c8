package call_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

var (
	_ call.Users     = (*store.DB)(nil)
	_ call.CDRWriter = (*store.DB)(nil)
)

// locator is the fake registrar: bindings by extension.
type locator struct {
	mu sync.Mutex
	m  map[string][]pbx.Binding
}

func (l *locator) Contacts(_ context.Context, tenant pbx.TenantID, ext string) ([]pbx.Binding, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []pbx.Binding
	for _, b := range l.m[ext] {
		if b.Tenant == tenant {
			out = append(out, b)
		}
	}
	return out, nil
}

func (l *locator) add(tenant pbx.TenantID, ext string, p *phone) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[ext] = append(l.m[ext], pbx.Binding{
		Tenant: tenant, Extension: ext, Transport: "UDP",
		Contact: fmt.Sprintf("<sip:%s@%s;transport=udp>", ext, p.addr), Source: p.addr.String(),
	})
}

// env is a PBX under test: a real store, a sipgo server that hands
// requests to the Manager as signalling will (without authentication),
// and the fake locator.
type env struct {
	t      *testing.T
	db     *store.DB
	tenant pbx.Tenant
	loc    *locator
	mgr    *call.Manager
	addr   netip.AddrPort
	tcp    netip.AddrPort // the PBX's TCP listener
	clock  *call.FakeClock
	ctx    context.Context
	cancel context.CancelFunc // ends the server's context
}

type envOpts struct {
	ring, mediaTimeout time.Duration
	maxCalls           int // the tenant's max concurrent calls
	minSE              time.Duration
	sessionExpires     time.Duration // offered to callees; 0 is the default
	// clock, when set, runs the Manager's timers (and Now) instead of
	// the real clock.
	clock *call.FakeClock
	// router, when set, decides where calls go.
	router call.Router
	// codecs makes apps' codecs (call.Deps.Codecs).
	codecs func(name string) (enc, dec media.Codec, dtmf media.DTMFReceiver, err error)
	// inBand makes apps' in-band DTMF detectors (call.Deps.InBandDTMF).
	inBand func(rate int) (media.InBandDetector, error)
	// deps, when set, changes the Manager's Deps before call.New.
	deps func(*call.Deps)
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("GOPBX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := storetest.OpenSQLite(t)
	tn := pbx.Tenant{Name: "acme", Domain: "acme.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 100,
		MaxConcurrentCalls: o.maxCalls}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"101", "102", "103"} {
		u := pbx.User{Name: "u" + ext, DisplayName: "User " + ext, Role: pbx.RoleStandardUser, ExtensionNumber: ext, ExtensionPassword: "pw", Enabled: true}
		if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
			t.Fatal(err)
		}
	}

	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	tcpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr := tcpLn.Addr().(*net.TCPAddr).AddrPort()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("gopbx"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sipgo.NewClient(ua, sipgo.WithClientConnectionAddr(addr.String()))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := freeRange(t, 40)
	pool, err := media.NewPortPool(media.PortPoolConfig{IP: netip.MustParseAddr("127.0.0.1"), MinPort: lo, MaxPort: hi, Quarantine: -1})
	if err != nil {
		t.Fatal(err)
	}
	loc := &locator{m: map[string][]pbx.Binding{}}
	deps := call.Deps{
		Logger: testLogger(t), Client: cl, Locator: loc, Users: db, CDRs: db, NewID: db.NewID, Ports: pool,
		Contacts: map[string]sip.Uri{
			"UDP": {Scheme: "sip", Host: addr.Addr().String(), Port: int(addr.Port())},
			"TCP": {Scheme: "sip", Host: tcpAddr.Addr().String(), Port: int(tcpAddr.Port()), UriParams: sip.HeaderParams{{K: "transport", V: "tcp"}}},
		},
		RingTimeout: o.ring, MediaTimeout: o.mediaTimeout, MinSessionExpires: o.minSE, SessionExpires: o.sessionExpires,
		Router: o.router, Codecs: o.codecs, InBandDTMF: o.inBand,
	}
	if o.clock != nil {
		deps.Now = o.clock.Now
	}
	if o.deps != nil {
		o.deps(&deps)
	}
	mgr, err := call.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	if o.clock != nil {
		call.UseClock(mgr, o.clock)
	}
	e := &env{t: t, db: db, tenant: tn, loc: loc, mgr: mgr, addr: addr, tcp: tcpAddr, clock: o.clock, ctx: ctx, cancel: cancel}
	// The stand-in for signalling: tenant from the test, caller from From.
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if to := req.To(); to != nil && to.Params.Has("tag") {
			if !mgr.InDialog(ctx, req, tx) {
				tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			}
			return
		}
		u, err := db.UserByExtension(ctx, tn.ID, req.From().Address.User)
		if err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
		mgr.Invite(ctx, call.Origin{Tenant: tn, User: u, Source: req.Source(), Transport: req.Transport()}, req, tx)
	})
	inDialog := func(req *sip.Request, tx sip.ServerTransaction) {
		if !mgr.InDialog(ctx, req, tx) && tx != nil && !req.IsAck() {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	}
	for _, m := range []sip.RequestMethod{sip.ACK, sip.BYE, sip.CANCEL, sip.UPDATE, sip.INFO, sip.PRACK, sip.MESSAGE, sip.NOTIFY, sip.OPTIONS, sip.REFER} {
		srv.OnRequest(m, inDialog)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeUDP(conn)
	}()
	tcpDone := make(chan struct{})
	go func() {
		defer close(tcpDone)
		srv.ServeTCP(tcpLn)
	}()
	waitServing(t, ua, addr)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		if err := mgr.Close(cctx); err != nil {
			t.Errorf("close manager: %v", err)
		}
		cancel()
		ua.Close()
		conn.Close()
		tcpLn.Close()
		<-done
		<-tcpDone
	})
	return e
}

func freeRange(t testing.TB, n int) (int, int) { return siptest.FreeUDPRange(t, n) }

// waitTimers waits until the fake clock has n timers running: the
// Manager has caught up with what the phones sent.
func (e *env) waitTimers(n int) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.clock.Pending() != n {
		if time.Now().After(deadline) {
			e.t.Fatalf("timers: got %d, want %d", e.clock.Pending(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cdrs waits for n CDRs of the tenant and returns them, newest first.
func (e *env) cdrs(n int) []call.CDR {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, total, err := e.db.ListCDRs(context.Background(), e.tenant.ID, store.ListOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		if total >= n || time.Now().After(deadline) {
			if total != n {
				e.t.Fatalf("cdrs: got %d, want %d", total, n)
			}
			return list
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// behaviour says what a callee phone does with an INVITE.
type behaviour int

const (
	answer behaviour = iota
	busy
	ringForever
	earlyMedia // 183 with SDP and a packet of early media, then 200
	// reliableEarly sends a reliable 183 with SDP (Require: 100rel,
	// RSeq: 1), answers after its PRACK, and 200s the INVITE.
	reliableEarly
	// unavailable answers 503, as a failing trunk does.
	unavailable
	// challenge answers 407 to an INVITE without Proxy-Authorization and
	// answers the one that has it, as a carrier's proxy does.
	challenge
)

// phone is a SIP UA on loopback with an RTP socket, driven by the test.
type phone struct {
	t *testing.T
	// closed is set when the test is over: handlers that run late (a
	// retransmission, a timer) must not fail a finished test.
	closed atomic.Bool
	ext    string
	addr   netip.AddrPort
	rtp    *net.UDPConn
	client *sipgo.Client
	dsc    *sipgo.DialogServerCache
	dua    *sipgo.DialogUA
	do     behaviour
	delay  time.Duration
	// minSE, when set, makes the phone answer 422 to an INVITE whose
	// Session-Expires is shorter.
	minSE int
	// headers2xx returns headers to add to each 2xx to an INVITE or UPDATE
	// (a session timer, Allow).
	headers2xx func() []sip.Header
	// updateStatus is what the phone answers an UPDATE; 0 is 200.
	updateStatus int
	// hold, when set, makes a reliableEarly phone wait for it to close
	// before it answers.
	hold chan struct{}
	// noEvents leaves telephone-event out of the phone's SDP: its DTMF
	// goes in-band.
	noEvents bool

	mu       sync.Mutex
	answered chan *sipgo.DialogServerSession // the calls it answered
	invites  chan *sip.Request               // dialog-creating INVITEs received
	reqs     chan *sip.Request               // in-dialog requests received
	ended    chan *sip.Request               // INVITEs that ended without answer (CANCEL)
	pracks   chan *sip.Request               // PRACKs received (answered 200)
	// later holds in-dialog requests that next read while waiting for
	// another method, in arrival order: a BYE that overtakes a NOTIFY is
	// kept for the next(BYE) that follows next(NOTIFY). Only the test's
	// goroutine touches it.
	later []*sip.Request
}

func newPhone(t *testing.T, ext string, do behaviour) *phone {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("phone-" + ext))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	cl, _ := sipgo.NewClient(ua, sipgo.WithClientConnectionAddr(addr.String()))
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: ext, Host: "127.0.0.1", Port: int(addr.Port())}}
	p := newPhoneOn(t, ext, do, addr, rtp, cl, contact)
	p.handle(srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeUDP(conn)
	}()
	waitServing(t, ua, addr)
	t.Cleanup(func() {
		p.closed.Store(true)
		ua.Close()
		conn.Close()
		rtp.Close()
		<-done
	})
	return p
}

func newPhoneOn(t *testing.T, ext string, do behaviour, addr netip.AddrPort, rtp *net.UDPConn, cl *sipgo.Client, contact sip.ContactHeader) *phone {
	p := &phone{
		t: t, ext: ext, addr: addr, rtp: rtp, client: cl, do: do, delay: 50 * time.Millisecond,
		dsc:     sipgo.NewDialogServerCache(cl, contact),
		dua:     &sipgo.DialogUA{Client: cl, ContactHDR: contact},
		invites: make(chan *sip.Request, 10), answered: make(chan *sipgo.DialogServerSession, 10), reqs: make(chan *sip.Request, 20), ended: make(chan *sip.Request, 10),
		pracks: make(chan *sip.Request, 10),
	}
	t.Cleanup(func() { p.closed.Store(true) })
	return p
}

// errorf reports a failure seen by one of the phone's handlers, unless the
// test is already over.
func (p *phone) errorf(format string, args ...any) {
	if !p.closed.Load() {
		p.t.Errorf(format, args...)
	}
}

// handle serves the phone's requests from srv.
func (p *phone) handle(srv *sipgo.Server) {
	srv.OnInvite(p.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		p.dsc.ReadAck(req, tx)
		p.reqs <- req
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		p.reqs <- req
	})
	for _, m := range []sip.RequestMethod{sip.INFO, sip.MESSAGE, sip.NOTIFY} {
		srv.OnRequest(m, func(req *sip.Request, tx sip.ServerTransaction) {
			tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			p.reqs <- req
		})
	}
	srv.OnRequest(sip.UPDATE, func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		code := p.updateStatus
		p.mu.Unlock()
		if code == 0 {
			code = 200
		}
		res := sip.NewResponseFromRequest(req, code, "Status", nil)
		if code == 200 {
			p.add2xxHeaders(res)
		}
		tx.Respond(res)
		p.reqs <- req
	})
	srv.OnRequest(sip.PRACK, func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		p.pracks <- req
		p.reqs <- req
	})
}

func (p *phone) add2xxHeaders(res *sip.Response) {
	p.mu.Lock()
	f := p.headers2xx
	p.mu.Unlock()
	if f != nil {
		for _, h := range f() {
			res.AppendHeader(h)
		}
	}
}

// set changes the phone's behaviour fields under its lock.
func (p *phone) set(f func(p *phone)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// answerSDP answers ds with 200 and SDP, and the phone's extra headers.
func (p *phone) answerSDP(ds *sipgo.DialogServerSession) error {
	res := sip.NewSDPResponseFromRequest(ds.InviteRequest, p.sdp("sendrecv"))
	p.add2xxHeaders(res)
	return ds.WriteResponse(res)
}

// holdAnswer makes a reliableEarly phone wait to answer until the
// returned channel is closed.
func (p *phone) holdAnswer() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = make(chan struct{})
	return p.hold
}

func (p *phone) setDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

func (p *phone) sdp(dir string) []byte {
	if p.noEvents {
		return []byte(fmt.Sprintf("v=0\r\no=%s 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=%s\r\n", p.ext, p.rtp.LocalAddr().(*net.UDPAddr).Port, dir))
	}
	return []byte(fmt.Sprintf("v=0\r\no=%s 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n",
		p.ext, p.rtp.LocalAddr().(*net.UDPAddr).Port, dir))
}

func (p *phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if req.To().Params.Has("tag") {
		// re-INVITE: answer with the mirror direction.
		p.reqs <- req
		dir := "sendrecv"
		if s, err := sdp.Parse(req.Body()); err == nil && len(s.Media) > 0 {
			switch s.Direction(0) {
			case sdp.SendOnly:
				dir = "recvonly"
			case sdp.Inactive:
				dir = "inactive"
			}
		}
		res := sip.NewSDPResponseFromRequest(req, p.sdp(dir))
		res.AppendHeader(&p.dua.ContactHDR)
		p.add2xxHeaders(res)
		tx.Respond(res)
		return
	}
	p.invites <- req
	p.mu.Lock()
	minSE := p.minSE
	p.mu.Unlock()
	if minSE > 0 {
		if h := req.GetHeader("Session-Expires"); h != nil {
			v, _, _ := strings.Cut(h.Value(), ";")
			if n, _ := strconv.Atoi(v); n < minSE {
				res := sip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
				res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(minSE)))
				tx.Respond(res)
				return
			}
		}
	}
	if p.do == challenge && req.GetHeader("Proxy-Authorization") == nil {
		res := sip.NewResponseFromRequest(req, sip.StatusProxyAuthRequired, "Proxy Authentication Required", nil)
		res.AppendHeader(sip.NewHeader("Proxy-Authenticate", `Digest realm="carrier.test", nonce="abc123", algorithm=MD5, qop="auth"`))
		tx.Respond(res)
		return
	}
	if p.do == unavailable {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}
	ds, err := p.dsc.ReadInvite(req, tx)
	if err != nil {
		p.errorf("phone %s: read invite: %v", p.ext, err)
		return
	}
	switch p.do {
	case busy:
		ds.Respond(486, "Busy Here", nil)
	case ringForever:
		cancelled := make(chan struct{})
		tx.OnCancel(func(*sip.Request) { close(cancelled) })
		ds.Respond(180, "Ringing", nil)
		select {
		case <-cancelled:
			p.ended <- req
		case <-tx.Done():
		}
	case earlyMedia:
		ct := sip.ContentTypeHeader("application/sdp")
		ds.Respond(183, "Session Progress", p.sdp("sendrecv"), &ct, &p.dua.ContactHDR)
		if s, err := sdp.Parse(req.Body()); err == nil {
			time.Sleep(20 * time.Millisecond) // let the caller get the 183 first
			p.rtp.WriteToUDPAddrPort([]byte("early"), s.RTP(0))
		}
		time.Sleep(100 * time.Millisecond)
		if err := ds.RespondSDP(p.sdp("sendrecv")); err != nil {
			p.errorf("phone %s: answer: %v", p.ext, err)
		}
	case reliableEarly:
		ct := sip.ContentTypeHeader("application/sdp")
		ds.Respond(183, "Session Progress", p.sdp("sendrecv"), &ct, &p.dua.ContactHDR,
			sip.NewHeader("Require", "100rel"), sip.NewHeader("RSeq", "1"))
		select {
		case <-p.pracks:
		case <-time.After(5 * time.Second):
			p.errorf("phone %s: no prack", p.ext)
			return
		}
		p.mu.Lock()
		hold := p.hold
		p.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if err := p.answerSDP(ds); err != nil {
			p.errorf("phone %s: answer: %v", p.ext, err)
		}
		p.answered <- ds
	case answer, challenge:
		ds.Respond(180, "Ringing", nil)
		p.mu.Lock()
		delay := p.delay
		p.mu.Unlock()
		time.Sleep(delay)
		if err := p.answerSDP(ds); err != nil {
			p.errorf("phone %s: answer: %v", p.ext, err)
		}
		p.answered <- ds
	}
}

// invite returns the next dialog-creating INVITE the phone received.
func (p *phone) invite() *sip.Request {
	p.t.Helper()
	select {
	case r := <-p.invites:
		return r
	case <-time.After(5 * time.Second):
		p.t.Fatalf("phone %s got no INVITE", p.ext)
		return nil
	}
}

// server returns the next call the phone answered.
func (p *phone) server() *sipgo.DialogServerSession {
	p.t.Helper()
	select {
	case ds := <-p.answered:
		return ds
	case <-time.After(5 * time.Second):
		p.t.Fatalf("phone %s answered no call", p.ext)
		return nil
	}
}

// dial calls ext through the PBX and waits for the final answer; it
// returns the dialog (nil unless answered) and the final status.
func (p *phone) dial(ctx context.Context, pbxAddr netip.AddrPort, ext string, extra ...sip.Header) (*sipgo.DialogClientSession, int) {
	p.t.Helper()
	uri := sip.Uri{Scheme: "sip", User: ext, Host: pbxAddr.Addr().String(), Port: int(pbxAddr.Port())}
	from := &sip.FromHeader{DisplayName: "Phone " + p.ext, Address: sip.Uri{Scheme: "sip", User: p.ext, Host: "acme.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	ct := sip.ContentTypeHeader("application/sdp")
	sess, err := p.dua.Invite(ctx, uri, p.sdp("sendrecv"), append([]sip.Header{from, &ct}, extra...)...)
	if err != nil {
		p.t.Fatalf("invite: %v", err)
	}
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var de *sipgo.ErrDialogResponse
	switch {
	case err == nil:
		if err := sess.Ack(ctx); err != nil {
			p.t.Fatalf("ack: %v", err)
		}
		return sess, sess.InviteResponse.StatusCode
	case errors.As(err, &de):
		return nil, de.Res.StatusCode
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		if sess.InviteResponse != nil {
			return nil, sess.InviteResponse.StatusCode
		}
		return nil, 0
	}
	p.t.Fatalf("wait answer: %v", err)
	return nil, 0
}

// next waits for the next in-dialog request of method. Requests of other
// methods that arrive meanwhile are kept for later calls, so a test need
// not guess the order of requests the PBX sends at once (a transfer's last
// NOTIFY and its BYE).
func (p *phone) next(method sip.RequestMethod) *sip.Request {
	p.t.Helper()
	for i, r := range p.later {
		if r.Method == method {
			p.later = append(p.later[:i], p.later[i+1:]...)
			return r
		}
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case r := <-p.reqs:
			if r.Method == method {
				return r
			}
			p.later = append(p.later, r)
		case <-deadline:
			p.t.Fatalf("phone %s: no %s", p.ext, method)
			return nil
		}
	}
}

// media sends an RTP-sized packet to the address in sdpBody and returns
// it; recv reads one packet.
func (p *phone) sendRTP(body []byte, payload string) {
	p.t.Helper()
	s, err := sdp.Parse(body)
	if err != nil {
		p.t.Fatalf("parse sdp: %v\n%s", err, body)
	}
	if _, err := p.rtp.WriteToUDPAddrPort([]byte(payload), s.RTP(0)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *phone) recvRTP() (string, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 1500)
	p.rtp.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err := p.rtp.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("phone %s: no rtp: %v", p.ext, err)
	}
	return string(buf[:n]), from
}

func hasLine(body []byte, line string) bool {
	for _, l := range strings.Split(string(body), "\r\n") {
		if l == line {
			return true
		}
	}
	return false
}

// waitServing waits until ua's UDP listener on addr is in its connection
// pool, so that requests go out from it.
func waitServing(t testing.TB, ua *sipgo.UserAgent, addr netip.AddrPort) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if c, err := ua.TransportLayer().GetConnection("udp", addr.String()); err == nil && c != nil {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%v not serving", addr)
}
