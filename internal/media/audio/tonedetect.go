package audio

import (
	"fmt"
	"math"
)

// ToneDetector finds DTMF key presses in linear PCM (in-band DTMF, for
// phones and trunks that do not send RFC 4733 events). It is not safe for
// concurrent use; make one per stream.
//
// It runs the Goertzel algorithm at the eight DTMF frequencies over windows
// of 12.75 ms (102 samples at 8 kHz, 204 at 16 kHz) that advance by half a
// window. The window is short because ITU-T Q.24 asks to accept tones of
// 40 ms; its 78 Hz resolution still separates adjacent DTMF frequencies,
// which are at least 73 Hz apart and fall near the first null of each
// other's filter. The Goertzel filters run once over each half-window and
// their complex outputs are combined, phase-shifted, into the full window,
// so the overlap costs nothing per sample.
//
// A window holds a key when the strongest row and column tones are each
// above an energy floor, their levels differ by no more than the allowed
// twist, each is at least 6 dB above the other tones of its group, and
// together they carry most of the window's energy: this last test is what
// rejects speech, music and noise, whose energy is spread over many
// frequencies. Because a tone covering k of a window's N samples has a
// share of at most k/N, it also rejects windows that a tone only partly
// covers, which is what makes duration measurable at the hop's resolution.
// A key is reported when it holds in four consecutive windows, which takes
// at least 24 ms of tone and which every 40 ms tone gives whatever its
// alignment, and is reported again only after three windows without it, so
// a short dropout in the middle of a press is not a second press.
type ToneDetector struct {
	hop     int // samples per half-window
	coef    [8]float64
	cosw    [8]float64 // cos and sin of each bin's frequency per sample
	sinw    [8]float64
	cosHop  [8]float64 // cos and sin of each bin's phase advance per hop
	sinHop  [8]float64
	floor   float64 // minimum Goertzel energy of each tone
	twist   float64 // maximum energy ratio of the two tones
	q1, q2  [8]float64
	energy  float64 // sum of squares of the half-window so far
	n       int     // samples in the half-window so far
	prevRe  [8]float64
	prevIm  [8]float64
	prevE   float64
	last    rune // key of the previous window, 0 for none
	run     int  // consecutive windows with key last
	current rune // key being held, 0 for none
}

// Detection thresholds. The energy floor is a tone of 400 peak (about
// -35 dBm0) per frequency; twist is the level difference of the two tones,
// in either direction; the two tones must carry 70 % of the window's
// energy, which leaves room for noise and for tones 1.5 % off frequency.
const (
	dtmfMinAmplitude = 400
	dtmfMaxTwistDB   = 8
	dtmfRelativePeak = 4 // 6 dB over the other tones of the same group
	dtmfToTotal      = 0.7
	dtmfMinWindows   = 4
	dtmfReleaseRun   = 3
	dtmfWindowMillis = 12.75
)

// NewToneDetector returns a detector for PCM at rate Hz, which must be 8000
// or 16000 (resample other rates first).
func NewToneDetector(rate int) (*ToneDetector, error) {
	if rate != 8000 && rate != 16000 {
		return nil, fmt.Errorf("new tone detector: rate %d Hz: want 8000 or 16000", rate)
	}
	window := int(dtmfWindowMillis * float64(rate) / 1000)
	d := &ToneDetector{hop: window / 2}
	freqs := append(dtmfRowFreqs[:], dtmfColFreqs[:]...)
	for i, f := range freqs {
		w := 2 * math.Pi * f / float64(rate)
		d.coef[i] = 2 * math.Cos(w)
		d.cosw[i], d.sinw[i] = math.Cos(w), math.Sin(w)
		d.cosHop[i], d.sinHop[i] = math.Cos(w*float64(d.hop)), math.Sin(w*float64(d.hop))
	}
	// A sine of amplitude A gives a Goertzel energy of (A*N/2)^2.
	a := dtmfMinAmplitude * float64(window) / 2
	d.floor = a * a
	d.twist = math.Pow(10, dtmfMaxTwistDB/10.0)
	return d, nil
}

// Detect runs the detector over pcm, appends the keys of the presses that
// it recognised to dst and returns the extended slice. Frames may have any
// length; windows continue across calls.
func (d *ToneDetector) Detect(dst []rune, pcm []int16) []rune {
	for len(pcm) > 0 {
		take := min(d.hop-d.n, len(pcm))
		d.feed(pcm[:take])
		pcm = pcm[take:]
		d.n += take
		if d.n < d.hop {
			break
		}
		if key, ok := d.endHop(); ok {
			dst = append(dst, key)
		}
	}
	return dst
}

// feed advances the eight Goertzel filters and the energy sum over samples.
func (d *ToneDetector) feed(samples []int16) {
	q1, q2, c := d.q1, d.q2, d.coef
	e := d.energy
	for _, s := range samples {
		x := float64(s)
		e += x * x
		for k := 0; k < 8; k++ {
			q0 := c[k]*q1[k] - q2[k] + x
			q2[k] = q1[k]
			q1[k] = q0
		}
	}
	d.q1, d.q2, d.energy = q1, q2, e
}

// endHop completes a half-window: it joins it with the previous half into a
// window, classifies that and runs the press state machine. It returns a
// key when a new press is recognised.
func (d *ToneDetector) endHop() (rune, bool) {
	var power [8]float64
	for k := range power {
		// The half's DFT, referred to its last sample; the previous half's
		// is rotated forward by one hop and added.
		re := d.q1[k] - d.cosw[k]*d.q2[k]
		im := d.sinw[k] * d.q2[k]
		wr := re + d.cosHop[k]*d.prevRe[k] - d.sinHop[k]*d.prevIm[k]
		wi := im + d.sinHop[k]*d.prevRe[k] + d.cosHop[k]*d.prevIm[k]
		power[k] = wr*wr + wi*wi
		d.prevRe[k], d.prevIm[k] = re, im
	}
	energy := d.energy + d.prevE
	d.prevE = d.energy
	key := d.classify(&power, energy)
	d.q1, d.q2, d.energy, d.n = [8]float64{}, [8]float64{}, 0, 0

	if key == d.last {
		d.run++
	} else {
		d.last, d.run = key, 1
	}
	if key != 0 && key != d.current && d.run >= dtmfMinWindows {
		d.current = key
		return key, true
	}
	if key != d.current && d.run >= dtmfReleaseRun {
		d.current = 0
	}
	return 0, false
}

// classify returns the key present in a window with the given Goertzel
// energies (rows then columns) and signal energy, or 0.
func (d *ToneDetector) classify(power *[8]float64, energy float64) rune {
	row, col := 0, 4
	for k := 1; k < 4; k++ {
		if power[k] > power[row] {
			row = k
		}
		if power[4+k] > power[col] {
			col = 4 + k
		}
	}
	r, c := power[row], power[col]
	if r < d.floor || c < d.floor {
		return 0
	}
	if r > c*d.twist || c > r*d.twist {
		return 0
	}
	for k := 0; k < 4; k++ {
		if k != row && power[k]*dtmfRelativePeak > r {
			return 0
		}
		if 4+k != col && power[4+k]*dtmfRelativePeak > c {
			return 0
		}
	}
	// A sine of amplitude A over N samples has energy N*A^2/2 and a
	// Goertzel energy of (A*N/2)^2, so 2*G/N is the tone's share of the
	// window's energy.
	if 2*(r+c)/float64(2*d.hop) < dtmfToTotal*energy {
		return 0
	}
	return dtmfGrid[row][col-4]
}
