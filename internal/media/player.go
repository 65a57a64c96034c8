package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
)

// PlayerConfig is what NewPlayer needs.
type PlayerConfig struct {
	// Source is a WAV file in the format audio.WAVReader reads (16-bit
	// mono PCM at 8, 16, 32 or 48 kHz). At its end it plays again from
	// the start, which is why it must seek. The Player does not close it.
	Source io.ReadSeeker
	// Codec encodes the audio, resampled to its SampleRate. The Player
	// owns it: G.722 keeps state from frame to frame.
	Codec Codec
	// Send sends one RTP packet (Relay.Inject toward one side). It runs on
	// the Player's goroutine and must neither block nor keep pkt.
	Send func(pkt []byte)
	// FrameMS is the packetisation; zero means 20 ms.
	FrameMS int
	// Ticks, when set, paces the packets instead of a ticker of FrameMS:
	// one packet per value received (tests drive it by hand).
	Ticks <-chan time.Time
	// Pacer, when set (and Ticks is not), paces the packets on its shared
	// tick instead of a ticker of the Player's own; FrameMS must be a whole
	// number of its ticks. A Pacer whose Run ended leaves the Player to
	// its own ticker.
	Pacer *Pacer
}

// Player streams a WAV file in a loop as RTP in one codec, one packet per
// frame, from its own SSRC, sequence numbers and timestamps, with the
// marker bit on the first packet: music on hold. Run does the work; the
// Player allocates nothing per packet (only when the file starts over).
// A Player is used by one goroutine: the one that calls Run.
type Player struct {
	cfg      PlayerConfig
	wav      *audio.WAVReader
	rs       *audio.Resampler // nil when the file is at the codec's rate
	in       []int16          // one frame at the file's rate
	pcm      []int16          // resampled audio not sent yet
	frame    int              // samples per frame at the codec's rate
	step     uint32           // timestamp increment per frame
	buf      []byte           // the packet
	seq      uint16
	ts, ssrc uint32
	mark     bool
	// empty counts consecutive starts over that yielded no sample, so that
	// a file without samples ends Run instead of spinning.
	empty int
}

// ErrEmptySource is returned by Run when the WAV file has no samples.
var ErrEmptySource = errors.New("player source has no samples")

// NewPlayer reads the WAV header of cfg.Source and returns a Player ready
// to Run. It returns an error when the file is not a WAV it can play or
// the rates cannot be converted.
func NewPlayer(cfg PlayerConfig) (*Player, error) {
	if cfg.Source == nil || cfg.Codec == nil || cfg.Send == nil {
		return nil, errors.New("new player: source, codec and send are required")
	}
	if cfg.FrameMS <= 0 {
		cfg.FrameMS = 20
	}
	wav, err := audio.NewWAVReader(cfg.Source)
	if err != nil {
		return nil, fmt.Errorf("new player: %w", err)
	}
	rate := wav.Format().Rate
	p := &Player{
		cfg:   cfg,
		wav:   wav,
		in:    make([]int16, rate*cfg.FrameMS/1000),
		frame: cfg.Codec.SampleRate() * cfg.FrameMS / 1000,
		step:  uint32(cfg.Codec.ClockRate() * cfg.FrameMS / 1000),
		mark:  true,
	}
	if rate != cfg.Codec.SampleRate() {
		if p.rs, err = audio.NewResampler(rate, cfg.Codec.SampleRate()); err != nil {
			return nil, fmt.Errorf("new player: %w", err)
		}
	}
	// Room for less than a frame left over plus a resampled one (which
	// may be a sample longer than the ratio says): appends never grow it.
	p.pcm = make([]int16, 0, 2*p.frame+4)
	p.buf = make([]byte, 12, 12+2*p.frame)
	var b [10]byte
	rand.Read(b[:])
	p.ssrc = binary.BigEndian.Uint32(b[0:])
	p.ts = binary.BigEndian.Uint32(b[4:])
	p.seq = binary.BigEndian.Uint16(b[8:])
	return p, nil
}

// Run sends a packet every frame until ctx ends (it then returns nil) or
// the source fails (it returns the error). A Player that falls behind
// (a stall of the process) skips the frames it missed rather than sending
// them in a burst.
func (p *Player) Run(ctx context.Context) error {
	ticks := p.cfg.Ticks
	pacer := p.cfg.Pacer
	per := pacer.ticksPer(p.cfg.FrameMS)
	var n uint64 // the Pacer's tick of the last packet
	if ticks == nil && per > 0 {
		var ok bool
		if n, ok = pacer.now(); !ok {
			per = 0
		}
	}
	if ticks == nil && per == 0 {
		t := time.NewTicker(time.Duration(p.cfg.FrameMS) * time.Millisecond)
		defer t.Stop()
		ticks = t.C
	}
	// The first packet leaves at once: the held phone hears music as soon
	// as the hold is answered.
	for ctx.Err() == nil {
		pkt, err := p.next()
		if err != nil {
			return fmt.Errorf("play: %w", err)
		}
		p.cfg.Send(pkt)
		if ticks == nil {
			m, err := pacer.wait(ctx, nil, n+per)
			switch {
			case errors.Is(err, errPacerStopped):
				// The PBX shuts down; the hold may still last a while.
				t := time.NewTicker(time.Duration(p.cfg.FrameMS) * time.Millisecond)
				defer t.Stop()
				ticks = t.C
			case err != nil:
				return nil
			default:
				n = m
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
		}
	}
	return nil
}

// next returns the next packet, valid until the following call.
func (p *Player) next() ([]byte, error) {
	for len(p.pcm) < p.frame {
		if err := p.fill(); err != nil {
			return nil, err
		}
	}
	pkt := p.buf[:12]
	pkt[0] = 0x80 // version 2, no padding, extension or CSRC
	pkt[1] = p.cfg.Codec.PayloadType() & 0x7f
	if p.mark {
		pkt[1] |= 0x80
		p.mark = false
	}
	binary.BigEndian.PutUint16(pkt[2:], p.seq)
	binary.BigEndian.PutUint32(pkt[4:], p.ts)
	binary.BigEndian.PutUint32(pkt[8:], p.ssrc)
	pkt = p.cfg.Codec.Encode(pkt, p.pcm[:p.frame])
	p.buf = pkt[:12] // keep what Encode grew, if it had to
	n := copy(p.pcm, p.pcm[p.frame:])
	p.pcm = p.pcm[:n]
	p.seq++
	p.ts += p.step
	return pkt, nil
}

// fill reads one frame of the file, starting it over at its end, and
// appends it to pcm at the codec's rate.
func (p *Player) fill() error {
	n := 0
	for n < len(p.in) {
		k, err := p.wav.Read(p.in[n:])
		n += k
		if k > 0 {
			p.empty = 0
		}
		if errors.Is(err, io.EOF) {
			if p.empty++; p.empty > 1 {
				return ErrEmptySource
			}
			if err := p.rewind(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	if p.rs == nil {
		p.pcm = append(p.pcm, p.in...)
	} else {
		p.pcm = p.rs.Process(p.pcm, p.in)
	}
	return nil
}

// rewind starts the file over. The resampler keeps its history: the loop
// is one continuous signal.
func (p *Player) rewind() error {
	if _, err := p.cfg.Source.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind: %w", err)
	}
	wav, err := audio.NewWAVReader(p.cfg.Source)
	if err != nil {
		return fmt.Errorf("rewind: %w", err)
	}
	if wav.Format().Rate != p.wav.Format().Rate {
		return fmt.Errorf("rewind: the file's rate changed")
	}
	p.wav = wav
	return nil
}
