package audio

import (
	"math"
	"testing"
)

func TestResamplerTone(t *testing.T) {
	rates := []int{8000, 16000, 32000, 48000}
	for _, from := range rates {
		for _, to := range rates {
			rs, err := NewResampler(from, to)
			if err != nil {
				t.Fatal(err)
			}
			gen, _ := NewToneGenerator(from, 10000, 1004)
			in := make([]int16, from/50) // 20 ms frames
			var out []int16
			for range 50 {
				gen.Read(in)
				out = rs.Process(out, in)
			}
			if len(out) < to-1 || len(out) > to+1 {
				t.Errorf("%d->%d: 1 s gives %d samples, want %d", from, to, len(out), to)
			}
			power, snr := toneSNR(out, to, 1004, to/10)
			gainDB := 10 * math.Log10(power/(10000.0*10000/2))
			if math.Abs(gainDB) > 0.2 || snr < 45 {
				t.Errorf("%d->%d: 1004 Hz gain %.2f dB, SNR %.1f dB; want within 0.2 dB and >= 45 dB", from, to, gainDB, snr)
			}
		}
	}
}

// TestResamplerAliasing checks that a tone above the new Nyquist frequency
// is removed when downsampling instead of folding into the telephone band.
func TestResamplerAliasing(t *testing.T) {
	for _, tt := range []struct {
		from, to int
		freq     float64
	}{
		{16000, 8000, 5000},
		{16000, 8000, 6500},
		{48000, 8000, 12000},
		{48000, 16000, 9000},
		{48000, 32000, 18000},
	} {
		rs, _ := NewResampler(tt.from, tt.to)
		gen, _ := NewToneGenerator(tt.from, 20000, tt.freq)
		in := make([]int16, tt.from)
		gen.Read(in)
		out := rs.Process(nil, in)
		var power float64
		for _, s := range out[len(out)/10:] {
			power += float64(s) * float64(s)
		}
		power /= float64(len(out) - len(out)/10)
		db := 10 * math.Log10(power/(20000.0*20000/2)+1e-30)
		if db > -50 {
			t.Errorf("%d->%d: %g Hz comes through at %.1f dB, want below -50 dB", tt.from, tt.to, tt.freq, db)
		}
	}
}

// TestResamplerChunking checks that the state carries over exactly: odd
// chunk sizes must give the same output as one call.
func TestResamplerChunking(t *testing.T) {
	for _, pair := range [][2]int{{8000, 16000}, {16000, 8000}, {48000, 32000}, {8000, 48000}} {
		gen, _ := NewToneGenerator(pair[0], 8000, 700, 2100)
		in := make([]int16, 4801)
		gen.Read(in)
		whole, _ := NewResampler(pair[0], pair[1])
		want := whole.Process(nil, in)
		parts, _ := NewResampler(pair[0], pair[1])
		var got []int16
		for i, size := 0, 1; i < len(in); size = size%97 + 13 {
			end := min(i+size, len(in))
			got = parts.Process(got, in[i:end])
			i = end
		}
		if len(got) != len(want) {
			t.Fatalf("%v: chunked gives %d samples, whole %d", pair, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%v: sample %d is %d chunked, %d whole", pair, i, got[i], want[i])
			}
		}
		parts.Reset()
		if again := parts.Process(nil, in); len(again) != len(want) || again[100] != want[100] {
			t.Errorf("%v: output after Reset differs from a new resampler", pair)
		}
	}
}

func TestResamplerRates(t *testing.T) {
	for _, tt := range []struct {
		from, to int
		ok       bool
	}{
		{8000, 16000, true},
		{48000, 8000, true},
		{16000, 16000, true},
		{44100, 8000, false},
		{8000, 11025, false},
		{0, 8000, false},
	} {
		_, err := NewResampler(tt.from, tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("NewResampler(%d, %d) error %v, want ok=%v", tt.from, tt.to, err, tt.ok)
		}
	}
}

func TestResamplerZeroAllocs(t *testing.T) {
	rs, _ := NewResampler(8000, 16000)
	in := make([]int16, 160)
	out := make([]int16, 0, 330)
	out = rs.Process(out[:0], in)
	if allocs := testing.AllocsPerRun(100, func() { out = rs.Process(out[:0], in) }); allocs != 0 {
		t.Errorf("%v allocs per frame, want 0", allocs)
	}
}
