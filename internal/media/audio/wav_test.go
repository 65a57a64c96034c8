package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wavFile builds a WAV file by hand so tests can describe broken ones.
type wavFile struct {
	tag      uint16
	channels uint16
	rate     uint32
	bits     uint16
	fmtSize  uint32 // 0 means 16 (18 with cbSize for extensible: then 40)
	subTag   uint16 // extensible sub-format
	extra    []byte // chunks between fmt and data
	data     []byte
	dataSize uint32 // 0 means len(data)
	noFmt    bool
	dataLast bool // put the fmt chunk after the data chunk
}

func pcmWAV(rate uint32, samples ...int16) wavFile {
	data := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(s))
	}
	return wavFile{tag: 1, channels: 1, rate: rate, bits: 16, data: data}
}

func (w wavFile) bytes() []byte {
	le := binary.LittleEndian
	var fmtc bytes.Buffer
	size := w.fmtSize
	if size == 0 {
		size = 16
		if w.tag == wavFormatExtensible {
			size = 40
		}
	}
	body := make([]byte, size)
	le.PutUint16(body[0:], w.tag)
	le.PutUint16(body[2:], w.channels)
	le.PutUint32(body[4:], w.rate)
	le.PutUint32(body[8:], w.rate*uint32(w.channels)*uint32(w.bits)/8)
	le.PutUint16(body[12:], w.channels*w.bits/8)
	le.PutUint16(body[14:], w.bits)
	if size >= 26 {
		le.PutUint16(body[24:], w.subTag)
	}
	fmtc.WriteString("fmt ")
	binary.Write(&fmtc, le, size)
	fmtc.Write(body)

	var datac bytes.Buffer
	ds := w.dataSize
	if ds == 0 {
		ds = uint32(len(w.data))
	}
	datac.WriteString("data")
	binary.Write(&datac, le, ds)
	datac.Write(w.data)

	var chunks bytes.Buffer
	if !w.noFmt && !w.dataLast {
		chunks.Write(fmtc.Bytes())
	}
	chunks.Write(w.extra)
	chunks.Write(datac.Bytes())
	if w.dataLast {
		chunks.Write(fmtc.Bytes())
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, le, uint32(4+chunks.Len()))
	out.WriteString("WAVE")
	out.Write(chunks.Bytes())
	return out.Bytes()
}

func TestCheckWAV(t *testing.T) {
	good := pcmWAV(16000, 1, 2, 3, 4)
	listChunk := []byte("LIST\x05\x00\x00\x00abcde\x00")
	for _, tt := range []struct {
		name    string
		file    []byte
		want    Format
		problem string // in the error message; "" means accepted
	}{
		{"16 kHz mono", good.bytes(), Format{Rate: 16000, Samples: 4}, ""},
		{"8 kHz", pcmWAV(8000, 1, 2).bytes(), Format{Rate: 8000, Samples: 2}, ""},
		{"48 kHz", pcmWAV(48000, 1).bytes(), Format{Rate: 48000, Samples: 1}, ""},
		{"LIST chunk skipped", func() []byte { w := good; w.extra = listChunk; return w.bytes() }(), Format{Rate: 16000, Samples: 4}, ""},
		{"extensible PCM", func() []byte { w := good; w.tag, w.subTag = wavFormatExtensible, 1; return w.bytes() }(), Format{Rate: 16000, Samples: 4}, ""},
		{"unknown length", func() []byte { w := good; w.dataSize = wavUnknownSize; return w.bytes() }(), Format{Rate: 16000, Samples: 4}, ""},
		{"stereo", func() []byte { w := good; w.channels = 2; return w.bytes() }(), Format{}, "stereo"},
		{"6 channels", func() []byte { w := good; w.channels = 6; return w.bytes() }(), Format{}, "6 channels"},
		{"8-bit", func() []byte { w := good; w.bits = 8; return w.bytes() }(), Format{}, "8-bit"},
		{"24-bit", func() []byte { w := good; w.bits = 24; return w.bytes() }(), Format{}, "24-bit"},
		{"mu-law", func() []byte { w := good; w.tag, w.bits = wavFormatMuLaw, 8; return w.bytes() }(), Format{}, "mu-law"},
		{"A-law", func() []byte { w := good; w.tag, w.bits = wavFormatALaw, 8; return w.bytes() }(), Format{}, "A-law"},
		{"float", func() []byte { w := good; w.tag, w.bits = wavFormatFloat, 32; return w.bytes() }(), Format{}, "float"},
		{"MP3", func() []byte { w := good; w.tag = wavFormatMP3; return w.bytes() }(), Format{}, "MP3"},
		{"extensible float", func() []byte { w := good; w.tag, w.subTag = wavFormatExtensible, 3; return w.bytes() }(), Format{}, "float"},
		{"44.1 kHz", pcmWAV(44100, 1).bytes(), Format{}, "44100 Hz"},
		{"11.025 kHz", pcmWAV(11025, 1).bytes(), Format{}, "11025 Hz"},
		{"truncated data", func() []byte { b := good.bytes(); return b[:len(b)-3] }(), Format{}, "truncated"},
		{"truncated header", good.bytes()[:30], Format{}, "truncated"},
		{"no data chunk", func() []byte { w := good; w.noFmt = false; b := w.bytes(); return b[:36] }(), Format{}, "no data chunk"},
		{"data before fmt", func() []byte { w := good; w.dataLast = true; return w.bytes() }(), Format{}, "before the fmt"},
		{"odd data size", func() []byte { w := good; w.data = w.data[:7]; return w.bytes() }(), Format{}, "whole 16-bit samples"},
		{"no samples", pcmWAV(8000).bytes(), Format{}, "no samples"},
		{"not RIFF", []byte("ID3\x04\x00\x00\x00\x00\x00\x00MP3 data here"), Format{}, "not a RIFF/WAVE file"},
		{"RIFF but not WAVE", append([]byte("RIFF\x04\x00\x00\x00AVI "), make([]byte, 20)...), Format{}, "not a RIFF/WAVE file"},
		{"empty", nil, Format{}, "not a RIFF/WAVE file"},
		{"RF64", append([]byte("RF64\xff\xff\xff\xffWAVE"), make([]byte, 20)...), Format{}, "RF64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckWAV(bytes.NewReader(tt.file))
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("CheckWAV: %v", err)
				}
				if got != tt.want {
					t.Errorf("CheckWAV = %+v, want %+v", got, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrUnsupportedWAV) || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("CheckWAV error %v, want ErrUnsupportedWAV naming %q", err, tt.problem)
			}
			if !strings.HasPrefix(err.Error(), "check wav: ") {
				t.Errorf("error %q does not start with the operation", err)
			}
			// The streaming reader refuses the same files (those it can
			// tell from the header and the data it reads).
			if _, _, rerr := ReadWAV(bytes.NewReader(tt.file)); rerr == nil && tt.problem != "whole 16-bit samples" && tt.problem != "no samples" {
				t.Errorf("ReadWAV accepted a file CheckWAV refuses (%v)", err)
			}
		})
	}
}

func TestWAVWriterSeek(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWAVWriter(f, 8000)
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := NewToneGenerator(8000, 5000, 440)
	frame := make([]int16, 160)
	var want []int16
	for range 10 {
		gen.Read(frame)
		want = append(want, frame...)
		if _, err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	format, err := CheckWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Format{Rate: 8000, Samples: 1600}); format != want {
		t.Errorf("CheckWAV = %+v, want %+v", format, want)
	}
	f.Seek(0, io.SeekStart)
	got, rate, err := ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 || !cmp.Equal(got, want) {
		t.Errorf("ReadWAV: rate %d, %d samples; want 8000 and the %d written", rate, len(got), len(want))
	}
	if format.Duration().Milliseconds() != 200 {
		t.Errorf("Duration() = %v, want 200ms", format.Duration())
	}
}

func TestWAVStreamWriter(t *testing.T) {
	samples := []int16{1, -1, 300, -300, 32767, -32768}
	for _, tt := range []struct {
		name    string
		length  int64
		write   []int16
		wantErr bool
		samples int64 // in the header
	}{
		{"known length", 6, samples, false, 6},
		{"unknown length", -1, samples, false, -1},
		{"fewer than announced", 10, samples, true, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWAVStreamWriter(&buf, 16000, tt.length)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(tt.write); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrWAVLength)) {
				t.Fatalf("Close error %v, want error %v", err, tt.wantErr)
			}
			r, err := NewWAVReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Format(); got.Samples != tt.samples || got.Rate != 16000 {
				t.Errorf("Format() = %+v, want %d samples at 16000", got, tt.samples)
			}
			if tt.wantErr {
				return
			}
			got, _, err := ReadWAV(bytes.NewReader(buf.Bytes()))
			if err != nil || !cmp.Equal(got, samples) {
				t.Errorf("ReadWAV = %v, %v; want %v", got, err, samples)
			}
		})
	}
	var buf bytes.Buffer
	w, _ := NewWAVStreamWriter(&buf, 8000, 2)
	if _, err := w.Write(samples); !errors.Is(err, ErrWAVLength) {
		t.Errorf("writing past the announced length: error %v, want ErrWAVLength", err)
	}
	if _, err := NewWAVStreamWriter(&buf, 44100, 0); err == nil {
		t.Error("NewWAVStreamWriter at 44100 Hz succeeded, want an error")
	}
}

// TestWAVReaderFrames reads a file in 20 ms frames through a reader that
// returns one byte at a time, so samples split across reads.
func TestWAVReaderFrames(t *testing.T) {
	in := make([]int16, 1000)
	for i := range in {
		in[i] = int16(i*37 - 15000)
	}
	file := pcmWAV(8000, in...).bytes()
	r, err := NewWAVReader(&oneByteReader{file})
	if err != nil {
		t.Fatal(err)
	}
	var got []int16
	frame := make([]int16, 160)
	for {
		n, err := r.Read(frame)
		got = append(got, frame[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !cmp.Equal(got, in) {
		t.Errorf("read %d samples, differing from the %d written", len(got), len(in))
	}

	truncated := file[:len(file)-100]
	r, _ = NewWAVReader(bytes.NewReader(truncated))
	var err2 error
	for err2 == nil {
		_, err2 = r.Read(frame)
	}
	if !errors.Is(err2, ErrUnsupportedWAV) || !strings.Contains(err2.Error(), "truncated") {
		t.Errorf("truncated file: error %v, want ErrUnsupportedWAV naming truncated", err2)
	}
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

func TestWAVZeroAllocs(t *testing.T) {
	frame := make([]int16, 160)
	var buf bytes.Buffer
	buf.Grow(1 << 20)
	w, _ := NewWAVStreamWriter(&buf, 8000, -1)
	w.Write(frame)
	if allocs := testing.AllocsPerRun(100, func() { w.Write(frame) }); allocs != 0 {
		t.Errorf("Write: %v allocs per frame, want 0", allocs)
	}
	r, _ := NewWAVReader(bytes.NewReader(buf.Bytes()))
	r.Read(frame)
	if allocs := testing.AllocsPerRun(100, func() { r.Read(frame) }); allocs != 0 {
		t.Errorf("Read: %v allocs per frame, want 0", allocs)
	}
}
