package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Codec is what an Endpoint needs of an audio codec; audio.Codec has it.
// A Codec value is one stream's: G.722 keeps state between frames.
type Codec interface {
	Name() string
	PayloadType() uint8
	SampleRate() int
	ClockRate() int
	Encode(dst []byte, pcm []int16) []byte
	Decode(dst []int16, payload []byte) []int16
}

// DTMFReceiver turns RFC 4733 telephone-event packets into key presses,
// each reported once however often the sender repeats it.
type DTMFReceiver interface {
	Push(timestamp uint32, marker bool, payload []byte) (digit rune, ok bool, err error)
}

// InBandDetector finds DTMF key presses in decoded audio; audio's
// ToneDetector is one.
type InBandDetector interface {
	Detect(dst []rune, pcm []int16) []rune
}

// EndpointConfig is what NewEndpoint needs.
type EndpointConfig struct {
	// Pair is the RTP/RTCP sockets; the Endpoint closes it.
	Pair *Pair
	// Encoder and Decoder are the stream's codec, one instance each way.
	Encoder, Decoder Codec
	// EventPT is the payload type of telephone-event the SDP negotiated;
	// negative when none was.
	EventPT int
	// DTMF reads EventPT's packets; nil ignores them.
	DTMF DTMFReceiver
	// InBand, when set, finds key presses in the decoded audio: the
	// fallback for callers that send DTMF as tones (no telephone-event was
	// negotiated). Its Detect appends the keys that start in a frame.
	InBand InBandDetector
	// Peer is where the caller's SDP says it receives RTP; the Endpoint
	// latches to where packets really come from.
	Peer netip.AddrPort
	// FrameMS is the packetisation, 20 ms by default.
	FrameMS int
	// Pacer, when set, paces Write on its shared tick (FrameMS must be a
	// whole number of its ticks) instead of a timer of the Endpoint's
	// own; nil, or a Pacer whose Run ended, leaves Write to the timer.
	Pacer *Pacer
	// Now is the clock of Write's own timer and of LastHeard; nil means
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// ErrClosed is returned by an Endpoint's Read and Write once it is closed.
var ErrClosed = errors.New("media endpoint closed")

// Endpoint is the PBX's own end of a caller's audio stream, where an
// application (voicemail, IVR, music on hold) listens and speaks: it decodes
// what the caller sends into frames of linear PCM, and encodes and paces the
// frames the application writes. Read, Write and Digits may be used from
// different goroutines; each of them from one goroutine at a time.
type Endpoint struct {
	cfg     EndpointConfig
	samples int // per frame, at the codec's sample rate
	peer    atomic.Pointer[netip.AddrPort]
	frames  chan []int16
	digits  chan rune
	// free holds frames for reuse, so that decoding allocates nothing
	// in steady state.
	free  chan []int16
	done  chan struct{}
	close sync.Once
	wg    sync.WaitGroup
	// detached is set when Detach handed the sockets on: Close then
	// leaves them open.
	detached atomic.Bool

	// Write's state: the RTP header and when the next frame is due, as a
	// tick of the Pacer or, without one, a time for the Endpoint's timer.
	seq     uint16
	ts      uint32
	ssrc    uint32
	perTick uint64 // Pacer ticks per frame; 0 when the Pacer cannot pace
	due     uint64 // the Pacer's tick of the next frame
	paced   bool   // due is set
	next    time.Time
	timer   *time.Timer // paces Write without a Pacer
	wbuf    []byte
	pkt     rtp.Packet
	mark    bool
	heard   atomic.Int64 // unix nanos of the last packet from the caller
}

// NewEndpoint returns an Endpoint; Start begins reading.
func NewEndpoint(cfg EndpointConfig) *Endpoint {
	if cfg.FrameMS <= 0 {
		cfg.FrameMS = 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var b [6]byte
	rand.Read(b[:])
	e := &Endpoint{
		cfg:     cfg,
		samples: cfg.Decoder.SampleRate() * cfg.FrameMS / 1000,
		frames:  make(chan []int16, 50), // one second
		digits:  make(chan rune, 32),
		done:    make(chan struct{}),
		ssrc:    binary.BigEndian.Uint32(b[:4]),
		seq:     binary.BigEndian.Uint16(b[4:]),
		mark:    true,
		perTick: cfg.Pacer.ticksPer(cfg.FrameMS),
	}
	e.free = make(chan []int16, 64)
	if cfg.Peer.IsValid() {
		p := cfg.Peer
		e.peer.Store(&p)
	}
	return e
}

// Local is the address the Endpoint receives RTP on.
func (e *Endpoint) Local() netip.AddrPort { return e.cfg.Pair.Addr() }

// SampleRate is the rate of the frames Read returns and Write takes.
func (e *Endpoint) SampleRate() int { return e.cfg.Decoder.SampleRate() }

// FrameSamples is how many samples a frame holds.
func (e *Endpoint) FrameSamples() int { return e.samples }

// Codec names the negotiated codec.
func (e *Endpoint) Codec() string { return e.cfg.Encoder.Name() }

// SetPeer changes where RTP is sent, as a re-INVITE's SDP says.
func (e *Endpoint) SetPeer(p netip.AddrPort) {
	if p.IsValid() {
		e.peer.Store(&p)
	}
}

// LastHeard is when the caller's last packet arrived (zero if none did).
func (e *Endpoint) LastHeard() time.Time {
	if n := e.heard.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Start reads the caller's packets until ctx ends or Close.
func (e *Endpoint) Start(ctx context.Context) {
	e.wg.Add(2)
	go e.read(e.cfg.Pair.RTP)
	go func() {
		defer e.wg.Done()
		select {
		case <-ctx.Done():
			e.Close()
		case <-e.done:
		}
	}()
}

// Close stops the Endpoint and frees its sockets; it waits for its
// goroutines.
func (e *Endpoint) Close() error {
	e.stop()
	if e.detached.Load() {
		return nil
	}
	return e.cfg.Pair.Close()
}

func (e *Endpoint) stop() {
	e.close.Do(func() {
		close(e.done)
		e.cfg.Pair.RTP.SetReadDeadline(time.Now())
	})
	e.wg.Wait()
}

// Detach stops the Endpoint and hands its sockets on, open, with the
// address the caller sends from: a call put through from an application
// to a phone keeps the caller's media port, so the caller needs no new
// SDP. A later Close leaves the sockets alone.
func (e *Endpoint) Detach() (*Pair, netip.AddrPort) {
	e.detached.Store(true)
	e.stop()
	e.cfg.Pair.RTP.SetReadDeadline(time.Time{})
	var peer netip.AddrPort
	if p := e.peer.Load(); p != nil {
		peer = *p
	}
	return e.cfg.Pair, peer
}

func (e *Endpoint) read(conn *net.UDPConn) {
	defer e.wg.Done()
	buf := make([]byte, maxPacket+1)
	var pkt rtp.Packet
	var keys []rune
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-e.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			continue
		}
		if n > maxPacket || pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		e.heard.Store(e.cfg.Now().UnixNano())
		if p := e.peer.Load(); p == nil || *p != from {
			e.peer.Store(&from) // latch: answer where the caller really is
		}
		switch {
		case int(pkt.PayloadType) == e.cfg.EventPT:
			if e.cfg.DTMF == nil {
				continue
			}
			if d, ok, err := e.cfg.DTMF.Push(pkt.Timestamp, pkt.Marker, pkt.Payload); err == nil && ok {
				e.PushDigit(d)
			}
		case pkt.PayloadType == e.cfg.Decoder.PayloadType():
			frame := e.cfg.Decoder.Decode(e.frame(), pkt.Payload)
			if e.cfg.InBand != nil && e.cfg.EventPT < 0 {
				keys = e.cfg.InBand.Detect(keys[:0], frame)
				for _, k := range keys {
					e.PushDigit(k)
				}
			}
			select {
			case e.frames <- frame:
			default:
				// The application is not reading (it is speaking): what the
				// caller says meanwhile is dropped, oldest first.
				select {
				case old := <-e.frames:
					e.Release(old)
				default:
				}
				select {
				case e.frames <- frame:
				default:
				}
			}
		}
	}
}

// PushDigit delivers a key press that came another way (SIP INFO) as if it
// had come in the stream.
func (e *Endpoint) PushDigit(d rune) {
	select {
	case e.digits <- d:
	default:
	}
}

// Digits delivers the caller's key presses.
func (e *Endpoint) Digits() <-chan rune { return e.digits }

// Read returns the next frame the caller sent, decoded; it waits for one.
// The frame is the caller's until it passes it to Release (optional).
func (e *Endpoint) Read(ctx context.Context) ([]int16, error) {
	select {
	case f := <-e.frames:
		return f, nil
	case <-e.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Release gives a frame from Read back for reuse.
func (e *Endpoint) Release(f []int16) {
	if cap(f) == 0 {
		return
	}
	select {
	case e.free <- f[:0]:
	default:
	}
}

// frame returns an empty frame buffer, reused when one is free.
func (e *Endpoint) frame() []int16 {
	select {
	case f := <-e.free:
		return f
	default:
		return make([]int16, 0, e.samples*2)
	}
}

// Flush drops what the caller said so far, so that the next Read is what
// comes after now (a recording starting after a prompt).
func (e *Endpoint) Flush() {
	for {
		select {
		case f := <-e.frames:
			e.Release(f)
		default:
			return
		}
	}
}

// Write encodes one frame of FrameSamples samples and sends it when it is
// due: frames leave every FrameMS however fast they are written, so an
// application can write a file as fast as it reads it. A frame written up
// to a frame late leaves at once (the next one too, to catch up); after a
// longer pause the stream restarts with a marker bit. Write returns
// ErrClosed once the Endpoint is closed and ctx's error when ctx ends,
// without waiting for the frame's turn.
func (e *Endpoint) Write(ctx context.Context, frame []int16) error {
	if err := e.pace(ctx); err != nil {
		return err
	}
	select {
	case <-e.done:
		return ErrClosed
	default:
	}
	e.pkt.Header = rtp.Header{Version: 2, Marker: e.mark, PayloadType: e.cfg.Encoder.PayloadType(), SequenceNumber: e.seq,
		Timestamp: e.ts, SSRC: e.ssrc}
	e.pkt.Payload = e.cfg.Encoder.Encode(e.pkt.Payload[:0], frame)
	e.mark = false
	e.seq++
	e.ts += uint32(e.cfg.Encoder.ClockRate() * e.cfg.FrameMS / 1000)
	n := e.pkt.MarshalSize()
	if cap(e.wbuf) < n {
		e.wbuf = make([]byte, n)
	}
	b := e.wbuf[:n]
	if _, err := e.pkt.MarshalTo(b); err != nil {
		return err
	}
	if p := e.peer.Load(); p != nil {
		e.cfg.Pair.RTP.WriteToUDPAddrPort(b, *p)
	}
	return nil
}

// pace waits until the next frame is due: on the Pacer's tick when there
// is one that runs, else on the Endpoint's timer.
func (e *Endpoint) pace(ctx context.Context) error {
	if e.perTick > 0 {
		err := e.paceTick(ctx)
		if !errors.Is(err, errPacerStopped) {
			return err
		}
		// The Pacer stopped (the PBX shuts down): the call may still
		// finish, on a timer.
		e.perTick = 0
	}
	return e.paceTimer(ctx)
}

// paceTick waits for the Pacer's tick of the next frame.
func (e *Endpoint) paceTick(ctx context.Context) error {
	n, ok := e.cfg.Pacer.now()
	if !ok {
		return errPacerStopped
	}
	if !e.paced || n > e.due+e.perTick {
		// The first frame, or more than a frame late: start over now.
		e.due, e.paced, e.mark = n, true, true
	}
	if e.due > n {
		if _, err := e.cfg.Pacer.wait(ctx, e.done, e.due); err != nil {
			return err
		}
	}
	e.due += e.perTick
	return nil
}

// paceTimer waits on the Endpoint's own timer until the next frame is due.
func (e *Endpoint) paceTimer(ctx context.Context) error {
	now := e.cfg.Now()
	step := time.Duration(e.cfg.FrameMS) * time.Millisecond
	if e.next.IsZero() || now.Sub(e.next) > step {
		e.next = now
		e.mark = true
	}
	if wait := e.next.Sub(now); wait > 0 {
		// One timer per endpoint, reset for each frame: a new timer per
		// frame was a good part of what 300 app calls cost.
		if e.timer == nil {
			e.timer = time.NewTimer(wait)
		} else {
			e.timer.Reset(wait)
		}
		select {
		case <-e.timer.C:
		case <-e.done:
			e.timer.Stop()
			return ErrClosed
		case <-ctx.Done():
			e.timer.Stop()
			return ctx.Err()
		}
	}
	e.next = e.next.Add(step)
	return nil
}
