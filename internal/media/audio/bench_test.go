package audio

import (
	"io"
	"testing"
)

// The benchmarks measure one 20 ms frame, the unit of work per call and
// direction 50 times a second: a 300-call IVR node does 15,000 of each
// per second.

func BenchmarkCodec(b *testing.B) {
	for _, name := range []string{"PCMU", "PCMA", "G722"} {
		b.Run(name, func(b *testing.B) {
			newCodec, _ := CodecByName(name)
			c := newCodec()
			pcm := make([]int16, c.FrameSamples(20))
			gen, _ := NewToneGenerator(c.SampleRate(), 8000, 440, 1900)
			gen.Read(pcm)
			payload := make([]byte, 0, len(pcm))
			out := make([]int16, 0, len(pcm))
			b.ReportAllocs()
			for b.Loop() {
				payload = c.Encode(payload[:0], pcm)
				out = c.Decode(out[:0], payload)
			}
		})
	}
}

func BenchmarkResample(b *testing.B) {
	for _, pair := range [][2]int{{8000, 16000}, {16000, 8000}, {48000, 8000}} {
		b.Run(rateName(pair[0])+"-"+rateName(pair[1]), func(b *testing.B) {
			rs, _ := NewResampler(pair[0], pair[1])
			in := make([]int16, pair[0]/50)
			gen, _ := NewToneGenerator(pair[0], 8000, 1000)
			gen.Read(in)
			out := make([]int16, 0, pair[1]/50+2)
			b.ReportAllocs()
			for b.Loop() {
				out = rs.Process(out[:0], in)
			}
		})
	}
}

func rateName(r int) string {
	return map[int]string{8000: "8k", 16000: "16k", 32000: "32k", 48000: "48k"}[r]
}

func BenchmarkToneDetector(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(rateName(rate), func(b *testing.B) {
			d, _ := NewToneDetector(rate)
			frame := make([]int16, rate/50)
			gen, _ := DTMFTone(rate, '5', 6000)
			gen.Read(frame)
			keys := make([]rune, 0, 4)
			b.ReportAllocs()
			for b.Loop() {
				keys = d.Detect(keys[:0], frame)
			}
		})
	}
}

func BenchmarkMix2(b *testing.B) {
	x, y, dst := make([]int16, 160), make([]int16, 160), make([]int16, 160)
	for i := range x {
		x[i], y[i] = int16(i*100), int16(-i*50)
	}
	b.ReportAllocs()
	for b.Loop() {
		Mix(dst, x, y)
	}
}

func BenchmarkJitterBuffer(b *testing.B) {
	jb, _ := NewJitterBuffer(160, 3)
	frame := make([]int16, 160)
	out := make([]int16, 0, 160)
	var seq uint16
	b.ReportAllocs()
	for b.Loop() {
		jb.Push(seq, frame)
		seq++
		out, _ = jb.Pop(out[:0])
	}
}

func BenchmarkDTMFReceiver(b *testing.B) {
	var r DTMFReceiver
	payload := Event{Code: 5, Volume: 10, Duration: 160}.Marshal()
	var ts uint32
	b.ReportAllocs()
	for b.Loop() {
		r.Push(ts, true, payload)
		ts += 1600
	}
}

func BenchmarkWAVRead(b *testing.B) {
	file := pcmWAV(8000, make([]int16, 8000*60)...).bytes()
	frame := make([]int16, 160)
	r := &rewinder{file: file}
	wr, _ := NewWAVReader(r)
	b.ReportAllocs()
	for b.Loop() {
		if n, _ := wr.Read(frame); n == 0 {
			r.off = 44
			wr, _ = NewWAVReader(&rewinder{file: file})
		}
	}
}

// rewinder is a bytes.Reader without the allocation of a new one per lap.
type rewinder struct {
	file []byte
	off  int
}

func (r *rewinder) Read(p []byte) (int, error) {
	n := copy(p, r.file[r.off:])
	r.off += n
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
