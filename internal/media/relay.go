package media

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Side names one of the two legs a Relay bridges.
type Side int

// The two sides: A is the caller's leg, B the callee's.
const (
	A Side = iota
	B
)

// String returns "a" or "b".
func (s Side) String() string {
	if s == B {
		return "b"
	}
	return "a"
}

// maxPacket is the largest datagram relayed; bigger ones are truncated by
// the read and dropped.
const maxPacket = 1500

// RelayConfig configures a Relay.
type RelayConfig struct {
	// A and B are the socket pairs facing each leg's phone. The Relay owns
	// them from now on and closes them in Close.
	A, B *Pair
	// Timeout ends the call when no packet arrived from either side for
	// that long; zero disables it.
	Timeout time.Duration
	// OnTimeout is called once, from the relay's own goroutine, when the
	// timeout fires. It must not call Close synchronously.
	OnTimeout func()
	// Relatch is how long the latched source of a side must be silent
	// before packets from another source take over (a phone's NAT binding
	// changed); until then they are dropped, so that nobody can hijack or
	// inject into a call. Zero means DefaultRelatch.
	Relatch time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
	// Tap, when set, sees every RTP packet from either side as it is
	// relayed (a call recorder). It runs on the relay's goroutine and must
	// neither block nor keep pkt.
	Tap func(from Side, pkt []byte)
}

// DefaultRelatch is RelayConfig.Relatch's default.
const DefaultRelatch = time.Second

// Relay forwards RTP and RTCP of one media stream between two legs without
// decoding. It runs one goroutine per socket, reusing one buffer each, and
// never allocates per packet. Methods are safe for concurrent use.
type Relay struct {
	cfg     RelayConfig
	sides   [2]endpoint
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	sdpMu   sync.Mutex // serialises SetPeer
	paused  atomic.Bool
	started atomic.Bool
	closeMu sync.Once
}

type endpoint struct {
	pair *Pair
	// peer[0] is where this side's phone wants RTP, peer[1] RTCP: first
	// from its SDP, then latched to where its packets come from.
	peer [2]atomic.Pointer[netip.AddrPort]
	sdp  [2]netip.AddrPort // the last addresses the SDP gave, under sdpMu
	// heard is true once packets came from peer; lastPeer is when the
	// last one did (unix nanos).
	heard    [2]atomic.Bool
	lastPeer [2]atomic.Int64
	last     atomic.Int64 // unix nanos of the last packet from this side
	muted    atomic.Bool  // packets from this side are not forwarded
	packets  atomic.Uint64
	bytes    atomic.Uint64
}

// NewRelay returns a relay over cfg's pairs; Start sets it going.
func NewRelay(cfg RelayConfig) *Relay {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Relatch <= 0 {
		cfg.Relatch = DefaultRelatch
	}
	r := &Relay{cfg: cfg}
	r.sides[A].pair, r.sides[B].pair = cfg.A, cfg.B
	return r
}

// Local returns the RTP address of the pair facing side s: what goes into
// the SDP sent to that side's phone.
func (r *Relay) Local(s Side) netip.AddrPort { return r.sides[s].pair.Addr() }

// SetPeer tells the relay where side s's phone said (in its SDP) it wants
// RTP and RTCP. Once the phone's own packets have been seen, their source
// wins over the SDP (symmetric RTP, for phones behind NAT whose SDP shows a
// private address); an SDP that repeats the address it gave before (a
// re-INVITE for hold or a session refresh) keeps what was latched, and one
// with a new address moves the media there until packets say otherwise.
// Zero addresses are ignored.
func (r *Relay) SetPeer(s Side, rtp, rtcp netip.AddrPort) {
	r.setPeer(s, rtp, rtcp, false)
}

func (r *Relay) setPeer(s Side, rtp, rtcp netip.AddrPort, reset bool) {
	r.sdpMu.Lock()
	defer r.sdpMu.Unlock()
	e := &r.sides[s]
	for i, ap := range [2]netip.AddrPort{rtp, rtcp} {
		if !ap.IsValid() || ap.Port() == 0 {
			continue
		}
		if !reset && e.sdp[i] == ap && e.peer[i].Load() != nil {
			continue
		}
		e.sdp[i] = ap
		e.heard[i].Store(false)
		e.peer[i].Store(&ap)
	}
}

// ResetPeer is SetPeer that also forgets what was latched: when another
// phone takes over side s, as when one of several forked phones answers
// after another sent early media.
func (r *Relay) ResetPeer(s Side, rtp, rtcp netip.AddrPort) {
	r.setPeer(s, rtp, rtcp, true)
}

// Peer returns where packets for side s's phone go now (RTP), or the zero
// AddrPort.
func (r *Relay) Peer(s Side) netip.AddrPort {
	if p := r.sides[s].peer[0].Load(); p != nil {
		return *p
	}
	return netip.AddrPort{}
}

// Pause suspends the media timeout while a call is on hold, when silence
// is expected; Pause(false) resumes it from now.
func (r *Relay) Pause(on bool) {
	if !on {
		now := r.cfg.Now().UnixNano()
		r.sides[A].last.Store(now)
		r.sides[B].last.Store(now)
	}
	r.paused.Store(on)
}

// Mute stops (or resumes) forwarding side from's packets to the other
// side, while something else speaks to it (music on hold through Inject).
// Muted packets still latch and count, so the media timeout sees them.
func (r *Relay) Mute(from Side, on bool) { r.sides[from].muted.Store(on) }

// Inject sends an RTP packet to side to's phone from the relay's socket
// facing it, as if the other side had sent it. It reports false when that
// phone's address is not known yet.
func (r *Relay) Inject(to Side, pkt []byte) bool {
	dst := r.sides[to].peer[0].Load()
	if dst == nil {
		return false
	}
	r.sides[to].pair.RTP.WriteToUDPAddrPort(pkt, *dst)
	return true
}

// Stats returns how many packets and bytes arrived from side s.
func (r *Relay) Stats(s Side) (packets, bytes uint64) {
	return r.sides[s].packets.Load(), r.sides[s].bytes.Load()
}

// Start starts the relay's goroutines; they end when ctx ends or Close is
// called. Start may be called once.
func (r *Relay) Start(ctx context.Context) {
	if !r.started.CompareAndSwap(false, true) {
		return
	}
	ctx, r.cancel = context.WithCancel(ctx)
	now := r.cfg.Now().UnixNano()
	r.sides[A].last.Store(now)
	r.sides[B].last.Store(now)
	for s := A; s <= B; s++ {
		o := 1 - s
		r.wg.Add(2)
		go r.forward(s, o, 0, r.sides[s].pair.RTP, r.sides[o].pair.RTP)
		go r.forward(s, o, 1, r.sides[s].pair.RTCP, r.sides[o].pair.RTCP)
	}
	r.wg.Add(1)
	go r.watch(ctx)
}

// forward reads packets from side s's phone on in and sends them on out to
// side o's phone. It ends when in is closed.
func (r *Relay) forward(s, o Side, kind int, in, out *net.UDPConn) {
	defer r.wg.Done()
	from, to := &r.sides[s], &r.sides[o]
	buf := make([]byte, maxPacket+1)
	for {
		n, src, err := in.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n > maxPacket || n == 0 {
			continue
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		now := r.cfg.Now().UnixNano()
		if cur := from.peer[kind].Load(); cur == nil || *cur != src {
			// A new source. While the latched one is alive it is an
			// intruder (or a losing forked phone): drop its packets.
			if from.heard[kind].Load() && now-from.lastPeer[kind].Load() < int64(r.cfg.Relatch) {
				continue
			}
			// Latch: allocates only when the source changes.
			p := src
			from.peer[kind].Store(&p)
		}
		if !from.heard[kind].Load() {
			from.heard[kind].Store(true)
		}
		from.lastPeer[kind].Store(now)
		from.last.Store(now)
		from.packets.Add(1)
		from.bytes.Add(uint64(n))
		if kind == 0 && r.cfg.Tap != nil {
			r.cfg.Tap(s, buf[:n])
		}
		if from.muted.Load() {
			continue // another source speaks to the other side (music on hold)
		}
		dst := to.peer[kind].Load()
		if dst == nil {
			continue // the other phone's address is not known yet
		}
		out.WriteToUDPAddrPort(buf[:n], *dst)
	}
}

// watch fires the media timeout.
func (r *Relay) watch(ctx context.Context) {
	defer r.wg.Done()
	// Closing the sockets is what ends the readers, also when ctx ends.
	defer r.sides[A].pair.Close()
	defer r.sides[B].pair.Close()
	if r.cfg.Timeout <= 0 {
		<-ctx.Done()
		return
	}
	every := r.cfg.Timeout / 4
	if every > time.Second {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.paused.Load() {
			continue
		}
		last := max(r.sides[A].last.Load(), r.sides[B].last.Load())
		if r.cfg.Now().Sub(time.Unix(0, last)) >= r.cfg.Timeout {
			r.cfg.Logger.Info("media timeout", "timeout", r.cfg.Timeout)
			if r.cfg.OnTimeout != nil {
				r.cfg.OnTimeout()
			}
			<-ctx.Done()
			return
		}
	}
}

// Close stops the relay, closes its sockets (their ports go back to the
// pool to rest) and waits for its goroutines. It is safe to call more
// than once and without Start.
func (r *Relay) Close() error {
	var err error
	r.closeMu.Do(func() {
		if r.cancel != nil {
			r.cancel()
		}
		err = errors.Join(r.sides[A].pair.Close(), r.sides[B].pair.Close())
		r.wg.Wait()
	})
	return err
}
