package audio

import (
	"strings"

	"github.com/zaf/g711"
)

// Static RTP payload types of the codecs in this package (RFC 3551).
const (
	PayloadPCMU uint8 = 0
	PayloadPCMA uint8 = 8
	PayloadG722 uint8 = 9
)

// Codec converts between linear PCM and the RTP payload of one codec.
//
// A Codec value belongs to one RTP stream because some codecs (G.722) are
// adaptive and keep state from frame to frame. Its encoder and decoder state
// are separate, so one goroutine may Encode while another Decodes, but
// neither method may be called concurrently with itself. Get a fresh value
// for every stream from the factory returned by CodecByName.
type Codec interface {
	// Name is the SDP encoding name: "PCMU", "PCMA" or "G722".
	Name() string
	// PayloadType is the static RTP payload type (0, 8 or 9).
	PayloadType() uint8
	// SampleRate is the rate of the PCM the codec consumes and produces.
	SampleRate() int
	// ClockRate is the RTP timestamp rate, which for G.722 (8000) differs
	// from its sample rate (16000) for historical reasons (RFC 3551 4.5.2).
	ClockRate() int
	// FrameSamples is the number of PCM samples in a frame of ms milliseconds.
	FrameSamples(ms int) int
	// Encode appends the payload for pcm to dst and returns the extended
	// slice; it does not allocate when dst has room.
	Encode(dst []byte, pcm []int16) []byte
	// Decode appends the samples of payload to dst and returns the extended
	// slice; it does not allocate when dst has room.
	Decode(dst []int16, payload []byte) []int16
}

// CodecByName returns a factory of per-stream Codec values for an SDP
// encoding name ("PCMU", "PCMA" or "G722", matched case-insensitively), and
// false for a codec this package does not implement.
func CodecByName(name string) (func() Codec, bool) {
	switch {
	case strings.EqualFold(name, "PCMU"):
		return func() Codec { return PCMU{} }, true
	case strings.EqualFold(name, "PCMA"):
		return func() Codec { return PCMA{} }, true
	case strings.EqualFold(name, "G722"):
		return func() Codec { return NewG722() }, true
	case strings.EqualFold(name, "OPUS"):
		return Opus() // only in a build with the opus tag
	}
	return nil, false
}

// grow returns s with room for n more elements, reallocating only when the
// capacity is too small, so steady-state frames reuse the caller's buffer.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s[:len(s)+n]
	}
	t := make([]T, len(s)+n, 2*len(s)+n)
	copy(t, s)
	return t
}

// PCMU is G.711 mu-law at 8 kHz. It is stateless, so its zero value is ready
// and safe for concurrent use.
type PCMU struct{}

var _ Codec = PCMU{}

// Name returns "PCMU".
func (PCMU) Name() string { return "PCMU" }

// PayloadType returns 0.
func (PCMU) PayloadType() uint8 { return PayloadPCMU }

// SampleRate returns 8000.
func (PCMU) SampleRate() int { return 8000 }

// ClockRate returns 8000.
func (PCMU) ClockRate() int { return 8000 }

// FrameSamples returns 8 samples per millisecond.
func (PCMU) FrameSamples(ms int) int { return 8 * ms }

// Encode appends one mu-law byte per sample.
func (PCMU) Encode(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = grow(dst, len(pcm))
	out := dst[n:]
	for i, s := range pcm {
		out[i] = g711.EncodeUlawFrame(s)
	}
	return dst
}

// Decode appends one sample per mu-law byte.
func (PCMU) Decode(dst []int16, payload []byte) []int16 {
	n := len(dst)
	dst = grow(dst, len(payload))
	out := dst[n:]
	for i, b := range payload {
		out[i] = g711.DecodeUlawFrame(b)
	}
	return dst
}

// PCMA is G.711 A-law at 8 kHz. It is stateless, so its zero value is ready
// and safe for concurrent use.
type PCMA struct{}

var _ Codec = PCMA{}

// Name returns "PCMA".
func (PCMA) Name() string { return "PCMA" }

// PayloadType returns 8.
func (PCMA) PayloadType() uint8 { return PayloadPCMA }

// SampleRate returns 8000.
func (PCMA) SampleRate() int { return 8000 }

// ClockRate returns 8000.
func (PCMA) ClockRate() int { return 8000 }

// FrameSamples returns 8 samples per millisecond.
func (PCMA) FrameSamples(ms int) int { return 8 * ms }

// Encode appends one A-law byte per sample.
func (PCMA) Encode(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = grow(dst, len(pcm))
	out := dst[n:]
	for i, s := range pcm {
		out[i] = g711.EncodeAlawFrame(s)
	}
	return dst
}

// Decode appends one sample per A-law byte.
func (PCMA) Decode(dst []int16, payload []byte) []int16 {
	n := len(dst)
	dst = grow(dst, len(payload))
	out := dst[n:]
	for i, b := range payload {
		out[i] = g711.DecodeAlawFrame(b)
	}
	return dst
}
