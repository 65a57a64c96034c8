//go:build opus

package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

// goertzel returns the power of frequency f in pcm at rate Hz.
func goertzel(pcm []int16, f float64, rate int) float64 {
	k := 2 * math.Cos(2*math.Pi*f/float64(rate))
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(pcm))
}

// TestOpusTone sends a second of a 1 kHz tone through an Opus encoder and
// decoder at each rate apps may use: the decoded audio holds the tone and
// not another frequency.
func TestOpusTone(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		t.Run(rateName(rate), func(t *testing.T) {
			enc, err := NewOpus(rate)
			if err != nil {
				t.Fatal(err)
			}
			dec, _ := NewOpus(rate)
			gen, _ := NewToneGenerator(rate, 8000, 1000)
			frame := make([]int16, enc.FrameSamples(20))
			var payload []byte
			var out []int16
			for range 50 {
				gen.Read(frame)
				payload = enc.Encode(payload[:0], frame)
				if len(payload) == 0 || len(payload) > 200 {
					t.Fatalf("20 ms frame encoded to %d bytes", len(payload))
				}
				n := len(out)
				out = dec.Decode(out, payload)
				if got, want := len(out)-n, len(frame); got != want {
					t.Fatalf("decoded %d samples, want %d", got, want)
				}
			}
			tail := out[len(out)/2:] // past the codec's start-up
			tone, other := goertzel(tail, 1000, rate), goertzel(tail, 1400, rate)
			if tone < 1000*other || tone < 1e5 {
				t.Errorf("1000 Hz power %.3g, 1400 Hz %.3g: want the tone to stand out", tone, other)
			}
		})
	}
}

func TestOpusFactory(t *testing.T) {
	mk, ok := Opus()
	if !ok {
		t.Fatal("Opus() = false with the opus tag")
	}
	c := mk()
	if c.Name() != "OPUS" || c.PayloadType() != PayloadOpus || c.SampleRate() != OpusRate || c.ClockRate() != 48000 ||
		c.FrameSamples(20) != OpusRate/50 {
		t.Errorf("got %s pt %d rate %d clock %d frame %d", c.Name(), c.PayloadType(), c.SampleRate(), c.ClockRate(), c.FrameSamples(20))
	}
	if _, err := NewOpus(44100); err == nil {
		t.Error("NewOpus(44100) succeeded, want an error")
	}
}

// TestOpusBadPacket: what libopus cannot decode becomes a frame of
// silence, and a frame that is not an Opus frame size encodes to nothing.
func TestOpusBadPacket(t *testing.T) {
	c, _ := NewOpus(16000)
	for _, p := range [][]byte{nil, {0xff}, {0x03, 0x3f}} {
		if got := c.Decode([]int16{7}, p); len(got) != 321 || got[0] != 7 {
			t.Errorf("Decode(%x) gave %d samples, want 1+320", p, len(got))
		}
	}
	if got := c.Encode([]byte{1}, make([]int16, 100)); len(got) != 1 {
		t.Errorf("Encode of 100 samples appended %d bytes, want none", len(got)-1)
	}
}

// TestOpusDecodeGarbage feeds random packets, as a hostile peer may send,
// to the decoder: each gives the samples its TOC byte announces or 20 ms
// of silence, never more, and nothing crashes.
func TestOpusDecodeGarbage(t *testing.T) {
	c, _ := NewOpus(16000)
	rng := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 0, 1500)
	var out []int16
	for range 20000 {
		p = p[:rng.IntN(cap(p)+1)]
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		out = c.Decode(out[:0], p)
		if n := opusSamples(p, 16000); len(out) != n && len(out) != 320 {
			t.Fatalf("packet %x: %d samples, want %d or 320", p[:min(len(p), 4)], len(out), n)
		}
	}
}

func TestOpusSamples(t *testing.T) {
	for _, tt := range []struct {
		p    []byte
		want int // at 48 kHz
	}{
		{nil, 0},
		{[]byte{0 << 3}, 480},           // SILK NB 10 ms
		{[]byte{9 << 3}, 960},           // SILK WB 20 ms
		{[]byte{11<<3 | 1}, 2 * 2880},   // SILK WB 60 ms, two frames
		{[]byte{15 << 3}, 960},          // hybrid FB 20 ms
		{[]byte{16 << 3}, 120},          // CELT NB 2.5 ms
		{[]byte{31<<3 | 2}, 1920},       // CELT FB 20 ms, two frames
		{[]byte{31<<3 | 3, 6}, 6 * 960}, // code 3, six 20 ms frames: 120 ms
		{[]byte{31<<3 | 3, 7}, 0},       // 140 ms: too long
		{[]byte{31<<3 | 3}, 0},          // no frame count
		{[]byte{31<<3 | 3, 0}, 0},       // no frames
		{[]byte{19 << 3, 0xaa}, 960},    // CELT NB 20 ms
		{[]byte{1 << 3, 0xaa, 1}, 960},  // SILK NB 20 ms
	} {
		if got := opusSamples(tt.p, 48000); got != tt.want {
			t.Errorf("opusSamples(%x) = %d, want %d", tt.p, got, tt.want)
		}
	}
	if got := opusSamples([]byte{9 << 3}, 16000); got != 320 {
		t.Errorf("20 ms at 16 kHz: %d samples, want 320", got)
	}
}

func TestOpusZeroAllocs(t *testing.T) {
	c, _ := NewOpus(16000)
	pcm := make([]int16, 320)
	gen, _ := NewToneGenerator(16000, 8000, 440)
	gen.Read(pcm)
	payload := c.Encode(nil, pcm)
	out := c.Decode(nil, payload)
	allocs := testing.AllocsPerRun(100, func() {
		payload = c.Encode(payload[:0], pcm)
		out = c.Decode(out[:0], payload)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
}

// BenchmarkOpus is the cost of one 20 ms frame each way, at the apps'
// rate and at 48 kHz.
func BenchmarkOpus(b *testing.B) {
	for _, rate := range []int{16000, 48000} {
		b.Run(rateName(rate), func(b *testing.B) {
			c, _ := NewOpus(rate)
			pcm := make([]int16, c.FrameSamples(20))
			gen, _ := NewToneGenerator(rate, 8000, 440, 1900)
			gen.Read(pcm)
			payload := c.Encode(nil, pcm)
			out := c.Decode(nil, payload)
			b.Run("encode", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					payload = c.Encode(payload[:0], pcm)
				}
			})
			b.Run("decode", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					out = c.Decode(out[:0], payload)
				}
			})
		})
	}
}
