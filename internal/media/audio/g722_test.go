package audio

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// toneSNR returns the power of want in got after the best alignment within
// maxLag samples, and the ratio of the tone's power to the power of what
// remains, in dB. The tone is fitted by least squares at its frequency so
// that a gain change by the codec does not count as noise.
func toneSNR(got []int16, rate int, freq float64, skip int) (lagPower, snr float64) {
	var sc, cc, ss, gs, gc, total float64
	w := 2 * math.Pi * freq / float64(rate)
	for n := skip; n < len(got); n++ {
		s, c := math.Sin(w*float64(n)), math.Cos(w*float64(n))
		x := float64(got[n])
		gs += x * s
		gc += x * c
		ss += s * s
		cc += c * c
		sc += s * c
		total += x * x
	}
	// Solve the 2x2 normal equations for the fitted sine and cosine.
	det := ss*cc - sc*sc
	a := (gs*cc - gc*sc) / det
	b := (gc*ss - gs*sc) / det
	var fitted, resid float64
	for n := skip; n < len(got); n++ {
		f := a*math.Sin(w*float64(n)) + b*math.Cos(w*float64(n))
		e := float64(got[n]) - f
		fitted += f * f
		resid += e * e
	}
	count := float64(len(got) - skip)
	return fitted / count, 10 * math.Log10(fitted/resid)
}

func TestG722Tones(t *testing.T) {
	for _, tt := range []struct {
		freq   float64
		minSNR float64
	}{
		{300, 20},
		{1004, 20},
		{3000, 20},
		{5004, 20},
		{7000, 12},
	} {
		gen, err := NewToneGenerator(16000, 8000, tt.freq)
		if err != nil {
			t.Fatal(err)
		}
		in := make([]int16, 16000)
		gen.Read(in)
		c := NewG722()
		var payload []byte
		var out []int16
		for i := 0; i < len(in); i += 320 {
			payload = c.Encode(payload[:0], in[i:i+320])
			if len(payload) != 160 {
				t.Fatalf("%g Hz: payload of 320 samples is %d bytes, want 160", tt.freq, len(payload))
			}
			out = c.Decode(out, payload)
		}
		inPower, _ := toneSNR(in, 16000, tt.freq, 0)
		outPower, snr := toneSNR(out, 16000, tt.freq, 800)
		gainDB := 10 * math.Log10(outPower/inPower)
		t.Logf("%g Hz: gain %.2f dB, SNR %.1f dB", tt.freq, gainDB, snr)
		if math.Abs(gainDB) > 1 {
			t.Errorf("%g Hz: gain %.2f dB, want within 1 dB", tt.freq, gainDB)
		}
		if snr < tt.minSNR {
			t.Errorf("%g Hz: SNR %.1f dB, want >= %g", tt.freq, snr, tt.minSNR)
		}
	}
}

// TestG722Delay measures the codec delay by cross-correlation on noise
// (a tone's period would make the lag ambiguous) and checks the time-domain
// SNR of tones once the delay is compensated.
func TestG722Delay(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]int16, 16000)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	c := NewG722()
	out := c.Decode(nil, c.Encode(nil, noise))
	delay, _ := bestLag(noise, out, 64)
	if delay != 22 {
		t.Errorf("delay %d samples, want 22", delay)
	}
	for _, freq := range []float64{1004, 5004} {
		gen, _ := NewToneGenerator(16000, 10000, freq)
		in := make([]int16, 16000)
		gen.Read(in)
		c := NewG722()
		out := c.Decode(nil, c.Encode(nil, in))
		snr := lagSNR(in, out, delay)
		t.Logf("%g Hz: SNR %.1f dB at the codec delay of %d samples", freq, snr, delay)
		if snr < 20 {
			t.Errorf("%g Hz: SNR %.1f dB after delay compensation, want > 20", freq, snr)
		}
	}
}

// bestLag returns the lag in [0, maxLag) at which out best matches in, and
// the SNR there.
func bestLag(in, out []int16, maxLag int) (int, float64) {
	best, bestSNR := 0, math.Inf(-1)
	for lag := range maxLag {
		if snr := lagSNR(in, out, lag); snr > bestSNR {
			best, bestSNR = lag, snr
		}
	}
	return best, bestSNR
}

// lagSNR is the SNR of out against in delayed by lag samples, skipping the
// first 1000 samples while the codec adapts.
func lagSNR(in, out []int16, lag int) float64 {
	var sig, noise float64
	for n := 1000; n < len(in)-lag && n+lag < len(out); n++ {
		x, y := float64(in[n]), float64(out[n+lag])
		sig += x * x
		noise += (y - x) * (y - x)
	}
	return 10 * math.Log10(sig/noise)
}

func TestG722Silence(t *testing.T) {
	c := NewG722()
	in := make([]int16, 16000)
	out := c.Decode(nil, c.Encode(nil, in))
	var peak int16
	for _, s := range out {
		peak = max(peak, s, -s)
	}
	if peak > 4 {
		t.Errorf("silence decodes with peak %d, want <= 4", peak)
	}

	// Silence after loud audio must decay back to near silence as the
	// scale factors adapt down.
	gen, _ := NewToneGenerator(16000, 20000, 1500, 6000)
	loud := make([]int16, 8000)
	gen.Read(loud)
	c.Encode(nil, loud)
	c.Decode(nil, c.Encode(nil, loud))
	out = c.Decode(out[:0], c.Encode(nil, in))
	peak = 0
	for _, s := range out[8000:] {
		peak = max(peak, s, -s)
	}
	if peak > 4 {
		t.Errorf("silence after a loud tone decodes with peak %d, want <= 4", peak)
	}
}

func TestG722Reset(t *testing.T) {
	gen, _ := NewToneGenerator(16000, 12000, 800)
	in := make([]int16, 640)
	gen.Read(in)
	c := NewG722()
	first := c.Encode(nil, in)
	c.Encode(nil, in)
	c.Reset()
	if again := c.Encode(nil, in); string(again) != string(first) {
		t.Error("Encode after Reset differs from a fresh encoder")
	}
	if got := len(c.Encode(nil, in[:5])); got != 2 {
		t.Errorf("5 samples encode to %d bytes, want 2 (odd sample dropped)", got)
	}
}

// TestG722FullScale feeds clipping-level square waves and noise: the codec's
// fixed-point arithmetic must saturate, not wrap.
func TestG722FullScale(t *testing.T) {
	in := make([]int16, 16000)
	for i := range in {
		if (i/20)%2 == 0 {
			in[i] = 32767
		} else {
			in[i] = -32768
		}
	}
	c := NewG722()
	out := c.Decode(nil, c.Encode(nil, in))
	var wrong int
	for n := 100; n < len(in)-22; n++ {
		// Away from the edges the output must have the input's sign.
		if n%20 > 4 && n%20 < 16 && (out[n+22] > 0) != (in[n] > 0) {
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%d samples of a full-scale square wave decode with the wrong sign", wrong)
	}
}

// g722GoldenInput is a deterministic, integer-only test signal (so that no
// floating-point contraction on any architecture changes it): noise whose
// level steps from quiet to full scale, then a slow triangle wave.
func g722GoldenInput() []int16 {
	rng := rand.New(rand.NewPCG(722, 64))
	in := make([]int16, 32000)
	for i := range 24000 {
		level := 1 << (i / 2000 % 16)
		in[i] = int16(rng.IntN(2*level) - level)
	}
	for i := 24000; i < len(in); i++ {
		v := (i * 97) % 40000
		in[i] = int16(min(abs(v-20000)*3/2, 30000) - 15000)
	}
	return in
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestG722Golden pins the bitstream and the decoded output. The digests
// were taken when this encoder and decoder were checked against the G.722
// of libspandsp 0.0.6 (used by Asterisk, FreeSWITCH and baresip) on this
// input: identical octets and identical samples. (On full-scale noise the
// decoders differ only where spandsp's output wraps around and ours
// saturates.) A change here is an interoperability bug, not a tuning.
func TestG722Golden(t *testing.T) {
	c := NewG722()
	payload := c.Encode(nil, g722GoldenInput())
	out := c.Decode(nil, payload)
	pcm := make([]byte, 2*len(out))
	for i, s := range out {
		pcm[2*i], pcm[2*i+1] = byte(s), byte(s>>8)
	}
	if got, want := fmt.Sprintf("%x", sha256.Sum256(payload)), g722GoldenEncoded; got != want {
		t.Errorf("encoded digest %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%x", sha256.Sum256(pcm)), g722GoldenDecoded; got != want {
		t.Errorf("decoded digest %s, want %s", got, want)
	}
}

const (
	g722GoldenEncoded = "d698aa9752fc3cbbde920d7b247c86f916650dc41c3de4e4b9ba0654f47c3473"
	g722GoldenDecoded = "8e4a75dce58d09542cc6e14b5d236a5e0f6de20bba29e2cffcd5fec14ed55281"
)
