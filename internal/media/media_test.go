package media

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"
)

var loopback = netip.MustParseAddr("127.0.0.1")

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func freeRange(t testing.TB, n int) (int, int) { return siptest.FreeUDPRange(t, n) }

func TestPortPoolQuarantine(t *testing.T) {
	lo, hi := freeRange(t, 4) // two pairs
	clk := &fakeClock{t: time.Unix(1000, 0)}
	p, err := NewPortPool(PortPoolConfig{IP: loopback, MinPort: lo, MaxPort: hi, Quarantine: 30 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if a.Port%2 != 0 || b.Port%2 != 0 || a.Port == b.Port {
		t.Fatalf("ports %d %d: want distinct even ports", a.Port, b.Port)
	}
	if got := a.RTCP.LocalAddr().(*net.UDPAddr).Port; got != a.Port+1 {
		t.Errorf("rtcp port: got %d, want %d", got, a.Port+1)
	}
	if _, err := p.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("third pair: got %v, want ErrNoPorts", err)
	}
	a.Close()
	a.Close() // idempotent
	if _, err := p.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("resting port reused: got %v, want ErrNoPorts", err)
	}
	clk.Add(29 * time.Second)
	if got := p.Available(); got != 0 {
		t.Fatalf("available after 29 s: got %d, want 0", got)
	}
	clk.Add(time.Second)
	c, err := p.Listen()
	if err != nil {
		t.Fatalf("after quarantine: %v", err)
	}
	if c.Port != a.Port {
		t.Errorf("got port %d, want rested %d", c.Port, a.Port)
	}
	c.Close()
	b.Close()
}

// TestPortPoolLeastRecentlyFreedFirst checks that a freed pair goes to the
// back of the queue: with spare pairs, reuse waits for the whole cycle.
func TestPortPoolLeastRecentlyFreedFirst(t *testing.T) {
	lo, hi := freeRange(t, 6) // three pairs
	clk := &fakeClock{t: time.Unix(1000, 0)}
	p, err := NewPortPool(PortPoolConfig{IP: loopback, MinPort: lo, MaxPort: hi, Quarantine: time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i := 0; i < 3; i++ {
		clk.Add(2 * time.Second)
		pr, err := p.Listen()
		if err != nil {
			t.Fatal(err)
		}
		if seen[pr.Port] {
			t.Fatalf("pair %d reused before the others were used", pr.Port)
		}
		seen[pr.Port] = true
		pr.Close()
	}
}

func TestPortPoolSkipsTakenPorts(t *testing.T) {
	lo, hi := freeRange(t, 4)
	squatter, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: lo + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	p, err := NewPortPool(PortPoolConfig{IP: loopback, MinPort: lo, MaxPort: hi, Quarantine: -1})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if pr.Port != lo+2 {
		t.Errorf("got port %d, want %d (the pair after the taken one)", pr.Port, lo+2)
	}
}

func TestPortPoolBadConfig(t *testing.T) {
	for _, c := range []PortPoolConfig{
		{MinPort: 40000, MaxPort: 40010},
		{IP: loopback, MinPort: 40000, MaxPort: 40000},
		{IP: loopback, MinPort: 100, MaxPort: 200},
	} {
		if _, err := NewPortPool(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// phone is a UDP socket standing in for a phone's RTP port.
type phone struct {
	t    *testing.T
	conn *net.UDPConn
}

func newPhone(t *testing.T) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &phone{t: t, conn: c}
}

func (p *phone) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *phone) send(to netip.AddrPort, b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

func (p *phone) recv() ([]byte, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 2000)
	p.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("recv: %v", err)
	}
	return buf[:n], from
}

func newTestRelay(t *testing.T, cfg RelayConfig) *Relay {
	t.Helper()
	lo, hi := freeRange(t, 4)
	p, err := NewPortPool(PortPoolConfig{IP: loopback, MinPort: lo, MaxPort: hi, Quarantine: -1})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.A, err = p.Listen(); err != nil {
		t.Fatal(err)
	}
	if cfg.B, err = p.Listen(); err != nil {
		t.Fatal(err)
	}
	r := NewRelay(cfg)
	r.Start(context.Background())
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRelayForwardsAndLatches(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	pa, pb := newPhone(t), newPhone(t)
	pbNAT := newPhone(t) // where B really sends from: behind NAT its SDP lies
	pbRTCP := newPhone(t)
	r.SetPeer(A, pa.addr(), netip.AddrPort{})
	r.SetPeer(B, pb.addr(), pbRTCP.addr())

	pa.send(r.Local(A), []byte("rtp-from-a"))
	if got, from := pb.recv(); string(got) != "rtp-from-a" || from != r.Local(B) {
		t.Fatalf("b got %q from %v, want rtp-from-a from %v", got, from, r.Local(B))
	}
	// RTCP goes port+1 to port+1.
	rtcpA := netip.AddrPortFrom(loopback, r.Local(A).Port()+1)
	pa.send(rtcpA, []byte("rtcp-from-a"))
	if got, _ := pbRTCP.recv(); string(got) != "rtcp-from-a" {
		t.Fatalf("b rtcp got %q", got)
	}
	// B's packets come from another port than its SDP said: latch onto it.
	pbNAT.send(r.Local(B), []byte("rtp-from-b"))
	if got, from := pa.recv(); string(got) != "rtp-from-b" || from != r.Local(A) {
		t.Fatalf("a got %q from %v", got, from)
	}
	if got := r.Peer(B); got != pbNAT.addr() {
		t.Fatalf("b peer after latching: got %v, want %v", got, pbNAT.addr())
	}
	pa.send(r.Local(A), []byte("again"))
	if got, _ := pbNAT.recv(); string(got) != "again" {
		t.Fatalf("latched b got %q", got)
	}
	// A re-INVITE repeating the SDP address keeps the latch...
	r.SetPeer(B, pb.addr(), pbRTCP.addr())
	if got := r.Peer(B); got != pbNAT.addr() {
		t.Fatalf("repeated SDP undid latch: got %v", got)
	}
	// ...and one with a new address moves the media there.
	moved := newPhone(t)
	r.SetPeer(B, moved.addr(), netip.AddrPort{})
	pa.send(r.Local(A), []byte("moved"))
	if got, _ := moved.recv(); string(got) != "moved" {
		t.Fatalf("moved b got %q", got)
	}
	// Another phone takes over side B (a forked leg answered): the old
	// latch is forgotten even on the same host.
	r.ResetPeer(B, pb.addr(), netip.AddrPort{})
	if got := r.Peer(B); got != pb.addr() {
		t.Fatalf("after ResetPeer: got %v, want %v", got, pb.addr())
	}
	if n, _ := r.Stats(A); n != 4 {
		t.Errorf("packets from a: got %d, want 4", n)
	}
}

func TestRelayMediaTimeout(t *testing.T) {
	fired := make(chan struct{})
	r := newTestRelay(t, RelayConfig{Timeout: 200 * time.Millisecond, OnTimeout: func() { close(fired) }})
	pa := newPhone(t)
	r.SetPeer(A, pa.addr(), netip.AddrPort{})
	// Packets keep it alive.
	for i := 0; i < 8; i++ {
		pa.send(r.Local(A), []byte("x"))
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-fired:
		t.Fatal("timeout fired while packets flowed")
	default:
	}
	// Held calls do not time out.
	r.Pause(true)
	time.Sleep(400 * time.Millisecond)
	select {
	case <-fired:
		t.Fatal("timeout fired while paused")
	default:
	}
	r.Pause(false)
	select {
	case <-fired:
	case <-time.After(3 * time.Second):
		t.Fatal("timeout did not fire")
	}
}

func TestRelayCloseEndsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	r := newTestRelay(t, RelayConfig{Timeout: time.Minute})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Errorf("goroutines: %d after close, %d before", got, before)
	}
}

func TestRelayNoAllocPerPacket(t *testing.T) {
	r := newTestRelay(t, RelayConfig{})
	pa, pb := newPhone(t), newPhone(t)
	r.SetPeer(B, pb.addr(), netip.AddrPort{})
	pkt := make([]byte, 172)
	buf := make([]byte, 2000)
	exchange := func() {
		pa.conn.WriteToUDPAddrPort(pkt, r.Local(A))
		pb.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := pb.conn.ReadFromUDPAddrPort(buf); err != nil {
			t.Fatal(err)
		}
	}
	exchange() // latch
	const n = 2000
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := 0; i < n; i++ {
		exchange()
	}
	runtime.ReadMemStats(&m1)
	if per := float64(m1.Mallocs-m0.Mallocs) / n; per > 0.05 {
		t.Errorf("allocations per relayed packet: %.3f, want ~0", per)
	}
}

func BenchmarkRelay(b *testing.B) {
	lo, hi := freeRange(b, 4)
	pool, err := NewPortPool(PortPoolConfig{IP: loopback, MinPort: lo, MaxPort: hi, Quarantine: -1})
	if err != nil {
		b.Fatal(err)
	}
	pa, _ := pool.Listen()
	pb, _ := pool.Listen()
	r := NewRelay(RelayConfig{A: pa, B: pb})
	r.Start(context.Background())
	defer r.Close()
	src, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	dst, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer src.Close()
	defer dst.Close()
	r.SetPeer(B, dst.LocalAddr().(*net.UDPAddr).AddrPort(), netip.AddrPort{})
	pkt := make([]byte, 172)
	buf := make([]byte, 2000)
	b.ReportAllocs()
	b.SetBytes(172)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src.WriteToUDPAddrPort(pkt, r.Local(A))
		dst.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := dst.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRelayDropsIntruderWhileLatchedPeerIsAlive(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	r := newTestRelay(t, RelayConfig{Now: clk.Now, Relatch: time.Second})
	pa, pb, intruder := newPhone(t), newPhone(t), newPhone(t)
	r.SetPeer(A, pa.addr(), netip.AddrPort{})
	r.SetPeer(B, pb.addr(), netip.AddrPort{})
	pb.send(r.Local(B), []byte("legit-1"))
	if got, _ := pa.recv(); string(got) != "legit-1" {
		t.Fatalf("a got %q", got)
	}
	intruder.send(r.Local(B), []byte("injected"))
	pb.send(r.Local(B), []byte("legit-2"))
	if got, _ := pa.recv(); string(got) != "legit-2" {
		t.Fatalf("a got %q, want the intruder's packet dropped", got)
	}
	if got := r.Peer(B); got != pb.addr() {
		t.Fatalf("peer b: got %v, want %v", got, pb.addr())
	}
	// The phone went silent (its NAT binding changed): the new source
	// takes over.
	clk.Add(2 * time.Second)
	intruder.send(r.Local(B), []byte("rebound"))
	if got, _ := pa.recv(); string(got) != "rebound" {
		t.Fatalf("a got %q after relatch", got)
	}
	if got := r.Peer(B); got != intruder.addr() {
		t.Fatalf("peer b after relatch: got %v", got)
	}
}
