package audio

import (
	"fmt"
	"sync"
)

// FrameKind says where a frame from JitterBuffer.Pop came from.
type FrameKind uint8

const (
	// FrameSilence is silence: before playout starts or after a long gap.
	FrameSilence FrameKind = iota
	// FrameAudio is the frame that arrived for this slot.
	FrameAudio
	// FrameConcealed is the previous frame, attenuated, in place of one
	// that was lost or late.
	FrameConcealed
)

// String returns the kind's name for logs and test failures.
func (k FrameKind) String() string {
	switch k {
	case FrameSilence:
		return "silence"
	case FrameAudio:
		return "audio"
	case FrameConcealed:
		return "concealed"
	}
	return fmt.Sprintf("FrameKind(%d)", uint8(k))
}

// JitterStats counts what a JitterBuffer did with its packets.
type JitterStats struct {
	Pushed    uint64 // frames accepted
	Late      uint64 // frames dropped because their slot had been played
	Duplicate uint64 // frames dropped because their slot was already filled
	Concealed uint64 // slots played from the previous frame
	Silent    uint64 // slots played as silence after playout started
	Resets    uint64 // times the buffer restarted on a jump in sequence
}

// JitterBuffer reorders the decoded frames of one RTP stream and plays them
// out at a steady pace, for apps that record or analyse what a caller says.
// Push may be called from the goroutine reading the socket while Pop is
// called from the one driven by the playout clock: it is safe for
// concurrent use.
//
// Frames are keyed by RTP sequence number, not timestamp: with a fixed
// packetisation each packet is one frame, and sequence numbers stay
// consecutive across silence suppression, where timestamps jump. Playout
// starts once depth frames are buffered (or the first frame has waited
// depth pops), so depth frames of jitter (e.g. 3 of 20 ms, 60 ms) are
// absorbed. A frame whose slot has been played is dropped as late. A
// missing frame is concealed by repeating the previous one at half the
// level each time, for up to three frames, then becomes silence: simple
// packet loss concealment that hides a single lost packet in speech without
// the buzz of a long repetition. A frame more than the buffer's capacity
// ahead or restartBehind frames behind, or a run of late frames as long as
// the capacity, means the sender jumped or restarted, and the buffer starts
// over from that frame. After
// concealment runs out with nothing buffered, the buffer also starts over
// with the next frame, so a pause in the stream (silence suppression, hold)
// does not turn the frames after it into late ones.
//
// We do not use diago's RTP jitter buffer: it holds RTP packets for its own
// reader chain, while apps here want decoded frames and a PLC hook.
type JitterBuffer struct {
	mu        sync.Mutex
	frameLen  int
	depth     int
	slots     [][]int16 // ring of capacity frames, indexed by seq % capacity
	filled    []bool
	seqs      []uint16
	count     int     // filled slots
	last      []int16 // the last frame played, for concealment
	started   bool    // a frame has arrived
	playing   bool    // playout has started
	next      uint16  // sequence number of the next slot to play
	waited    int     // pops since the first frame, before playout
	lateRun   int
	concealed int // consecutive concealed slots
	stats     JitterStats
}

// concealFrames is how many lost frames in a row are concealed before the
// buffer plays silence.
const concealFrames = 3

// restartBehind is how far behind the playout point, in frames, a frame
// must be to mean that the sender restarted rather than that the frame is
// late: a second of 20 ms frames.
const restartBehind = 50

// NewJitterBuffer returns a buffer of frames of frameSamples samples that
// delays playout by depth frames and holds up to 2*depth+2 frames. It
// returns an error if either is not positive.
func NewJitterBuffer(frameSamples, depth int) (*JitterBuffer, error) {
	if frameSamples <= 0 || depth <= 0 {
		return nil, fmt.Errorf("new jitter buffer: frame of %d samples, depth %d: must be positive", frameSamples, depth)
	}
	capacity := 2*depth + 2
	b := &JitterBuffer{
		frameLen: frameSamples,
		depth:    depth,
		slots:    make([][]int16, capacity),
		filled:   make([]bool, capacity),
		seqs:     make([]uint16, capacity),
		last:     make([]int16, frameSamples),
	}
	for i := range b.slots {
		b.slots[i] = make([]int16, frameSamples)
	}
	return b, nil
}

// Push stores the decoded frame of the packet with sequence number seq,
// copying it: a shorter frame is padded with silence, a longer one cut. It
// returns false if the frame was dropped as late or duplicate.
func (b *JitterBuffer) Push(seq uint16, pcm []int16) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	capacity := len(b.slots)
	if !b.started {
		b.restart(seq)
	}
	ahead := int(int16(seq - b.next))
	switch {
	case ahead < 0 && ahead > -restartBehind:
		b.lateRun++
		if b.lateRun < capacity {
			b.stats.Late++
			return false
		}
		b.stats.Resets++
		b.restart(seq)
		ahead = 0
	case ahead < 0 || ahead >= capacity:
		b.stats.Resets++
		b.restart(seq)
		ahead = 0
	}
	b.lateRun = 0
	i := int(seq) % capacity
	if b.filled[i] && b.seqs[i] == seq {
		b.stats.Duplicate++
		return false
	}
	if !b.filled[i] {
		b.count++
	}
	n := copy(b.slots[i], pcm)
	clear(b.slots[i][n:])
	b.filled[i], b.seqs[i] = true, seq
	b.stats.Pushed++
	if !b.playing && ahead+1 >= b.depth {
		b.playing = true
	}
	return true
}

// restart empties the buffer and waits for depth frames from seq on.
func (b *JitterBuffer) restart(seq uint16) {
	clear(b.filled)
	b.count = 0
	b.started, b.playing = true, false
	b.next, b.waited, b.lateRun = seq, 0, 0
}

// Pop appends the next frame to dst, to be called once per frame interval
// by the playout clock, and says where it came from. It does not allocate
// when dst has room for a frame.
func (b *JitterBuffer) Pop(dst []int16) ([]int16, FrameKind) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(dst)
	dst = grow(dst, b.frameLen)
	out := dst[n:]
	if b.started && !b.playing {
		b.waited++
		if b.waited > b.depth {
			b.playing = true
		}
	}
	if !b.playing {
		clear(out)
		return dst, FrameSilence
	}
	i := int(b.next) % len(b.slots)
	seq := b.next
	b.next++
	if b.filled[i] {
		// A frame of another sequence number in this slot is older than
		// anything playable (Push refuses frames a capacity ahead): drop it.
		b.filled[i] = false
		b.count--
		if b.seqs[i] == seq {
			copy(out, b.slots[i])
			copy(b.last, out)
			b.concealed = 0
			return dst, FrameAudio
		}
	}
	if b.concealed < concealFrames {
		b.concealed++
		for k, s := range b.last {
			b.last[k] = s / 2
		}
		copy(out, b.last)
		b.stats.Concealed++
		return dst, FrameConcealed
	}
	clear(out)
	b.stats.Silent++
	if b.count == 0 {
		// The sender has paused (silence suppression, hold) or stalled:
		// wait for its next frame and buffer depth frames again, rather
		// than letting the playout clock run ahead and drop what comes.
		b.started, b.playing = false, false
	}
	return dst, FrameSilence
}

// Stats returns the counters so far.
func (b *JitterBuffer) Stats() JitterStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}
