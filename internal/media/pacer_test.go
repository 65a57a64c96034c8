package media

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
)

// manualPacer is a running Pacer whose ticks the test sends.
type manualPacer struct {
	t     testing.TB
	p     *Pacer
	ticks chan time.Time
	t0    time.Time
}

// newManualPacer starts a Pacer of 20 ms ticks driven by hand (a frame is a
// tick); it stops at the end of the test (or earlier with the returned
// cancel).
func newManualPacer(t testing.TB) (*manualPacer, context.CancelFunc) {
	t.Helper()
	ticks := make(chan time.Time)
	m := &manualPacer{t: t, p: NewPacer(PacerConfig{Period: 20 * time.Millisecond, Ticks: ticks}), ticks: ticks,
		t0: time.Unix(1_000_000, 0)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.p.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return m, cancel
}

// tick sends the tick of time at (since the Pacer's start) and waits until
// the Pacer published it; it returns the Pacer's tick number.
func (m *manualPacer) tick(at time.Duration) uint64 {
	m.t.Helper()
	before, _ := m.p.now()
	m.ticks <- m.t0.Add(at)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if n, _ := m.p.now(); n != before {
			return n
		}
		time.Sleep(100 * time.Microsecond)
	}
	m.t.Fatal("the pacer did not publish its tick")
	return 0
}

func TestPacerCountsTicks(t *testing.T) {
	m, _ := newManualPacer(t)
	var got []uint64
	// Regular ticks, then two dropped (a stall of 60 ms), then one 25 ms
	// late (still one tick), then one early.
	for _, at := range []time.Duration{20, 40, 100, 125, 130} {
		got = append(got, m.tick(at*time.Millisecond))
	}
	want := []uint64{1, 2, 5, 6, 7}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ticks: got %v, want %v", got, want)
	}
}

// TestPacerWakesAll: one tick wakes every waiter due on it and none due
// later.
func TestPacerWakesAll(t *testing.T) {
	m, _ := newManualPacer(t)
	ctx := context.Background()
	const n = 50
	woke := make(chan uint64, 2*n)
	for i := range 2 * n {
		go func() {
			due := uint64(1 + i%2) // half on tick 1, half on tick 2
			got, err := m.p.wait(ctx, nil, due)
			if err != nil {
				t.Errorf("wait: %v", err)
			}
			woke <- got
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if len(woke) != 0 {
		t.Fatalf("%d waiters woke before the tick", len(woke))
	}
	m.tick(20 * time.Millisecond)
	for range n {
		if got := <-woke; got != 1 {
			t.Errorf("woke on tick %d, want 1", got)
		}
	}
	time.Sleep(20 * time.Millisecond)
	if len(woke) != 0 {
		t.Fatalf("%d waiters of tick 2 woke on tick 1", len(woke))
	}
	m.tick(40 * time.Millisecond)
	for range n {
		if got := <-woke; got != 2 {
			t.Errorf("woke on tick %d, want 2", got)
		}
	}
}

// TestPacerWaitEnds: a wait ends when its done channel closes, its context
// ends or the Pacer stops, each with its own error.
func TestPacerWaitEnds(t *testing.T) {
	m, stop := newManualPacer(t)
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	go func() { _, err := m.p.wait(context.Background(), done, 5); errs <- err }()
	go func() { _, err := m.p.wait(ctx, nil, 5); errs <- err }()
	close(done)
	if err := recvErr(t, errs); !errors.Is(err, ErrClosed) {
		t.Errorf("done: got %v, want ErrClosed", err)
	}
	cancel()
	if err := recvErr(t, errs); !errors.Is(err, context.Canceled) {
		t.Errorf("context: got %v, want context.Canceled", err)
	}
	go func() { _, err := m.p.wait(context.Background(), nil, 5); errs <- err }()
	stop()
	if err := recvErr(t, errs); !errors.Is(err, errPacerStopped) {
		t.Errorf("stop: got %v, want errPacerStopped", err)
	}
	if _, running := m.p.now(); running {
		t.Error("the pacer says it runs after Run returned")
	}
}

// TestPacerWaitFarAhead: a wait for a tick further ahead than the Pacer
// keeps channels for, or one a stall skips, still ends on its tick.
func TestPacerWaitFarAhead(t *testing.T) {
	m, _ := newManualPacer(t)
	ctx := context.Background()
	woke := make(chan uint64, 2)
	go func() { n, _ := m.p.wait(ctx, nil, pacerSlots+4); woke <- n }()
	go func() { n, _ := m.p.wait(ctx, nil, pacerSlots+30); woke <- n }()
	var at time.Duration
	for range pacerSlots + 3 {
		at += 20 * time.Millisecond
		m.tick(at)
	}
	select {
	case n := <-woke:
		t.Fatalf("a waiter woke on tick %d", n)
	case <-time.After(20 * time.Millisecond):
	}
	at += 20 * time.Millisecond
	if n := m.tick(at); <-woke != n {
		t.Errorf("woke on another tick than %d", n)
	}
	at += 40 * 20 * time.Millisecond // a stall of 40 ticks
	if n := m.tick(at); <-woke != n {
		t.Errorf("woke on another tick than %d", n)
	}
}

func recvErr(t *testing.T, errs <-chan error) error {
	t.Helper()
	select {
	case err := <-errs:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return")
		return nil
	}
}

func TestPacerTicksPer(t *testing.T) {
	p := NewPacer(PacerConfig{})
	for ms, want := range map[int]uint64{20: 1, 40: 2, 60: 3, 30: 0, 10: 0, 0: 0} {
		if got := p.ticksPer(ms); got != want {
			t.Errorf("ticksPer(%d): got %d, want %d", ms, got, want)
		}
	}
	// 5 ms ticks, up to 16 of them.
	p = NewPacer(PacerConfig{Period: 5 * time.Millisecond})
	for ms, want := range map[int]uint64{20: 4, 30: 6, 10: 2, 80: 16, 22: 0, 100: 0} {
		if got := p.ticksPer(ms); got != want {
			t.Errorf("ticksPer(%d): got %d, want %d", ms, got, want)
		}
	}
	var none *Pacer
	if got := none.ticksPer(20); got != 0 {
		t.Errorf("nil pacer: got %d, want 0", got)
	}
}

// pacedEndpoint is an Endpoint paced by m that sends to a test phone.
func pacedEndpoint(t *testing.T, p *Pacer) (*Endpoint, *phone) {
	t.Helper()
	lo, hi := freeRange(t, 2)
	pool, err := NewPortPool(PortPoolConfig{IP: loopback, MinPort: lo, MaxPort: hi, Quarantine: -1})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := pool.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ph := newPhone(t)
	e := NewEndpoint(EndpointConfig{Pair: pair, Encoder: audio.PCMU{}, Decoder: audio.PCMU{}, EventPT: -1, Peer: ph.addr(), Pacer: p})
	e.Start(context.Background())
	t.Cleanup(func() { e.Close() })
	return e, ph
}

// writeAsync starts a Write; its error comes on the channel.
func writeAsync(ctx context.Context, e *Endpoint) <-chan error {
	c := make(chan error, 1)
	go func() { c <- e.Write(ctx, make([]int16, e.FrameSamples())) }()
	return c
}

// blocked reports that a Write has not returned after a while.
func blocked(c <-chan error) bool {
	select {
	case <-c:
		return false
	case <-time.After(30 * time.Millisecond):
		return true
	}
}

// TestEndpointPacedWrite: with a Pacer, the first frame leaves at once and
// each next one on the tick after; a frame up to a tick late leaves at once
// (and the next catches up), a longer stall restarts the stream with a
// marker, and Close ends a waiting Write.
func TestEndpointPacedWrite(t *testing.T) {
	m, _ := newManualPacer(t)
	e, ph := pacedEndpoint(t, m.p)
	ctx := context.Background()
	type pkt struct {
		marker bool
		seq    uint16
		ts     uint32
	}
	recv := func() pkt {
		t.Helper()
		b, _ := ph.recv()
		return pkt{marker: b[1]&0x80 != 0, seq: uint16(b[2])<<8 | uint16(b[3]), ts: uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])}
	}
	mustWrite := func(what string, c <-chan error) {
		t.Helper()
		if err := recvErr(t, c); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	mustWrite("first frame", writeAsync(ctx, e))
	first := recv()
	if !first.marker {
		t.Error("first frame: no marker")
	}
	w := writeAsync(ctx, e)
	if !blocked(w) {
		t.Fatal("second frame left before its tick")
	}
	m.tick(20 * time.Millisecond)
	mustWrite("second frame", w)
	if got := recv(); got.marker || got.seq != first.seq+1 || got.ts != first.ts+160 {
		t.Errorf("second frame: got %+v after %+v", got, first)
	}

	// A stall: the tick of the third frame and two more pass.
	m.tick(40 * time.Millisecond)
	m.tick(100 * time.Millisecond)
	mustWrite("frame after a stall", writeAsync(ctx, e))
	if got := recv(); !got.marker || got.seq != first.seq+2 {
		t.Errorf("frame after a stall: got %+v, want a marker and seq %d", got, first.seq+2)
	}

	// One tick late: the frame leaves at once, and so does the next.
	w = writeAsync(ctx, e)
	if !blocked(w) {
		t.Fatal("frame left before its tick")
	}
	m.tick(140 * time.Millisecond) // counts two ticks: the next frame is late
	mustWrite("frame on its tick", w)
	mustWrite("late frame", writeAsync(ctx, e))
	for i := range 2 {
		if got := recv(); got.marker {
			t.Errorf("catch-up frame %d has a marker", i)
		}
	}
	w = writeAsync(ctx, e)
	if !blocked(w) {
		t.Fatal("frame after catching up left before its tick")
	}

	// Close ends the waiting Write.
	e.Close()
	if err := recvErr(t, w); !errors.Is(err, ErrClosed) {
		t.Errorf("write on close: got %v, want ErrClosed", err)
	}
	if err := e.Write(ctx, make([]int16, 160)); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: got %v, want ErrClosed", err)
	}
}

// TestEndpointPacedWriteEnds: a waiting Write returns when its context
// ends, and goes on with a timer of its own when the Pacer stops.
func TestEndpointPacedWriteEnds(t *testing.T) {
	m, stop := newManualPacer(t)
	e, ph := pacedEndpoint(t, m.p)
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.Write(ctx, make([]int16, 160)); err != nil {
		t.Fatal(err)
	}
	ph.recv()
	w := writeAsync(ctx, e)
	if !blocked(w) {
		t.Fatal("frame left before its tick")
	}
	cancel()
	if err := recvErr(t, w); !errors.Is(err, context.Canceled) {
		t.Errorf("write: got %v, want context.Canceled", err)
	}

	ctx = context.Background()
	w = writeAsync(ctx, e)
	if !blocked(w) {
		t.Fatal("frame left before its tick")
	}
	stop()
	if err := recvErr(t, w); err != nil {
		t.Fatalf("write when the pacer stopped: %v", err)
	}
	ph.recv()
	start := time.Now()
	for range 5 {
		if err := e.Write(ctx, make([]int16, 160)); err != nil {
			t.Fatal(err)
		}
		ph.recv()
	}
	if d := time.Since(start); d < 60*time.Millisecond || d > 2*time.Second {
		t.Errorf("5 frames on the endpoint's timer took %v, want about 80-100 ms", d)
	}
}

// TestPlayerPacer: a Player on a Pacer sends its first packet at once and
// one per tick after, and one (not a burst) after ticks it missed.
func TestPlayerPacer(t *testing.T) {
	m, _ := newManualPacer(t)
	got := make(chan uint16, 16)
	p, err := NewPlayer(PlayerConfig{
		Source: playerWAV(t, 8000, playerTone(800, 8000)), Codec: audio.PCMU{}, Pacer: m.p,
		Send: func(pkt []byte) { got <- uint16(pkt[2])<<8 | uint16(pkt[3]) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	next := func() uint16 {
		t.Helper()
		select {
		case seq := <-got:
			return seq
		case <-time.After(5 * time.Second):
			t.Fatal("no packet")
			return 0
		}
	}
	quiet := func() {
		t.Helper()
		select {
		case seq := <-got:
			t.Fatalf("packet %d before its tick", seq)
		case <-time.After(30 * time.Millisecond):
		}
	}
	first := next()
	quiet()
	m.tick(20 * time.Millisecond)
	if seq := next(); seq != first+1 {
		t.Errorf("seq: got %d, want %d", seq, first+1)
	}
	quiet()
	m.tick(100 * time.Millisecond) // four ticks at once
	next()
	quiet()
	cancel()
	if err := recvErr(t, done); err != nil {
		t.Errorf("run: %v", err)
	}
}

// BenchmarkPacerWake is the cost of one tick waking 300 waiting writers,
// per writer.
func BenchmarkPacerWake(b *testing.B) {
	const writers = 300
	p := NewPacer(PacerConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var woke atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			var n uint64
			for {
				var err error
				if n, err = p.wait(ctx, nil, n+1); err != nil {
					return
				}
				woke.Add(1)
			}
		})
	}
	b.ResetTimer()
	for i := range b.N {
		p.advance(1, false)
		for woke.Load() < int64(writers*(i+1)) {
			// Each writer wakes once per tick (one tick waits for all).
			time.Sleep(10 * time.Microsecond)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*writers), "ns/wake")
	cancel()
	wg.Wait()
}

// BenchmarkPacing compares the CPU that pacing 300 streams of 20 ms frames
// costs (Endpoint.pace with no sending) on a shared Pacer of 20 ms ticks
// (the default), on one of 5 ms ticks and on a timer per stream, in real
// time: one op is one frame of every stream. The figure is the process's
// CPU time per frame of one stream (getrusage). Run it with -benchtime=50x
// or so: each op lasts 20 ms.
func BenchmarkPacing(b *testing.B) {
	const writers = 300
	for _, tick := range []time.Duration{DefaultPacerPeriod, 5 * time.Millisecond, 0} {
		name := "timer-per-stream"
		if tick > 0 {
			name = fmt.Sprintf("pacer-%v", tick)
		}
		b.Run(fmt.Sprintf("%s/streams=%d", name, writers), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var pacer *Pacer
			var runWG sync.WaitGroup
			if tick > 0 {
				pacer = NewPacer(PacerConfig{Period: tick})
				runWG.Go(func() { pacer.Run(ctx) })
			}
			frames := int64(b.N) * writers
			var sent atomic.Int64
			var wg sync.WaitGroup
			for i := range writers {
				e := &Endpoint{cfg: EndpointConfig{FrameMS: 20, Now: time.Now, Pacer: pacer}, done: make(chan struct{}),
					perTick: pacer.ticksPer(20)}
				wg.Go(func() {
					// Calls start at any moment: their frames fall all over
					// the 20 ms unless something aligns them.
					time.Sleep(time.Duration(i) * 20 * time.Millisecond / writers)
					for sent.Add(1) <= frames {
						if err := e.pace(ctx); err != nil {
							return
						}
					}
				})
			}
			before := cpuTime()
			b.ResetTimer()
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-before).Nanoseconds())/float64(frames), "cpu-ns/frame")
			cancel()
			runWG.Wait()
		})
	}
}

// cpuTime is the process's user and system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
