package siptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// ReadWAV reads a 16-bit PCM WAV file and returns its samples (of the first
// channel's interleaving, as stored) and its sample rate. A file whose
// writer has not finalised the header yet (a data size of 0 or past the end)
// is read to its end.
func ReadWAV(path string) (samples []float64, rate int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read wav: %w", err)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("read wav %s: not a RIFF/WAVE file", path)
	}
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		i += 8
		switch id {
		case "fmt ":
			if i+16 > len(b) {
				return nil, 0, fmt.Errorf("read wav %s: short fmt chunk", path)
			}
			if bits := binary.LittleEndian.Uint16(b[i+14:]); bits != 16 {
				return nil, 0, fmt.Errorf("read wav %s: %d bits per sample, want 16", path, bits)
			}
			rate = int(binary.LittleEndian.Uint32(b[i+4:]))
		case "data":
			end := i + size
			if size == 0 || end > len(b) || end < i {
				end = len(b)
			}
			samples = make([]float64, 0, (end-i)/2)
			for j := i; j+1 < end; j += 2 {
				samples = append(samples, float64(int16(binary.LittleEndian.Uint16(b[j:]))))
			}
			if rate == 0 {
				return nil, 0, fmt.Errorf("read wav %s: data before fmt", path)
			}
			return samples, rate, nil
		}
		i += size + size&1 // chunks are padded to an even size
	}
	return nil, 0, fmt.Errorf("read wav %s: %w", path, errNoData)
}

var errNoData = errors.New("no data chunk")

// Goertzel returns the power of frequency f (Hz) in samples taken at rate
// (Hz), normalised by the number of samples so that recordings of different
// lengths compare. Comparing the power at the tone a peer sent with the
// power at another frequency tells whether the tone came through.
func Goertzel(samples []float64, f float64, rate int) float64 {
	if len(samples) == 0 || rate <= 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*f/float64(rate))
	var s1, s2 float64
	for _, x := range samples {
		s0 := x + k*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(samples))
}
