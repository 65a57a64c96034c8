package media_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/siptest"
)

// fakeNow is a clock the test moves by hand.
type fakeNow struct{ t time.Time }

func (c *fakeNow) now() time.Time { return c.t }

// toneStream makes the RTP packets of n 20 ms frames of a tone in codec c.
func toneStream(t *testing.T, c audio.Codec, pt uint8, f float64, n int) [][]byte {
	t.Helper()
	gen, err := audio.NewToneGenerator(c.SampleRate(), 8000, f)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, c.FrameSamples(20))
	var out [][]byte
	for i := range n {
		gen.Read(pcm)
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: uint16(1000 + i),
			Timestamp: uint32(5000 + i*160), SSRC: 42}, Payload: c.Encode(nil, pcm)}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func readWAV(t *testing.T, path string) ([]float64, int) {
	t.Helper()
	s, rate, err := siptest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, rate
}

// dominant reports whether f is at least ten times stronger than other in
// x.
func dominant(x []float64, f, other float64, rate int) bool {
	return siptest.Goertzel(x, f, rate) > 10*siptest.Goertzel(x, other, rate)
}

// TestRecorderMixed feeds 1 s of 440 Hz PCMU from side A, then 1 s of
// 1000 Hz PCMA from side B (a dynamic payload type, as the SDP mapped it),
// with the second stream's packets arriving in swapped pairs: the mixed
// WAV holds 440 Hz in its first second and 1000 Hz in its second.
func TestRecorderMixed(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "mix.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	clk := &fakeNow{t: time.Unix(1000, 0)}
	r, err := media.NewRecorder(media.RecorderConfig{
		Mixed: f, Now: clk.now,
		Codecs: [2]map[uint8]string{media.B: {97: "PCMA"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := toneStream(t, audio.PCMU{}, 0, 440, 50)
	b := toneStream(t, audio.PCMA{}, 97, 1000, 50)
	for i := 0; i+1 < len(b); i += 2 {
		b[i], b[i+1] = b[i+1], b[i]
	}
	for _, p := range a {
		clk.t = clk.t.Add(20 * time.Millisecond)
		r.Feed(media.A, p)
	}
	for _, p := range b {
		clk.t = clk.t.Add(20 * time.Millisecond)
		r.Feed(media.B, p)
		time.Sleep(time.Millisecond) // the queue is not the test's subject
	}
	r.Feed(media.A, []byte{0x80, 101, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42, 1, 2, 3, 4}) // telephone-event: ignored
	st, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != 100 || st.Dropped != 0 || st.Late != 0 || st.Ignored != 1 {
		t.Errorf("stats: %+v", st)
	}
	r.Feed(media.A, a[0])
	if st, _ := r.Close(); st.Dropped != 1 {
		t.Errorf("a packet after Close: dropped %d, want 1", st.Dropped)
	}
	x, rate := readWAV(t, f.Name())
	if rate != 8000 || len(x) < 15800 || len(x) > 16200 || int64(len(x)) != st.Samples {
		t.Fatalf("wav: %d samples at %d Hz, want 2 s at 8000 (stats %d)", len(x), rate, st.Samples)
	}
	first, second := x[400:7600], x[8400:15600]
	if !dominant(first, 440, 1000, rate) {
		t.Errorf("first second: 440 Hz not dominant")
	}
	if !dominant(second, 1000, 440, rate) {
		t.Errorf("second second: 1000 Hz not dominant")
	}
}

// TestRecorderDualTrack records overlapping G.722 and PCMU sides at 16 kHz
// into two aligned files, and places a side that starts late at its
// arrival time.
func TestRecorderDualTrack(t *testing.T) {
	dir := t.TempDir()
	var files [2]*os.File
	for i, name := range []string{"a.wav", "b.wav"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	clk := &fakeNow{t: time.Unix(1000, 0)}
	r, err := media.NewRecorder(media.RecorderConfig{Rate: 16000, Tracks: [2]io.WriteSeeker{files[0], files[1]}, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	a := toneStream(t, audio.NewG722(), 9, 440, 100)
	b := toneStream(t, audio.PCMU{}, 0, 1000, 50)
	for i, p := range a {
		clk.t = clk.t.Add(20 * time.Millisecond)
		r.Feed(media.A, p)
		if i >= 50 {
			r.Feed(media.B, b[i-50]) // B speaks during A's second second
		}
		time.Sleep(time.Millisecond)
	}
	st, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != 150 || st.Dropped != 0 {
		t.Errorf("stats: %+v", st)
	}
	xa, rate := readWAV(t, files[0].Name())
	xb, _ := readWAV(t, files[1].Name())
	if rate != 16000 || len(xa) != len(xb) || len(xa) < 31600 || len(xa) > 32400 {
		t.Fatalf("tracks: %d and %d samples at %d Hz, want 2 s each at 16000", len(xa), len(xb), rate)
	}
	if !dominant(xa[1600:30400], 440, 1000, rate) {
		t.Errorf("track a: 440 Hz not dominant")
	}
	if e := energy(xb[:15000]); e > 1 {
		t.Errorf("track b before b spoke: energy %v, want silence", e)
	}
	if !dominant(xb[17600:31200], 1000, 440, rate) {
		t.Errorf("track b: 1000 Hz not dominant in its second second")
	}
}

func energy(x []float64) float64 {
	var e float64
	for _, v := range x {
		e += v * v
	}
	return e / float64(len(x))
}
