package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
)

// Defaults of RecorderConfig.
const (
	// DefaultRecordRate is the rate of a recording when none is given:
	// G.711's, which most calls use.
	DefaultRecordRate = 8000
	// DefaultRecordQueue is how many packets may wait for the recorder's
	// goroutine before Feed drops them: over 1 s of both sides at 20 ms.
	DefaultRecordQueue = 128
	// RecordDelay is how long the recorder holds audio before writing it,
	// so that packets that arrive late or out of order still find their
	// place on the timeline.
	RecordDelay = 500 * time.Millisecond
)

// recordSlot is the largest RTP packet the recorder keeps (100 ms of
// G.711 with a full header); bigger ones are dropped and counted.
const recordSlot = 1024

// maxSkew is how far a packet's RTP timestamp may place it from where its
// arrival time says it belongs before the side's timeline is anchored
// again (a phone restarted its stream, or its clock drifted).
const maxSkew = 2 * time.Second

// RecorderConfig configures a Recorder.
type RecorderConfig struct {
	// Rate is the sample rate of the WAV files: 8000, 16000, 32000 or
	// 48000. Zero means DefaultRecordRate. Each side's audio is resampled
	// to it (G.722 decodes at 16000).
	Rate int
	// Codecs maps, for each side, the RTP payload types that side sends to
	// the encoding names of the SDP ("PCMU", "PCMA", "G722"). Packets of
	// other payload types (telephone-event, comfort noise, codecs the
	// audio package lacks) are ignored. The static types 0, 8 and 9 need
	// no entry.
	Codecs [2]map[uint8]string
	// Mixed, when set, receives one mono WAV of both sides mixed (the
	// default kind of recording). When nil, Tracks receives a mono WAV of
	// each side (dual-track), time-aligned: both files start when the
	// recording did and sample i of one is heard with sample i of the
	// other. The Recorder writes WAV headers and data and patches the
	// headers on Close; the caller owns (and closes) the files.
	Mixed  io.WriteSeeker
	Tracks [2]io.WriteSeeker
	// Queue is how many packets may wait to be written; zero means
	// DefaultRecordQueue.
	Queue int
	// Now is the clock that stamps packets on arrival; nil means time.Now.
	Now func() time.Time
}

// RecorderStats counts what a Recorder did.
type RecorderStats struct {
	Packets uint64 // packets decoded onto the timeline
	Dropped uint64 // packets Feed dropped: queue full, too big, after Close
	Late    uint64 // packets that came after their place was written
	Ignored uint64 // packets of payload types that are not audio we decode
	Samples int64  // samples written to each file
}

// Recorder writes a call's audio to WAV: it is fed the RTP packets of both
// sides of a Relay (RelayConfig.Tap) and decodes them on its own
// goroutine. Feed never blocks: it copies the packet into a free slot of a
// bounded queue, or drops it (and counts) when none is free.
//
// Each side's audio goes on a common timeline that starts when the
// Recorder was made: a side's first packet is placed by its arrival time,
// the following ones by their RTP timestamps (so network jitter does not
// stretch or squeeze the audio), with silence for gaps (lost packets, a
// phone that does not send while muted or on hold). A side whose
// timestamps stray more than 2 s from its arrival times is anchored again
// by arrival. Audio is written RecordDelay behind the newest packet.
//
// Feed may be called from several goroutines at once; Close once.
type Recorder struct {
	cfg   RecorderConfig
	start int64 // unix nanos of position 0
	free  chan *recPacket
	in    chan *recPacket
	quit  chan struct{}
	done  chan struct{}
	err   error // the goroutine's, read after done

	closing atomic.Bool
	closeMu sync.Once
	dropped atomic.Uint64

	// The rest belongs to the goroutine until done.
	tracks  [2]recTrack
	flushed int64 // samples written so far (the position of buf[0])
	newest  int64 // arrival position of the newest packet
	wavs    [2]*audio.WAVWriter
	out     []int16
	stats   RecorderStats
}

type recPacket struct {
	side Side
	at   int64
	n    int
	buf  [recordSlot]byte
}

// recTrack is one side's timeline.
type recTrack struct {
	names  map[uint8]string
	codecs map[uint8]audio.Codec
	rs     *audio.Resampler
	rsFrom int

	anchored bool
	ssrc     uint32
	lastTS   uint32
	ext      int64 // extended RTP timestamp of the last packet
	baseExt  int64 // extended timestamp at basePos
	basePos  int64 // recording position of baseExt
	clock    int

	pcm, res []int16
	buf      []int16 // samples from position flushed on
}

// NewRecorder writes the WAV headers and starts the recorder's goroutine;
// Close stops it.
func NewRecorder(cfg RecorderConfig) (*Recorder, error) {
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRecordRate
	}
	switch cfg.Rate {
	case 8000, 16000, 32000, 48000:
	default:
		return nil, fmt.Errorf("new recorder: rate %d not supported", cfg.Rate)
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultRecordQueue
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Recorder{
		cfg:   cfg,
		start: cfg.Now().UnixNano(),
		free:  make(chan *recPacket, cfg.Queue),
		in:    make(chan *recPacket, cfg.Queue),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	outs := []io.WriteSeeker{cfg.Mixed}
	if cfg.Mixed == nil {
		if cfg.Tracks[A] == nil || cfg.Tracks[B] == nil {
			return nil, errors.New("new recorder: no output")
		}
		outs = cfg.Tracks[:]
	}
	for i, w := range outs {
		ww, err := audio.NewWAVWriter(w, cfg.Rate)
		if err != nil {
			return nil, fmt.Errorf("new recorder: %w", err)
		}
		r.wavs[i] = ww
	}
	for s := range r.tracks {
		r.tracks[s].names = cfg.Codecs[s]
		r.tracks[s].codecs = map[uint8]audio.Codec{}
	}
	for range cfg.Queue {
		r.free <- new(recPacket)
	}
	go r.run()
	return r, nil
}

// Feed hands the recorder an RTP packet that side from sent. It copies
// pkt, never blocks, and may be called from any goroutine; packets fed
// after Close are dropped.
func (r *Recorder) Feed(from Side, pkt []byte) {
	if r.closing.Load() || len(pkt) > recordSlot {
		r.dropped.Add(1)
		return
	}
	var p *recPacket
	select {
	case p = <-r.free:
	default:
		r.dropped.Add(1)
		return
	}
	p.side, p.at, p.n = from, r.cfg.Now().UnixNano(), copy(p.buf[:], pkt)
	r.in <- p // never blocks: in has room for every slot
}

// Close writes what is left, with silence up to now, patches the WAV
// headers and stops the goroutine. It returns the first write error and the recorder's counts.
// It is safe to call more than once.
func (r *Recorder) Close() (RecorderStats, error) {
	r.closeMu.Do(func() {
		r.closing.Store(true)
		close(r.quit)
	})
	<-r.done
	st := r.stats
	st.Dropped += r.dropped.Load()
	return st, r.err
}

func (r *Recorder) run() {
	defer close(r.done)
	for {
		select {
		case p := <-r.in:
			r.take(p)
		case <-r.quit:
			for {
				select {
				case p := <-r.in:
					r.take(p)
					continue
				default:
				}
				break
			}
			// The recording lasts until Close, silent after the last
			// packet, so that its length is the call's.
			r.flush(max(r.flushed+int64(len(r.tracks[A].buf)), r.flushed+int64(len(r.tracks[B].buf)),
				r.samples(time.Duration(r.cfg.Now().UnixNano()-r.start))))
			for _, w := range r.wavs {
				if w != nil {
					if err := w.Close(); err != nil && r.err == nil {
						r.err = fmt.Errorf("close recording: %w", err)
					}
				}
			}
			return
		}
	}
}

// take places one packet on its side's timeline and writes what is old
// enough.
func (r *Recorder) take(p *recPacket) {
	arrival := r.samples(time.Duration(p.at - r.start))
	r.newest = max(r.newest, arrival)
	if w := r.newest - r.samples(RecordDelay); w-r.flushed >= int64(r.cfg.Rate/10) {
		r.flush(w)
	}
	r.place(p.side, arrival, p.buf[:p.n])
	r.free <- p
}

// samples converts a duration to samples at the recording rate.
func (r *Recorder) samples(d time.Duration) int64 {
	return int64(d) * int64(r.cfg.Rate) / int64(time.Second)
}

// place decodes pkt, which arrived at position arrival, onto side's
// timeline.
func (r *Recorder) place(side Side, arrival int64, pkt []byte) {
	payload, pt, ts, ssrc, ok := parseRTP(pkt)
	if !ok {
		r.stats.Ignored++
		return
	}
	t := &r.tracks[side]
	c := t.codec(pt)
	if c == nil {
		r.stats.Ignored++
		return
	}
	if t.anchored && ssrc == t.ssrc {
		t.ext += int64(int32(ts - t.lastTS))
	}
	t.lastTS = ts
	var pos int64
	if t.anchored && ssrc == t.ssrc && t.clock == c.ClockRate() {
		pos = t.basePos + (t.ext-t.baseExt)*int64(r.cfg.Rate)/int64(t.clock)
		if skew := pos - arrival; skew > r.samples(maxSkew) || skew < -r.samples(maxSkew) {
			t.anchored = false
		}
	} else {
		t.anchored = false
	}
	if !t.anchored {
		t.anchored, t.ssrc, t.clock = true, ssrc, c.ClockRate()
		t.ext, t.baseExt, t.basePos = 0, 0, max(arrival-int64(r.cfg.Rate/50), 0) // the frame ended as it arrived
		pos = t.basePos
	}
	t.pcm = c.Decode(t.pcm[:0], payload)
	frame := t.pcm
	if rate := c.SampleRate(); rate != r.cfg.Rate {
		if t.rs == nil || t.rsFrom != rate {
			rs, err := audio.NewResampler(rate, r.cfg.Rate)
			if err != nil {
				r.stats.Ignored++
				return
			}
			t.rs, t.rsFrom = rs, rate
		}
		t.res = t.rs.Process(t.res[:0], t.pcm)
		frame = t.res
	}
	idx := pos - r.flushed
	if idx < 0 {
		if -idx >= int64(len(frame)) {
			r.stats.Late++
			return
		}
		frame, idx = frame[-idx:], 0
	}
	if need := int(idx) + len(frame); need > len(t.buf) {
		t.buf = audio.AppendSilence(t.buf, need-len(t.buf))
	}
	copy(t.buf[idx:], frame)
	r.stats.Packets++
}

// flush writes the timeline up to position to (exclusive), a second at a
// time, so that a long silence does not grow the buffers.
func (r *Recorder) flush(to int64) {
	for to > r.flushed {
		r.flushChunk(int(min(to-r.flushed, int64(r.cfg.Rate))))
	}
}

func (r *Recorder) flushChunk(n int) {
	a, b := r.tracks[A].pad(n), r.tracks[B].pad(n)
	if r.cfg.Mixed != nil {
		r.out = append(r.out[:0], a...)
		audio.Mix(r.out, r.out, b)
		r.write(0, r.out)
	} else {
		r.write(0, a)
		r.write(1, b)
	}
	r.tracks[A].drop(n)
	r.tracks[B].drop(n)
	r.flushed += int64(n)
	r.stats.Samples += int64(n)
}

func (r *Recorder) write(i int, pcm []int16) {
	if r.err != nil {
		return
	}
	if _, err := r.wavs[i].Write(pcm); err != nil {
		r.err = fmt.Errorf("write recording: %w", err)
	}
}

// codec returns the side's decoder for payload type pt, or nil.
func (t *recTrack) codec(pt uint8) audio.Codec {
	if c, ok := t.codecs[pt]; ok {
		return c
	}
	name, ok := t.names[pt]
	if !ok {
		if f, static := staticFormats[pt]; static {
			name = f.Name
		}
	}
	var c audio.Codec
	if mk, ok := audio.CodecByName(name); ok {
		c = mk()
	}
	t.codecs[pt] = c // nil too: not looked up again
	return c
}

// pad makes the first n samples of the buffer exist (silence where
// nothing was heard) and returns them.
func (t *recTrack) pad(n int) []int16 {
	if len(t.buf) < n {
		t.buf = audio.AppendSilence(t.buf, n-len(t.buf))
	}
	return t.buf[:n]
}

// drop removes the first n samples, keeping the buffer's memory.
func (t *recTrack) drop(n int) {
	m := copy(t.buf, t.buf[n:])
	t.buf = t.buf[:m]
}

// parseRTP reads the fields of an RTP packet the recorder needs (RFC 3550
// 5.1): CSRCs, the header extension and padding are skipped.
func parseRTP(b []byte) (payload []byte, pt uint8, ts, ssrc uint32, ok bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return nil, 0, 0, 0, false
	}
	pt = b[1] & 0x7f
	if pt >= 72 && pt <= 79 {
		return nil, 0, 0, 0, false // RTCP on the RTP port (RFC 5761)
	}
	ts, ssrc = binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:])
	off := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return nil, 0, 0, 0, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > 0 {
		end -= int(b[end-1])
	}
	if off > end {
		return nil, 0, 0, 0, false
	}
	return b[off:end], pt, ts, ssrc, true
}
