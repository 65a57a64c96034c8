package audio

import (
	"math"
	"testing"
)

func TestToneGenerator(t *testing.T) {
	for _, tt := range []struct {
		rate  int
		amp   int16
		freqs []float64
	}{
		{8000, 10000, []float64{1000}},
		{16000, 3000, []float64{400}},
		{48000, 20000, []float64{1004}},
	} {
		g, err := NewToneGenerator(tt.rate, tt.amp, tt.freqs...)
		if err != nil {
			t.Fatal(err)
		}
		// Ten minutes in 20 ms frames: the level must not drift.
		frame := make([]int16, tt.rate/50)
		for range 50 * 600 {
			g.Read(frame)
		}
		pcm := make([]int16, tt.rate)
		g.Read(pcm)
		power, snr := toneSNR(pcm, tt.rate, tt.freqs[0], 0)
		// The tone's phase is arbitrary after ten minutes; toneSNR fits it.
		wantPower := float64(tt.amp) * float64(tt.amp) / 2
		if math.Abs(10*math.Log10(power/wantPower)) > 0.05 || snr < 60 {
			t.Errorf("%d Hz at %d: level %.3f dB off, SNR %.1f dB; want exact and clean",
				int(tt.freqs[0]), tt.rate, 10*math.Log10(power/wantPower), snr)
		}
	}
	for _, bad := range [][2]float64{{8000, 4000}, {8000, 0}, {0, 100}} {
		if _, err := NewToneGenerator(int(bad[0]), 100, bad[1]); err == nil {
			t.Errorf("NewToneGenerator(%g, %g Hz) succeeded, want an error", bad[0], bad[1])
		}
	}
	if _, err := DTMFTone(8000, 'x', 100); err == nil {
		t.Error("DTMFTone('x') succeeded, want an error")
	}
}

func TestAppendSilence(t *testing.T) {
	buf := []int16{1, 2, 3, 4}
	got := AppendSilence(buf[:1], 2)
	if len(got) != 3 || got[0] != 1 || got[1] != 0 || got[2] != 0 {
		t.Errorf("AppendSilence = %v, want [1 0 0]", got)
	}
}
