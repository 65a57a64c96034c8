package audio

import (
	"errors"
	"fmt"
	"time"
)

// The DTMF keys in RFC 4733 event order: events 0-15 are 0-9, *, #, A-D.
const dtmfKeys = "0123456789*#ABCD"

var (
	dtmfRowFreqs = [4]float64{697, 770, 852, 941}
	dtmfColFreqs = [4]float64{1209, 1336, 1477, 1633}
	// dtmfKeyRow and dtmfKeyCol give the row and column tone of each event.
	dtmfKeyRow = [16]uint8{3, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 0, 1, 2, 3}
	dtmfKeyCol = [16]uint8{1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 2, 3, 3, 3, 3}
	// dtmfGrid is the keypad: dtmfGrid[row][col] is the key.
	dtmfGrid = [4][4]rune{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

// EventForDigit returns the RFC 4733 event code of a DTMF key (0-9, *, #,
// A-D; a-d are accepted too), and false for anything else.
func EventForDigit(key rune) (uint8, bool) {
	if 'a' <= key && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i, k := range dtmfKeys {
		if k == key {
			return uint8(i), true
		}
	}
	return 0, false
}

// DigitForEvent returns the DTMF key of an RFC 4733 event code, and false
// for events other than the sixteen DTMF keys (flash, line tones).
func DigitForEvent(code uint8) (rune, bool) {
	if int(code) >= len(dtmfKeys) {
		return 0, false
	}
	return rune(dtmfKeys[code]), true
}

// ErrShortEvent is returned by ParseEvent for a payload shorter than the
// four octets of a telephone event.
var ErrShortEvent = errors.New("telephone event shorter than 4 bytes")

// Event is one RFC 4733 telephone-event payload.
type Event struct {
	Code     uint8  // event code: 0-15 for DTMF keys
	End      bool   // E bit: the last packets of the event
	Volume   uint8  // power level in -dBm0, 0-63
	Duration uint16 // in RTP clock ticks since the event's timestamp
}

// ParseEvent decodes the first telephone event of payload. It returns
// ErrShortEvent if payload has fewer than four octets.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) < 4 {
		return Event{}, fmt.Errorf("parse telephone event of %d bytes: %w", len(payload), ErrShortEvent)
	}
	return Event{
		Code:     payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: uint16(payload[2])<<8 | uint16(payload[3]),
	}, nil
}

// Marshal returns the four-octet payload of e.
func (e Event) Marshal() []byte {
	b, _ := e.AppendBinary(make([]byte, 0, 4))
	return b
}

// AppendBinary appends the four-octet payload of e to b without allocating
// when b has room; it never fails. It implements encoding.BinaryAppender.
func (e Event) AppendBinary(b []byte) ([]byte, error) {
	flags := e.Volume & 0x3f
	if e.End {
		flags |= 0x80
	}
	return append(b, e.Code, flags, byte(e.Duration>>8), byte(e.Duration)), nil
}

// DTMFReceiver turns the telephone-event packets of one RTP stream into key
// presses, each reported exactly once. It is not safe for concurrent use.
//
// All packets of one event carry the event's start timestamp (RFC 4733
// 2.5.1), so the receiver reports a key on the first packet it sees with a
// new timestamp, whichever it is: the start may have been lost. Updates and
// the retransmitted end packets repeat that timestamp and are ignored, as
// are packets older than the current event (reordered stragglers). A long
// event continued under a new timestamp (RFC 4733 2.5.1.3: no marker, same
// code, timestamp = old timestamp + old duration) is not a new key.
type DTMFReceiver struct {
	started  bool
	ts       uint32
	code     uint8
	ended    bool
	duration uint16
}

// Push takes the RTP timestamp, marker bit and payload of the next packet
// of the negotiated telephone-event payload type (the caller filters by
// payload type). It returns the key and true when the packet starts a new
// key press. Events that are not DTMF keys are followed but not reported.
// A payload shorter than four octets returns an error wrapping
// ErrShortEvent and leaves the receiver unchanged.
func (r *DTMFReceiver) Push(timestamp uint32, marker bool, payload []byte) (rune, bool, error) {
	ev, err := ParseEvent(payload)
	if err != nil {
		return 0, false, fmt.Errorf("receive dtmf: %w", err)
	}
	if r.started {
		delta := int32(timestamp - r.ts)
		switch {
		case delta == 0:
			if ev.Code == r.code {
				r.ended = r.ended || ev.End
				r.duration = max(r.duration, ev.Duration)
			}
			return 0, false, nil
		case delta < 0:
			return 0, false, nil
		case !marker && !r.ended && ev.Code == r.code && timestamp == r.ts+uint32(r.duration):
			r.ts, r.ended, r.duration = timestamp, ev.End, ev.Duration
			return 0, false, nil
		}
	}
	r.started = true
	r.ts, r.code, r.ended, r.duration = timestamp, ev.Code, ev.End, ev.Duration
	key, ok := DigitForEvent(ev.Code)
	return key, ok, nil
}

// DTMFPacket is one packet of a key press produced by DTMFSender.
type DTMFPacket struct {
	At        time.Duration // when to send it, from the start of the key press
	Timestamp uint32        // RTP timestamp: the same for every packet of the event
	Marker    bool          // set on the first packet only
	Event     Event
}

// DTMFSender produces the RFC 4733 packet sequence of a key press: a first
// packet with the marker bit, an update every interval and three end
// packets carrying the final duration, so that a lost end packet does not
// leave the far end's key held down. It holds no per-press state and is safe
// for concurrent use.
type DTMFSender struct {
	clockRate int
	interval  time.Duration
	volume    uint8
}

// NewDTMFSender returns a sender for a telephone-event stream with the given
// RTP clock rate (8000 unless negotiated otherwise) and packet interval
// (usually the audio ptime, 20 ms to 50 ms), at a volume of -10 dBm0. It
// returns an error for a clock rate or interval that is not positive.
func NewDTMFSender(clockRate int, interval time.Duration) (*DTMFSender, error) {
	if clockRate <= 0 || interval <= 0 {
		return nil, fmt.Errorf("new dtmf sender: clock rate %d, interval %v: must be positive", clockRate, interval)
	}
	return &DTMFSender{clockRate: clockRate, interval: interval, volume: 10}, nil
}

// Packets appends the packets of one press of key lasting duration to dst,
// all with RTP timestamp timestamp (the media clock when the press starts),
// and returns the extended slice. The caller sends each packet at its At
// offset with the stream's next sequence number. Packet k is due k
// intervals into the press and counts the duration to the end of its
// interval, as an audio packet covers the frame it carries; the end packets
// follow one interval apart. It returns an error for a key that is not
// DTMF or a duration that does not fit the 16-bit duration field (8.19 s at
// 8 kHz).
func (s *DTMFSender) Packets(dst []DTMFPacket, key rune, duration time.Duration, timestamp uint32) ([]DTMFPacket, error) {
	code, ok := EventForDigit(key)
	if !ok {
		return dst, fmt.Errorf("send dtmf %q: not a DTMF key", key)
	}
	total := s.ticks(duration)
	if duration <= 0 || total > 0xffff {
		return dst, fmt.Errorf("send dtmf %q: duration %v: outside (0, %v]", key, duration,
			time.Duration(0xffff)*time.Second/time.Duration(s.clockRate))
	}
	step := s.ticks(s.interval)
	n := 0
	for elapsed := step; elapsed < total; elapsed += step {
		dst = append(dst, DTMFPacket{
			At:        time.Duration(n) * s.interval,
			Timestamp: timestamp,
			Marker:    n == 0,
			Event:     Event{Code: code, Volume: s.volume, Duration: uint16(elapsed)},
		})
		n++
	}
	for i := 0; i < 3; i++ {
		dst = append(dst, DTMFPacket{
			At:        time.Duration(n+i) * s.interval,
			Timestamp: timestamp,
			Marker:    n+i == 0,
			Event:     Event{Code: code, End: true, Volume: s.volume, Duration: uint16(total)},
		})
	}
	return dst, nil
}

// ticks converts d to RTP clock ticks, rounding to the nearest tick.
func (s *DTMFSender) ticks(d time.Duration) int64 {
	return (int64(d)*int64(s.clockRate) + int64(time.Second)/2) / int64(time.Second)
}
