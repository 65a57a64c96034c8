package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

// dtmfSignal renders keys as tones of on ms separated by off ms of silence,
// at rate Hz and peak amplitude amp per tone, using the package's generator.
func dtmfSignal(t *testing.T, rate int, keys string, on, off int, amp int16) []int16 {
	t.Helper()
	var pcm []int16
	pcm = AppendSilence(pcm, rate*off/1000)
	for _, key := range keys {
		gen, err := DTMFTone(rate, key, amp)
		if err != nil {
			t.Fatal(err)
		}
		n := len(pcm)
		pcm = AppendSilence(pcm, rate*on/1000)
		gen.Read(pcm[n:])
		pcm = AppendSilence(pcm, rate*off/1000)
	}
	return pcm
}

// detect runs a new detector over pcm in 20 ms frames.
func detect(t *testing.T, rate int, pcm []int16) string {
	t.Helper()
	d, err := NewToneDetector(rate)
	if err != nil {
		t.Fatal(err)
	}
	var keys []rune
	frame := rate / 50
	for i := 0; i < len(pcm); i += frame {
		keys = d.Detect(keys, pcm[i:min(i+frame, len(pcm))])
	}
	return string(keys)
}

func TestToneDetectorKeys(t *testing.T) {
	const all = "0123456789*#ABCD"
	for _, tt := range []struct {
		name    string
		rate    int
		keys    string
		on, off int
		amp     int16
		want    string
	}{
		{"all keys 8k", 8000, all, 100, 100, 8000, all},
		{"all keys 16k", 16000, all, 100, 100, 8000, all},
		{"40 ms tones and gaps", 8000, "159#", 40, 40, 8000, "159#"},
		{"40 ms tones 16k", 16000, "2580", 40, 40, 8000, "2580"},
		{"same key repeated", 8000, "777", 60, 60, 8000, "777"},
		{"long press once", 8000, "3", 2000, 100, 8000, "3"},
		{"quiet (-30 dBm0)", 8000, "468", 80, 80, 720, "468"},
		{"loud", 8000, "*#", 80, 80, 16000, "*#"},
		{"too short (20 ms)", 8000, "123", 20, 80, 8000, ""},
		{"too short 16k (20 ms)", 16000, "123", 20, 80, 8000, ""},
		{"too quiet (-45 dBm0)", 8000, "123", 80, 80, 130, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pcm := dtmfSignal(t, tt.rate, tt.keys, tt.on, tt.off, tt.amp)
			if got := detect(t, tt.rate, pcm); got != tt.want {
				t.Errorf("detected %q, want %q", got, tt.want)
			}
		})
	}
}

// TestToneDetectorDuration checks the minimum duration at every alignment
// of the tone to the detector's windows: 40 ms is always a key, 20 ms or
// less never.
func TestToneDetectorDuration(t *testing.T) {
	for _, tt := range []struct {
		ms   int
		want string
	}{
		{40, "6"},
		{60, "6"},
		{20, ""},
		{15, ""},
	} {
		for _, rate := range []int{8000, 16000} {
			gen, _ := DTMFTone(rate, '6', 8000)
			tone := make([]int16, rate*tt.ms/1000)
			gen.Read(tone)
			for offset := 0; offset < rate/80; offset += 3 {
				pcm := AppendSilence(nil, rate/10+offset)
				pcm = append(pcm, tone...)
				pcm = AppendSilence(pcm, rate/10)
				if got := detect(t, rate, pcm); got != tt.want {
					t.Errorf("%d ms at %d Hz, offset %d: detected %q, want %q", tt.ms, rate, offset, got, tt.want)
				}
			}
		}
	}
}

func TestToneDetectorTwist(t *testing.T) {
	for _, tt := range []struct {
		rowAmp, colAmp int16
		want           string
	}{
		{8000, 8000, "5"},
		{8000, 4000, "5"}, // low group 6 dB louder
		{4000, 8000, "5"}, // high group 6 dB louder
		{8000, 2000, ""},  // 12 dB of twist
		{2000, 8000, ""},  // 12 dB of reverse twist
		{8000, 0, ""},     // a single tone
	} {
		pcm := AppendSilence(nil, 800)
		row, _ := NewToneGenerator(8000, tt.rowAmp, 770)
		col, _ := NewToneGenerator(8000, max(tt.colAmp, 1), 1336)
		a, b := make([]int16, 800), make([]int16, 800)
		row.Read(a)
		col.Read(b)
		if tt.colAmp == 0 {
			clear(b)
		}
		n := len(pcm)
		pcm = AppendSilence(pcm, 800)
		Mix(pcm[n:], a, b)
		pcm = AppendSilence(pcm, 800)
		if got := detect(t, 8000, pcm); got != tt.want {
			t.Errorf("row %d, column %d: detected %q, want %q", tt.rowAmp, tt.colAmp, got, tt.want)
		}
	}
}

// TestToneDetectorFalseKeys feeds signals with no DTMF in them: a
// continuous 440 Hz tone (dial tone, music on hold), white noise at a
// moderate level and a speech-like signal.
func TestToneDetectorFalseKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	const seconds = 10
	for _, tt := range []struct {
		name string
		rate int
		pcm  func() []int16
	}{
		{"440 Hz", 8000, func() []int16 {
			g, _ := NewToneGenerator(8000, 12000, 440)
			p := make([]int16, seconds*8000)
			g.Read(p)
			return p
		}},
		{"dial tone 350+440 Hz", 8000, func() []int16 {
			g, _ := NewToneGenerator(8000, 8000, 350, 440)
			p := make([]int16, seconds*8000)
			g.Read(p)
			return p
		}},
		{"white noise 8k", 8000, func() []int16 { return whiteNoise(rng, seconds*8000, 3000) }},
		{"white noise 16k", 16000, func() []int16 { return whiteNoise(rng, seconds*16000, 3000) }},
		{"loud white noise", 8000, func() []int16 { return whiteNoise(rng, seconds*8000, 10000) }},
		{"speech-like", 8000, func() []int16 { return speechLike(rng, seconds*8000) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := detect(t, tt.rate, tt.pcm()); got != "" {
				t.Errorf("detected %q in %d s without DTMF, want nothing", got, seconds)
			}
		})
	}
}

// TestToneDetectorInNoise checks that keys are still found over background
// noise 20 dB below the tones and through a G.711 codec.
func TestToneDetectorInNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pcm := dtmfSignal(t, 8000, "0842#", 60, 60, 6000)
	noise := whiteNoise(rng, len(pcm), 600)
	Mix(pcm, pcm, noise)
	c := PCMU{}
	pcm = c.Decode(nil, c.Encode(nil, pcm))
	if got := detect(t, 8000, pcm); got != "0842#" {
		t.Errorf("detected %q, want %q", got, "0842#")
	}
}

func whiteNoise(rng *rand.Rand, n int, rms float64) []int16 {
	p := make([]int16, n)
	for i := range p {
		p[i] = int16(sat16(int32(rng.NormFloat64() * rms)))
	}
	return p
}

// speechLike makes a crude voice: a glottal pulse train with a wandering
// pitch (90-250 Hz) through two moving formant resonators, in syllables of
// 100-300 ms with pauses, plus a little breath noise.
func speechLike(rng *rand.Rand, n int) []int16 {
	p := make([]int16, n)
	const rate = 8000.0
	var phase, y1a, y2a, y1b, y2b float64
	pitch, f1, f2 := 120.0, 600.0, 1400.0
	syllable, on := 0, true
	for i := range p {
		if syllable <= 0 {
			on = !on || rng.IntN(4) == 0
			syllable = int(rate * (0.1 + 0.2*rng.Float64()))
			pitch = 90 + 160*rng.Float64()
			f1 = 300 + 600*rng.Float64()
			f2 = 900 + 1500*rng.Float64()
		}
		syllable--
		pitch *= 1 + 0.0005*(rng.Float64()-0.5)
		phase += pitch / rate
		var x float64
		if phase >= 1 {
			phase--
			x = 3000
		}
		x += rng.NormFloat64() * 30
		if !on {
			x *= 0.02
		}
		ya := resonate(x, &y1a, &y2a, f1, 80, rate)
		yb := resonate(ya, &y1b, &y2b, f2, 120, rate)
		p[i] = int16(sat16(int32(yb * 0.5)))
	}
	return p
}

// resonate is a two-pole resonator at f Hz with bandwidth bw Hz.
func resonate(x float64, y1, y2 *float64, f, bw, rate float64) float64 {
	r := math.Exp(-math.Pi * bw / rate)
	y := x*(1-r) + 2*r*math.Cos(2*math.Pi*f/rate)**y1 - r*r**y2
	*y2, *y1 = *y1, y
	return y
}

func TestToneDetectorRates(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		if _, err := NewToneDetector(rate); err != nil {
			t.Errorf("NewToneDetector(%d): %v", rate, err)
		}
	}
	if _, err := NewToneDetector(48000); err == nil {
		t.Error("NewToneDetector(48000) succeeded, want an error")
	}
}

func TestToneDetectorZeroAllocs(t *testing.T) {
	d, _ := NewToneDetector(8000)
	gen, _ := DTMFTone(8000, '5', 8000)
	frame := make([]int16, 160)
	gen.Read(frame)
	keys := make([]rune, 0, 4)
	if allocs := testing.AllocsPerRun(200, func() { keys = d.Detect(keys[:0], frame) }); allocs != 0 {
		t.Errorf("%v allocs per frame, want 0", allocs)
	}
}

// TestToneDetectorFrequencyTolerance follows ITU-T Q.23/Q.24: tones within
// 1.5 % of nominal are keys, tones 3.5 % off are not.
func TestToneDetectorFrequencyTolerance(t *testing.T) {
	for _, tt := range []struct {
		deviation float64
		want      bool
	}{
		{-0.015, true},
		{0.015, true},
		{-0.035, false},
		{0.035, false},
	} {
		for ev := range 16 {
			key, _ := DigitForEvent(uint8(ev))
			g, _ := NewToneGenerator(8000, 6000,
				dtmfRowFreqs[dtmfKeyRow[ev]]*(1+tt.deviation), dtmfColFreqs[dtmfKeyCol[ev]]*(1+tt.deviation))
			pcm := AppendSilence(nil, 1200)
			g.Read(pcm[400:1200])
			pcm = AppendSilence(pcm, 400)
			got := detect(t, 8000, pcm)
			if (got == string(key)) != tt.want || (!tt.want && got != "") {
				t.Errorf("%q at %+.1f %%: detected %q, want key %v", key, 100*tt.deviation, got, tt.want)
			}
		}
	}
}

// TestToneDetectorG722 checks detection on wideband audio that went through
// the G.722 codec.
func TestToneDetectorG722(t *testing.T) {
	pcm := dtmfSignal(t, 16000, "73*D", 50, 50, 5000)
	c := NewG722()
	pcm = c.Decode(nil, c.Encode(nil, pcm))
	if got := detect(t, 16000, pcm); got != "73*D" {
		t.Errorf("detected %q, want %q", got, "73*D")
	}
}
