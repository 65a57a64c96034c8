package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/gopbx/gopbx/internal/media/sdp"
)

// Config says what load to put on which PBX.
type Config struct {
	// Target is the PBX's UDP SIP address, ip:port.
	Target string
	// Domain is the tenant's SIP domain.
	Domain string
	// Caller and Callee are extension numbers and their SIP passwords.
	// A caller without a password answers no challenge: it plays a carrier
	// on an IP-authenticated trunk, whose calls come from CallerIP.
	Caller, CallerPassword string
	Callee, CalleePassword string
	// DID, when set, is the number the calls go to instead of Callee: a
	// number that an inbound rule of the PBX routes to Callee.
	DID string
	// Calls is how many calls to place; Concurrency how many may be up at
	// once; Rate caps new calls per second (0: no cap).
	Calls       int
	Concurrency int
	Rate        float64
	// Hold is how long each answered call stays up.
	Hold time.Duration
	// RTP sends G.711 (PCMU, 20 ms) both ways while calls are up.
	RTP bool
	// LocalIP is the address the generator binds to; default 127.0.0.1.
	LocalIP string
	// CallerIP is the address the caller's SIP and RTP sockets bind to;
	// default LocalIP. The callee registers from LocalIP.
	CallerIP string
	// Watch lists server processes (pids) whose CPU time and resident
	// memory are sampled over a steady window: from the moment all
	// cfg.Calls calls are up for Window (which should end before the
	// first call's Hold does). RTP is counted over that window too.
	Watch  []int
	Window time.Duration
	Logger *slog.Logger
}

// ProcSample is what one watched process used over the steady window.
type ProcSample struct {
	PID int
	// CPU is user+system time used over the window; RSSBefore is the
	// resident memory before the first call, RSSUp with all calls up.
	CPU              time.Duration
	RSSBefore, RSSUp int64 // KiB
	FDsBefore, FDsUp int
}

// Report is what a run measured.
type Report struct {
	Attempted, Answered, Failed int
	Elapsed                     time.Duration
	// CPS is answered calls per second over the run.
	CPS float64
	// SetupP50 and SetupP99 are INVITE-to-200 latencies.
	SetupP50, SetupP99 time.Duration
	// RTPSent and RTPReceived count packets over both directions.
	RTPSent, RTPReceived uint64
	// Status counts final statuses of calls that failed.
	Status map[int]int
	// MaxUp is the most calls up at once; Window is the steady window's
	// actual length (0: never reached); WinSent and WinReceived count RTP
	// packets over it; Procs are the watched processes over it.
	MaxUp int
	// DeafPeers counts RTP endpoints (two per answered call) that sent
	// packets but received none: one-way or no audio.
	DeafPeers            int
	Window               time.Duration
	WinSent, WinReceived uint64
	Procs                []ProcSample
}

// String formats the report for people.
func (r Report) String() string {
	loss := 0.0
	if r.RTPSent > 0 {
		loss = 100 * (1 - float64(r.RTPReceived)/float64(r.RTPSent))
	}
	return fmt.Sprintf("calls %d answered %d failed %d %v in %v: %.1f calls/s, setup p50 %v p99 %v; rtp sent %d received %d (loss %.2f%%, deaf endpoints %d)",
		r.Attempted, r.Answered, r.Failed, r.Status, r.Elapsed.Round(time.Millisecond), r.CPS,
		r.SetupP50.Round(time.Microsecond), r.SetupP99.Round(time.Microsecond), r.RTPSent, r.RTPReceived, loss, r.DeafPeers)
}

// agent is one SIP UA of the generator with its own UDP socket.
type agent struct {
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	conn   net.PacketConn
	addr   netip.AddrPort
	done   chan struct{}
}

func newAgent(ip, name string) (*agent, error) {
	conn, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return nil, fmt.Errorf("new agent: %w", err)
	}
	a := &agent{conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), done: make(chan struct{})}
	a.ua, err = sipgo.NewUA(sipgo.WithUserAgent(name))
	if err == nil {
		a.srv, err = sipgo.NewServer(a.ua)
	}
	if err == nil {
		a.client, err = sipgo.NewClient(a.ua, sipgo.WithClientConnectionAddr(a.addr.String()))
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("new agent: %w", err)
	}
	return a, nil
}

func (a *agent) serve() error {
	go func() {
		defer close(a.done)
		a.srv.ServeUDP(a.conn)
	}()
	for i := 0; i < 1000; i++ {
		if c, err := a.ua.TransportLayer().GetConnection("udp", a.addr.String()); err == nil && c != nil {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("agent not serving")
}

func (a *agent) close() {
	a.ua.Close()
	a.conn.Close()
	<-a.done
}

// rtpPeer is one end of a call's media: a socket, where to send, counters.
type rtpPeer struct {
	tot  *counters
	conn *net.UDPConn
	dst  atomic.Pointer[netip.AddrPort]
	seq  uint16
	ts   uint32
	ssrc uint32
	recv atomic.Uint64
	sent atomic.Uint64
}

// counters add up the packets of every peer of a run.
type counters struct {
	sent, recv atomic.Uint64
	deaf       atomic.Int64
}

// done counts p's packets as finished: a peer that sent but heard
// nothing is deaf.
func (c *counters) done(p *rtpPeer) {
	if p.sent.Load() > 0 && p.recv.Load() == 0 {
		c.deaf.Add(1)
	}
}

func newRTPPeer(ip string, tot *counters) (*rtpPeer, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		return nil, err
	}
	return &rtpPeer{tot: tot, conn: c, ssrc: uint32(time.Now().UnixNano())}, nil
}

func (p *rtpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// read counts packets until the socket closes.
func (p *rtpPeer) read() {
	buf := make([]byte, 1500)
	for {
		if _, _, err := p.conn.ReadFromUDPAddrPort(buf); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.recv.Add(1)
		p.tot.recv.Add(1)
	}
}

// send sends one 20 ms PCMU packet of silence.
func (p *rtpPeer) send(buf []byte) {
	dst := p.dst.Load()
	if dst == nil {
		return
	}
	p.seq++
	p.ts += 160
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}}
	n, err := pkt.Header.MarshalTo(buf)
	if err != nil {
		return
	}
	for i := n; i < n+160; i++ {
		buf[i] = 0xff
	}
	if _, err := p.conn.WriteToUDPAddrPort(buf[:n+160], *dst); err == nil {
		p.sent.Add(1)
		p.tot.sent.Add(1)
	}
}

func sdpFor(ip string, port int) []byte {
	return []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", ip, ip, port))
}

func setDst(p *rtpPeer, body []byte) {
	s, err := sdp.Parse(body)
	if err != nil || len(s.Media) == 0 || !s.RTP(0).IsValid() {
		return
	}
	d := s.RTP(0)
	p.dst.Store(&d)
}

// pacer sends a packet for every registered peer each 20 ms, from one
// goroutine, so that thousands of calls do not need thousands of tickers.
type pacer struct {
	mu    sync.Mutex
	peers map[*rtpPeer]struct{}
}

func (pc *pacer) add(p *rtpPeer) {
	pc.mu.Lock()
	pc.peers[p] = struct{}{}
	pc.mu.Unlock()
}

func (pc *pacer) remove(p *rtpPeer) {
	pc.mu.Lock()
	delete(pc.peers, p)
	pc.mu.Unlock()
}

func (pc *pacer) run(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	buf := make([]byte, 1500)
	var list []*rtpPeer
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pc.mu.Lock()
		list = list[:0]
		for p := range pc.peers {
			list = append(list, p)
		}
		pc.mu.Unlock()
		for _, p := range list {
			p.send(buf)
		}
	}
}

// Run registers the callee, places cfg.Calls calls (to cfg.DID when set,
// else to the callee) and returns what it measured. It returns when every
// call is over or ctx ends.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.LocalIP == "" {
		cfg.LocalIP = "127.0.0.1"
	}
	if cfg.CallerIP == "" {
		cfg.CallerIP = cfg.LocalIP
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	target, err := netip.ParseAddrPort(cfg.Target)
	if err != nil {
		return Report{}, fmt.Errorf("load: target: %w", err)
	}
	pc := &pacer{peers: map[*rtpPeer]struct{}{}}
	tot := &counters{}
	before := make([]ProcSample, len(cfg.Watch))
	for i, pid := range cfg.Watch {
		before[i] = sampleProc(pid)
	}
	pcCtx, pcCancel := context.WithCancel(ctx)
	var pcDone sync.WaitGroup
	if cfg.RTP {
		pcDone.Add(1)
		go func() { defer pcDone.Done(); pc.run(pcCtx) }()
	}
	defer func() {
		pcCancel()
		pcDone.Wait()
	}()

	callee, err := newAgent(cfg.LocalIP, "sipbench-callee")
	if err != nil {
		return Report{}, err
	}
	defer callee.close()
	var rtpWG sync.WaitGroup
	var calleePeers sync.Map // Call-ID → *rtpPeer
	defer func() {
		// Calls whose BYE never came still hold their sockets.
		calleePeers.Range(func(k, v any) bool {
			v.(*rtpPeer).conn.Close()
			return true
		})
		rtpWG.Wait()
	}()
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: cfg.Callee, Host: callee.addr.Addr().String(), Port: int(callee.addr.Port())}}
	// The dialog cache answers like a phone: it retransmits its 2xx until
	// the ACK comes, so a lost packet costs a retransmission, not a call.
	dsc := sipgo.NewDialogServerCache(callee.client, contact)
	callee.srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		ds, err := dsc.ReadInvite(req, tx)
		if err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
			return
		}
		peer, err := newRTPPeer(cfg.LocalIP, tot)
		if err != nil {
			ds.Respond(500, "Server Internal Error", nil)
			return
		}
		setDst(peer, req.Body())
		calleePeers.Store(req.CallID().Value(), peer)
		rtpWG.Add(1)
		go func() { defer rtpWG.Done(); peer.read() }()
		if cfg.RTP {
			pc.add(peer)
		}
		if err := ds.RespondSDP(sdpFor(cfg.LocalIP, peer.port())); err != nil {
			cfg.Logger.Debug("answer", "error", err)
		}
	})
	callee.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		dsc.ReadAck(req, tx)
	})
	var rtpSent, rtpRecv atomic.Uint64
	callee.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := dsc.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		}
		if v, ok := calleePeers.LoadAndDelete(req.CallID().Value()); ok {
			p := v.(*rtpPeer)
			pc.remove(p)
			p.conn.Close()
			tot.done(p)
			rtpSent.Add(p.sent.Load())
			rtpRecv.Add(p.recv.Load())
		}
	})
	if err := callee.serve(); err != nil {
		return Report{}, err
	}
	if err := register(ctx, callee, target, cfg); err != nil {
		return Report{}, err
	}

	caller, err := newAgent(cfg.CallerIP, "sipbench-caller")
	if err != nil {
		return Report{}, err
	}
	defer caller.close()
	caller.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	if err := caller.serve(); err != nil {
		return Report{}, err
	}
	dua := &sipgo.DialogUA{Client: caller.client, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: cfg.Caller, Host: caller.addr.Addr().String(), Port: int(caller.addr.Port())}}}

	var (
		up, maxUp, answered atomic.Int64
		allUp               = make(chan struct{})
		winDone             = make(chan struct{})
		winRep              Report
	)
	onUp := func(delta int) {
		n := up.Add(int64(delta))
		for m := maxUp.Load(); n > m && !maxUp.CompareAndSwap(m, n); m = maxUp.Load() {
		}
		if delta > 0 && int(answered.Add(1)) == cfg.Calls {
			close(allUp)
		}
	}
	go func() {
		defer close(winDone)
		if len(cfg.Watch) == 0 && cfg.Window <= 0 {
			return
		}
		select {
		case <-allUp:
		case <-ctx.Done():
			return
		}
		if cfg.Window <= 0 {
			return
		}
		t0 := time.Now()
		s0, r0 := tot.sent.Load(), tot.recv.Load()
		p0 := make([]ProcSample, len(cfg.Watch))
		for i, pid := range cfg.Watch {
			p0[i] = sampleProc(pid)
		}
		select {
		case <-time.After(cfg.Window):
		case <-ctx.Done():
			return
		}
		if int(up.Load()) < cfg.Calls {
			cfg.Logger.Warn("a call ended inside the window: make -hold longer")
		}
		winRep.Window = time.Since(t0)
		winRep.WinSent, winRep.WinReceived = tot.sent.Load()-s0, tot.recv.Load()-r0
		for i, pid := range cfg.Watch {
			p1 := sampleProc(pid)
			winRep.Procs = append(winRep.Procs, ProcSample{PID: pid, CPU: p1.CPU - p0[i].CPU,
				RSSBefore: before[i].RSSUp, RSSUp: p1.RSSUp, FDsBefore: before[i].FDsUp, FDsUp: p1.FDsUp})
		}
	}()
	var (
		mu      sync.Mutex
		rep     = Report{Status: map[int]int{}}
		setups  []time.Duration
		wg      sync.WaitGroup
		sem     = make(chan struct{}, cfg.Concurrency)
		started = time.Now()
	)
	var tick <-chan time.Time
	if cfg.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
		defer t.Stop()
		tick = t.C
	}
loop:
	for i := 0; i < cfg.Calls; i++ {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				break loop
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			setup, code, sent, recv := oneCall(ctx, dua, target, cfg, pc, tot, onUp)
			mu.Lock()
			defer mu.Unlock()
			rep.Attempted++
			rtpSent.Add(sent)
			rtpRecv.Add(recv)
			if code == 200 {
				rep.Answered++
				setups = append(setups, setup)
			} else {
				rep.Failed++
				rep.Status[code]++
			}
		}()
	}
	wg.Wait()
	rep.Elapsed = time.Since(started)
	select {
	case <-allUp:
		<-winDone
	default:
	}
	rep.MaxUp = int(maxUp.Load())
	rep.Window, rep.WinSent, rep.WinReceived, rep.Procs = winRep.Window, winRep.WinSent, winRep.WinReceived, winRep.Procs
	if rep.Elapsed > 0 {
		rep.CPS = float64(rep.Answered) / rep.Elapsed.Seconds()
	}
	slices.Sort(setups)
	if n := len(setups); n > 0 {
		rep.SetupP50 = setups[n/2]
		rep.SetupP99 = setups[min(n-1, n*99/100)]
	}
	// Let the last BYEs reach the callee before counting its packets.
	time.Sleep(100 * time.Millisecond)
	rep.RTPSent, rep.RTPReceived = rtpSent.Load(), rtpRecv.Load()
	rep.DeafPeers = int(tot.deaf.Load())
	return rep, ctx.Err()
}

func register(ctx context.Context, a *agent, target netip.AddrPort, cfg Config) error {
	uri := sip.Uri{Scheme: "sip", Host: cfg.Domain}
	req := sip.NewRequest(sip.REGISTER, uri)
	req.SetDestination(target.String())
	aor := sip.Uri{Scheme: "sip", User: cfg.Callee, Host: cfg.Domain}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: cfg.Callee, Host: a.addr.Addr().String(), Port: int(a.addr.Port())}})
	req.AppendHeader(sip.NewHeader("Expires", "3600"))
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := a.client.Do(rctx, req)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = a.client.DoDigestAuth(rctx, req, res, sipgo.DigestAuth{Username: cfg.Callee, Password: cfg.CalleePassword})
		if err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("register: %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// oneCall places one call, holds it with RTP, and hangs up.
func oneCall(ctx context.Context, dua *sipgo.DialogUA, target netip.AddrPort, cfg Config, pc *pacer, tot *counters, onUp func(int)) (setup time.Duration, code int, sent, recv uint64) {
	peer, err := newRTPPeer(cfg.CallerIP, tot)
	if err != nil {
		return 0, 0, 0, 0
	}
	readDone := make(chan struct{})
	go func() { defer close(readDone); peer.read() }()
	defer func() {
		pc.remove(peer)
		peer.conn.Close()
		<-readDone
		sent, recv = peer.sent.Load(), peer.recv.Load()
		tot.done(peer)
	}()
	called := cfg.Callee
	if cfg.DID != "" {
		called = cfg.DID
	}
	uri := sip.Uri{Scheme: "sip", User: called, Host: cfg.Domain}
	req := sip.NewRequest(sip.INVITE, uri)
	req.SetDestination(target.String())
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: cfg.Caller, Host: cfg.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: uri})
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(sdpFor(cfg.CallerIP, peer.port()))
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	sess, err := dua.WriteInvite(cctx, req)
	if err != nil {
		return 0, 0, 0, 0
	}
	defer sess.Close()
	err = sess.WaitAnswer(cctx, sipgo.AnswerOptions{Username: cfg.Caller, Password: cfg.CallerPassword})
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return 0, de.Res.StatusCode, 0, 0
	} else if err != nil {
		return 0, 0, 0, 0
	}
	setup = time.Since(start)
	if err := sess.Ack(cctx); err != nil {
		return setup, 0, 0, 0
	}
	onUp(1)
	defer onUp(-1)
	setDst(peer, sess.InviteResponse.Body())
	if cfg.RTP {
		pc.add(peer)
	}
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
	}
	pc.remove(peer)
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer bcancel()
	if err := sess.Bye(bctx); err != nil {
		cfg.Logger.Debug("bye", "error", err)
	}
	return setup, 200, 0, 0
}

// sampleProc reads a process's CPU time (utime+stime), resident memory
// and open descriptors from /proc; zero values when it cannot.
func sampleProc(pid int) ProcSample {
	s := ProcSample{PID: pid}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name, which ends with the last ')'.
		if i := bytes.LastIndexByte(b, ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 13 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				s.CPU = time.Duration(ut+st) * time.Second / 100 // USER_HZ
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				s.RSSUp, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	if es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.FDsUp = len(es)
	}
	return s
}

// SampleProc is sampleProc for the command line: CPU time, VmRSS (KiB)
// and open descriptors of pid.
func SampleProc(pid int) ProcSample { return sampleProc(pid) }
