//go:build opus

package audio

import (
	"fmt"

	"gopkg.in/hraban/opus.v2"
)

// OpusRate is the rate of the PCM the Opus codecs of Opus() consume and
// produce: wideband, as G.722, so an Opus caller's voicemail keeps its
// wideband voice while an app costs a third of what 48 kHz would (prompts
// are resampled to it as for G.722). libopus converts to and from the
// 48 kHz RTP clock itself.
const OpusRate = 16000

// PayloadOpus is the dynamic payload type gopbx gives Opus where it is the
// offerer; an answer uses the offer's number.
const PayloadOpus uint8 = 111

// opusComplexity is the encoder's effort, 0 to 10. libopus defaults to
// 10; at 16 kHz 5 costs about a third of that (BenchmarkOpus), and speech
// through a phone loses little.
const opusComplexity = 5

// opusMaxPayload is the largest Opus packet of one frame (RFC 6716 3.2.1).
const opusMaxPayload = 1275

// Opus returns a factory of per-stream Opus codecs at OpusRate. gopbx
// built without the opus tag has no Opus: the stub's Opus reports false.
func Opus() (func() Codec, bool) {
	return func() Codec { return &opusCodec{rate: OpusRate} }, true
}

// NewOpus returns an Opus codec whose PCM is at rate Hz: 8000, 12000,
// 16000, 24000 or 48000.
func NewOpus(rate int) (Codec, error) {
	switch rate {
	case 8000, 12000, 16000, 24000, 48000:
		return &opusCodec{rate: rate}, nil
	}
	return nil, fmt.Errorf("new opus: rate %d Hz: want 8000, 12000, 16000, 24000 or 48000", rate)
}

// opusCodec is mono Opus (RFC 6716) over libopus, in RTP as RFC 7587 says:
// a 48 kHz clock whatever the audio's bandwidth, and a dynamic payload
// type that the SDP gives (PayloadType returns PayloadOpus, the number
// gopbx would offer; media.PayloadAs carries another one). The encoder and
// the decoder are made on first use, so the Endpoint's two instances (one
// encodes, one decodes) each hold only the state they use. Stereo packets
// decode to mono.
type opusCodec struct {
	rate int
	enc  *opus.Encoder
	dec  *opus.Decoder
}

var _ Codec = (*opusCodec)(nil)

// Name returns "OPUS".
func (*opusCodec) Name() string { return "OPUS" }

// PayloadType returns PayloadOpus.
func (*opusCodec) PayloadType() uint8 { return PayloadOpus }

// SampleRate returns the rate the codec was made for.
func (c *opusCodec) SampleRate() int { return c.rate }

// ClockRate returns 48000 (RFC 7587 4.1).
func (*opusCodec) ClockRate() int { return 48000 }

// FrameSamples returns the samples of ms milliseconds at the codec's rate.
func (c *opusCodec) FrameSamples(ms int) int { return c.rate / 1000 * ms }

// Encode appends the Opus packet of pcm, which must be a frame of 2.5, 5,
// 10, 20, 40 or 60 ms. It appends nothing when pcm is not such a frame or
// libopus fails.
func (c *opusCodec) Encode(dst []byte, pcm []int16) []byte {
	if c.enc == nil {
		enc, err := opus.NewEncoder(c.rate, 1, opus.AppVoIP)
		if err != nil {
			return dst
		}
		enc.SetComplexity(opusComplexity)
		c.enc = enc
	}
	if len(pcm) == 0 {
		return dst
	}
	n := len(dst)
	dst = grow(dst, opusMaxPayload)
	// libopus writes at most cap(out) bytes: the three-index slice keeps it
	// inside what grow made room for.
	out := dst[n : n+opusMaxPayload : n+opusMaxPayload]
	k, err := c.enc.Encode(pcm, out)
	if err != nil {
		return dst[:n]
	}
	return dst[:n+k]
}

// Decode appends the samples of one Opus packet. A packet libopus cannot
// decode becomes 20 ms of silence, so that the stream keeps its timing.
func (c *opusCodec) Decode(dst []int16, payload []byte) []int16 {
	if c.dec == nil {
		dec, err := opus.NewDecoder(c.rate, 1)
		if err != nil {
			return AppendSilence(dst, c.FrameSamples(20))
		}
		c.dec = dec
	}
	want := opusSamples(payload, c.rate)
	if want == 0 {
		return AppendSilence(dst, c.FrameSamples(20))
	}
	n := len(dst)
	dst = grow(dst, want)
	k, err := c.dec.Decode(payload, dst[n:n+want:n+want])
	if err != nil {
		return AppendSilence(dst[:n], c.FrameSamples(20))
	}
	return dst[:n+k]
}

// opusSamples returns how many samples at rate Hz the Opus packet p holds,
// read from its TOC byte (RFC 6716 3.1), or 0 when p is not a valid packet
// (empty, a code 3 packet without its frame count, or longer than 120 ms).
// It lets a decoder size its output before decoding.
func opusSamples(p []byte, rate int) int {
	if len(p) == 0 {
		return 0
	}
	toc := p[0]
	config := int(toc >> 3)
	// The frame's duration in units of 2.5 ms.
	var units int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		units = [4]int{4, 8, 16, 24}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		units = [2]int{4, 8}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		units = [4]int{1, 2, 4, 8}[config%4]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		frames = int(p[1] & 0x3f)
	}
	total := frames * units
	if total == 0 || total > 48 { // 120 ms
		return 0
	}
	return total * rate / 400
}
