package audio

import (
	"testing"
)

func TestCodecByName(t *testing.T) {
	for _, tt := range []struct {
		name       string
		want       string
		pt         uint8
		rate       int
		clock      int
		frame20    int
		payload20  int
		silentByte byte
	}{
		{"PCMU", "PCMU", 0, 8000, 8000, 160, 160, 0xff},
		{"pcmu", "PCMU", 0, 8000, 8000, 160, 160, 0xff},
		{"PCMA", "PCMA", 8, 8000, 8000, 160, 160, 0xd5},
		{"G722", "G722", 9, 16000, 8000, 320, 160, 0},
		{"g722", "G722", 9, 16000, 8000, 320, 160, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			newCodec, ok := CodecByName(tt.name)
			if !ok {
				t.Fatalf("CodecByName(%q) not found", tt.name)
			}
			c := newCodec()
			if got := c.Name(); got != tt.want {
				t.Errorf("Name() = %q, want %q", got, tt.want)
			}
			if got := c.PayloadType(); got != tt.pt {
				t.Errorf("PayloadType() = %d, want %d", got, tt.pt)
			}
			if got := c.SampleRate(); got != tt.rate {
				t.Errorf("SampleRate() = %d, want %d", got, tt.rate)
			}
			if got := c.ClockRate(); got != tt.clock {
				t.Errorf("ClockRate() = %d, want %d", got, tt.clock)
			}
			if got := c.FrameSamples(20); got != tt.frame20 {
				t.Errorf("FrameSamples(20) = %d, want %d", got, tt.frame20)
			}
			payload := c.Encode([]byte{0xAA}, make([]int16, tt.frame20))
			if len(payload) != 1+tt.payload20 || payload[0] != 0xAA {
				t.Fatalf("Encode appended %d bytes after the prefix (prefix %#x), want %d after 0xaa", len(payload)-1, payload[0], tt.payload20)
			}
			if tt.name == tt.want && payload[1] != tt.silentByte && tt.want != "G722" {
				t.Errorf("silence encodes to %#x, want %#x", payload[1], tt.silentByte)
			}
			pcm := c.Decode([]int16{7}, payload[1:])
			if len(pcm) != 1+tt.frame20 || pcm[0] != 7 {
				t.Fatalf("Decode appended %d samples (prefix %d), want %d after 7", len(pcm)-1, pcm[0], tt.frame20)
			}
		})
	}
	_, hasOpus := Opus()
	if _, ok := CodecByName("opus"); ok != hasOpus {
		t.Errorf(`CodecByName("opus") found = %v, want %v (whether the build has Opus)`, ok, hasOpus)
	}
}

// TestCodecsPerStream checks that the factory gives independent state: two
// G.722 streams fed different audio must not disturb each other.
func TestCodecsPerStream(t *testing.T) {
	newCodec, _ := CodecByName("G722")
	a, b, ref := newCodec(), newCodec(), NewG722()
	gen, _ := NewToneGenerator(16000, 6000, 1000)
	noise, _ := NewToneGenerator(16000, 9000, 2500)
	frame, other := make([]int16, 320), make([]int16, 320)
	for range 10 {
		gen.Read(frame)
		noise.Read(other)
		pa := a.Encode(nil, frame)
		b.Encode(nil, other)
		pr := ref.Encode(nil, frame)
		if string(pa) != string(pr) {
			t.Fatal("encoder state shared between codec values")
		}
	}
}

func TestG711RoundTrip(t *testing.T) {
	for _, name := range []string{"PCMU", "PCMA"} {
		newCodec, _ := CodecByName(name)
		c := newCodec()
		gen, _ := NewToneGenerator(8000, 10000, 1004)
		in := make([]int16, 8000)
		gen.Read(in)
		out := c.Decode(nil, c.Encode(nil, in))
		inPower, _ := toneSNR(in, 8000, 1004, 0)
		outPower, snr := toneSNR(out, 8000, 1004, 0)
		t.Logf("%s 1 kHz: SNR %.1f dB", name, snr)
		if snr < 33 || outPower/inPower < 0.95 || outPower/inPower > 1.05 {
			t.Errorf("%s: SNR %.1f dB, power ratio %.3f; want >= 33 dB and within 5%%", name, snr, outPower/inPower)
		}
	}
}

func TestCodecZeroAllocs(t *testing.T) {
	for _, name := range []string{"PCMU", "PCMA", "G722"} {
		newCodec, _ := CodecByName(name)
		c := newCodec()
		pcm := make([]int16, c.FrameSamples(20))
		payload := make([]byte, 0, 320)
		out := make([]int16, 0, 320)
		allocs := testing.AllocsPerRun(100, func() {
			payload = c.Encode(payload[:0], pcm)
			out = c.Decode(out[:0], payload)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per frame, want 0", name, allocs)
		}
	}
}
