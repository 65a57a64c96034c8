package audio

import (
	"fmt"
	"math"
)

// ToneGenerator produces the sum of one or more sine waves, continuous
// across calls: the recording beep, ringback, DTMF for in-band signalling and
// test signals. It is not safe for concurrent use.
//
// Each component is a phasor rotated once per sample rather than a call to
// math.Sin, and it is renormalised at the end of every Read so that rounding
// cannot make the amplitude drift over a long tone.
type ToneGenerator struct {
	rate int
	amp  float64
	re   []float64 // current phasor of each component
	im   []float64
	cosw []float64 // rotation per sample
	sinw []float64
}

// NewToneGenerator returns a generator at rate Hz of the given frequencies,
// each with peak amplitude amplitude (the sum saturates at full scale). It
// returns an error if rate is not positive or a frequency is not below half
// the rate.
func NewToneGenerator(rate int, amplitude int16, freqs ...float64) (*ToneGenerator, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("new tone generator: rate %d Hz: not positive", rate)
	}
	g := &ToneGenerator{rate: rate, amp: float64(amplitude)}
	for _, f := range freqs {
		if f <= 0 || f >= float64(rate)/2 {
			return nil, fmt.Errorf("new tone generator: %g Hz: outside (0, %d) Hz", f, rate/2)
		}
		w := 2 * math.Pi * f / float64(rate)
		g.re = append(g.re, 1)
		g.im = append(g.im, 0)
		g.cosw = append(g.cosw, math.Cos(w))
		g.sinw = append(g.sinw, math.Sin(w))
	}
	return g, nil
}

// DTMFTone returns a generator of the two frequencies of a DTMF key
// (0-9, *, #, A-D) at rate Hz, each with peak amplitude amplitude.
func DTMFTone(rate int, key rune, amplitude int16) (*ToneGenerator, error) {
	ev, ok := EventForDigit(key)
	if !ok {
		return nil, fmt.Errorf("dtmf tone %q: not a DTMF key", key)
	}
	row, col := dtmfKeyRow[ev], dtmfKeyCol[ev]
	return NewToneGenerator(rate, amplitude, dtmfRowFreqs[row], dtmfColFreqs[col])
}

// Rate returns the sample rate of the generator.
func (g *ToneGenerator) Rate() int { return g.rate }

// Read fills p with the next samples of the tone. It never ends, so it
// always returns len(p), nil.
func (g *ToneGenerator) Read(p []int16) (int, error) {
	for i := range p {
		var v float64
		for k := range g.re {
			v += g.im[k]
			re := g.re[k]*g.cosw[k] - g.im[k]*g.sinw[k]
			g.im[k] = g.re[k]*g.sinw[k] + g.im[k]*g.cosw[k]
			g.re[k] = re
		}
		p[i] = int16(sat16(int32(math.Round(v * g.amp))))
	}
	for k := range g.re {
		m := math.Hypot(g.re[k], g.im[k])
		g.re[k] /= m
		g.im[k] /= m
	}
	return len(p), nil
}

// AppendSilence appends n samples of silence to dst and returns the
// extended slice; it does not allocate when dst has room.
func AppendSilence(dst []int16, n int) []int16 {
	m := len(dst)
	dst = grow(dst, n)
	clear(dst[m:])
	return dst
}
