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
	// Without a Callee nothing is registered: the calls go to DID.
	Caller, CallerPassword string
	Callee, CalleePassword string
	// DID, when set, is the number the calls go to instead of Callee: a
	// number that an inbound rule of the PBX routes to Callee, or one the
	// PBX answers itself (an IVR, a voicemail box).
	DID string
	// DIDCount, above 1, spreads the calls over that many numbers from
	// DID (which must then be numeric): call i goes to DID + i%DIDCount.
	DIDCount int
	// Digits are key presses each answered call sends as RFC 4733
	// telephone-events (offered at payload type 101; sent at the type of
	// the PBX's answer), each At its offset from the answer. A call the
	// PBX hangs up within React of its last digit (default 5 s) had them
	// detected: for an IVR whose key hangs up.
	Digits []Digit
	React  time.Duration
	// GapLimit is the largest gap between two RTP packets from the PBX
	// that a call may have and not count in Report.GapCalls; default
	// 40 ms.
	GapLimit time.Duration
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

// Digit is a key pressed At an offset from the call's answer.
type Digit struct {
	Key rune
	At  time.Duration
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
	// PBXHangups counts answered calls the PBX hung up before Hold ended.
	PBXHangups int
	// DigitCalls counts calls that sent all their Digits; Reacted those
	// the PBX hung up on within React of the last one.
	DigitCalls, Reacted int
	// GapP50, GapP99 and GapMax are over the answered calls that heard the
	// PBX: each call's largest gap between two RTP packets from the PBX,
	// from the first until either side hangs up. GapCalls counts the calls
	// whose largest gap exceeded GapLimit. The gaps are arrival times in
	// this process, so they include its own scheduling delays.
	GapP50, GapP99, GapMax time.Duration
	GapCalls               int
}

// String formats the report for people.
func (r Report) String() string {
	loss := 0.0
	if r.RTPSent > 0 {
		loss = 100 * (1 - float64(r.RTPReceived)/float64(r.RTPSent))
	}
	s := fmt.Sprintf("calls %d answered %d failed %d %v in %v: %.1f calls/s, setup p50 %v p99 %v; rtp sent %d received %d (loss %.2f%%, deaf endpoints %d)",
		r.Attempted, r.Answered, r.Failed, r.Status, r.Elapsed.Round(time.Millisecond), r.CPS,
		r.SetupP50.Round(time.Microsecond), r.SetupP99.Round(time.Microsecond), r.RTPSent, r.RTPReceived, loss, r.DeafPeers)
	s += fmt.Sprintf("; largest gap per call p50 %v p99 %v max %v, calls over the limit %d; hung up by the pbx %d",
		r.GapP50.Round(time.Millisecond), r.GapP99.Round(time.Millisecond), r.GapMax.Round(time.Millisecond), r.GapCalls, r.PBXHangups)
	if r.DigitCalls > 0 {
		s += fmt.Sprintf("; digits sent in %d calls, reacted to in %d", r.DigitCalls, r.Reacted)
	}
	return s
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
	if cfg.React <= 0 {
		cfg.React = 5 * time.Second
	}
	if cfg.GapLimit <= 0 {
		cfg.GapLimit = 40 * time.Millisecond
	}
	target, err := netip.ParseAddrPort(cfg.Target)
	if err != nil {
		return Report{}, fmt.Errorf("load: target: %w", err)
	}
	if cfg.Callee == "" && cfg.DID == "" {
		return Report{}, errors.New("load: a callee or a DID is needed")
	}
	var didBase int
	if cfg.DIDCount > 1 {
		if didBase, err = strconv.Atoi(cfg.DID); err != nil {
			return Report{}, fmt.Errorf("load: DIDCount needs a numeric DID: %w", err)
		}
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

	var rtpSent, rtpRecv atomic.Uint64
	if cfg.Callee != "" {
		stopCallee, err := serveCallee(ctx, cfg, target, pc, tot, &rtpSent, &rtpRecv)
		if err != nil {
			return Report{}, err
		}
		defer stopCallee()
	}

	caller, err := newAgent(cfg.CallerIP, "sipbench-caller")
	if err != nil {
		return Report{}, err
	}
	defer caller.close()
	var byes sync.Map // Call-ID → chan struct{}, closed by the PBX's BYE
	caller.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		if v, ok := byes.LoadAndDelete(req.CallID().Value()); ok {
			close(v.(chan struct{}))
		}
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
		gaps    []time.Duration
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
			called := cfg.Callee
			if cfg.DIDCount > 1 {
				called = strconv.Itoa(didBase + i%cfg.DIDCount)
			} else if cfg.DID != "" {
				called = cfg.DID
			}
			r := oneCall(ctx, dua, &byes, target, cfg, called, pc, tot, onUp)
			mu.Lock()
			defer mu.Unlock()
			rep.Attempted++
			rtpSent.Add(r.sent)
			rtpRecv.Add(r.recv)
			if r.code != 200 {
				rep.Failed++
				rep.Status[r.code]++
				return
			}
			rep.Answered++
			setups = append(setups, r.setup)
			if r.heard {
				gaps = append(gaps, r.maxGap)
				if r.maxGap > cfg.GapLimit {
					rep.GapCalls++
				}
			}
			if r.hungUp {
				rep.PBXHangups++
			}
			if r.digits {
				rep.DigitCalls++
			}
			if r.reacted {
				rep.Reacted++
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
	slices.Sort(gaps)
	if n := len(gaps); n > 0 {
		rep.GapP50, rep.GapP99, rep.GapMax = gaps[n/2], gaps[min(n-1, n*99/100)], gaps[n-1]
	}
	// Let the last BYEs reach the callee before counting its packets.
	time.Sleep(100 * time.Millisecond)
	rep.RTPSent, rep.RTPReceived = rtpSent.Load(), rtpRecv.Load()
	rep.DeafPeers = int(tot.deaf.Load())
	return rep, ctx.Err()
}

// serveCallee registers cfg.Callee from a UA that answers every call with
// RTP (paced by pc when cfg.RTP), adding each call's packets to rtpSent
// and rtpRecv when it ends; stop hangs the UA up.
func serveCallee(ctx context.Context, cfg Config, target netip.AddrPort, pc *pacer, tot *counters, rtpSent, rtpRecv *atomic.Uint64) (stop func(), err error) {
	callee, err := newAgent(cfg.LocalIP, "sipbench-callee")
	if err != nil {
		return nil, err
	}
	var rtpWG sync.WaitGroup
	var calleePeers sync.Map // Call-ID → *rtpPeer
	stop = func() {
		// Calls whose BYE never came still hold their sockets.
		calleePeers.Range(func(k, v any) bool {
			v.(*rtpPeer).conn.Close()
			return true
		})
		rtpWG.Wait()
		callee.close()
	}
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
		if err := ds.RespondSDP(sdpFor(cfg.LocalIP, peer.port(), false)); err != nil {
			cfg.Logger.Debug("answer", "error", err)
		}
	})
	callee.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		dsc.ReadAck(req, tx)
	})
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
		stop()
		return nil, err
	}
	if err := register(ctx, callee, target, cfg); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
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

// callResult is what one call came to.
type callResult struct {
	setup      time.Duration
	code       int // final status of the INVITE; 0 when none came
	sent, recv uint64
	// maxGap is the largest gap between two RTP packets from the PBX;
	// heard is false when fewer than two came.
	maxGap time.Duration
	heard  bool
	// hungUp: the PBX hung up first; digits: all cfg.Digits were sent;
	// reacted: the PBX hung up within cfg.React of the last one.
	hungUp, digits, reacted bool
}

// oneCall places one call to called, holds it with RTP, sends cfg.Digits,
// and hangs up when cfg.Hold ends unless the PBX did first.
func oneCall(ctx context.Context, dua *sipgo.DialogUA, byes *sync.Map, target netip.AddrPort, cfg Config, called string, pc *pacer, tot *counters, onUp func(int)) (r callResult) {
	peer, err := newRTPPeer(cfg.CallerIP, tot)
	if err != nil {
		return r
	}
	readDone := make(chan struct{})
	go func() { defer close(readDone); peer.read() }()
	defer func() {
		pc.remove(peer)
		peer.conn.Close()
		<-readDone
		r.sent, r.recv = peer.sent.Load(), peer.recv.Load()
		r.maxGap, r.heard = time.Duration(peer.maxGap), r.recv > 1
		tot.done(peer)
	}()
	uri := sip.Uri{Scheme: "sip", User: called, Host: cfg.Domain}
	req := sip.NewRequest(sip.INVITE, uri)
	req.SetDestination(target.String())
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: cfg.Caller, Host: cfg.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: uri})
	// The Call-ID is ours so that the PBX's BYE finds this call.
	callID := sip.CallIDHeader(sip.GenerateTagN(24))
	req.AppendHeader(&callID)
	bye := make(chan struct{})
	byes.Store(string(callID), bye)
	defer byes.Delete(string(callID))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetBody(sdpFor(cfg.CallerIP, peer.port(), len(cfg.Digits) > 0))
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	sess, err := dua.WriteInvite(cctx, req)
	if err != nil {
		return r
	}
	defer sess.Close()
	err = sess.WaitAnswer(cctx, sipgo.AnswerOptions{Username: cfg.Caller, Password: cfg.CallerPassword})
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		r.code = de.Res.StatusCode
		return r
	} else if err != nil {
		return r
	}
	r.setup = time.Since(start)
	if err := sess.Ack(cctx); err != nil {
		return r
	}
	answered := time.Now()
	onUp(1)
	defer onUp(-1)
	setDst(peer, sess.InviteResponse.Body())
	if cfg.RTP {
		pc.add(peer)
	}
	r.code = 200
	hold := time.NewTimer(cfg.Hold)
	defer hold.Stop()
	var lastDigit time.Time
	next := 0 // the next digit to send
	for {
		var due <-chan time.Time
		if next < len(cfg.Digits) {
			due = time.After(time.Until(answered.Add(cfg.Digits[next].At)))
		}
		select {
		case <-due:
			if !peer.press(cfg.Digits[next].Key) {
				next = len(cfg.Digits) + 1 // not sent: no digits counted
				continue
			}
			if next++; next == len(cfg.Digits) {
				lastDigit, r.digits = time.Now(), true
			}
			continue
		case <-bye:
			peer.gapStop.Store(true)
			r.hungUp = true
			r.reacted = r.digits && time.Since(lastDigit) <= cfg.React
			return r
		case <-hold.C:
		case <-ctx.Done():
		}
		break
	}
	peer.gapStop.Store(true)
	pc.remove(peer)
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer bcancel()
	if err := sess.Bye(bctx); err != nil {
		cfg.Logger.Debug("bye", "error", err)
	}
	return r
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
