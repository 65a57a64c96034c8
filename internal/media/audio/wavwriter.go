package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// wavHeaderSize is the size of the canonical header WAVWriter writes:
// RIFF/WAVE, a 16-byte fmt chunk and the data chunk header.
const wavHeaderSize = 44

// maxWAVSamples is the most a RIFF file can hold: its sizes are 32-bit.
const maxWAVSamples = (0xffffffff - wavHeaderSize) / 2

// ErrWAVLength is returned by WAVWriter when the samples written do not
// match the length announced to NewWAVStreamWriter, or would not fit a
// RIFF file.
var ErrWAVLength = errors.New("wav length mismatch")

// WAVWriter writes 16-bit linear PCM, mono, as a WAV file: recordings and
// voicemail. It is not safe for concurrent use.
//
// A WAV header states the data length before the data, so there are two
// modes. NewWAVWriter writes a provisional header to an io.WriteSeeker (a
// file) and patches the sizes on Close. NewWAVStreamWriter writes to a plain
// io.Writer (an HTTP response, an object-store upload) a header with the
// length given in advance; when the length is not known it writes the
// "unknown" size 0xFFFFFFFF, which ReadWAV, CheckWAV, sox and ffmpeg read as
// "until the end of the file".
type WAVWriter struct {
	w       io.Writer
	seeker  io.WriteSeeker // nil in stream mode
	start   int64          // offset of the header in seeker
	rate    int
	want    int64 // samples announced in stream mode, -1 if unknown
	written int64
	buf     []byte
	closed  bool
}

// NewWAVWriter writes a provisional header for audio at rate Hz to w and
// returns a writer that patches the header on Close. The file starts at
// w's current offset.
func NewWAVWriter(w io.WriteSeeker, rate int) (*WAVWriter, error) {
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("new wav writer: %w", err)
	}
	ww := &WAVWriter{w: w, seeker: w, start: start, rate: rate, want: -1}
	if err := ww.writeHeader(0); err != nil {
		return nil, fmt.Errorf("new wav writer: %w", err)
	}
	return ww, nil
}

// NewWAVStreamWriter writes the header for samples samples at rate Hz to w,
// which need not seek; samples < 0 means the length is not known. With a
// known length, Close reports ErrWAVLength if a different number of samples
// was written, because the header already promised it.
func NewWAVStreamWriter(w io.Writer, rate int, samples int64) (*WAVWriter, error) {
	if samples > maxWAVSamples {
		return nil, fmt.Errorf("new wav stream writer: %d samples: %w", samples, ErrWAVLength)
	}
	ww := &WAVWriter{w: w, rate: rate, want: max(samples, -1)}
	if err := ww.writeHeader(ww.want); err != nil {
		return nil, fmt.Errorf("new wav stream writer: %w", err)
	}
	return ww, nil
}

func (ww *WAVWriter) writeHeader(samples int64) error {
	switch ww.rate {
	case 8000, 16000, 32000, 48000:
	default:
		return fmt.Errorf("rate %d Hz: want 8000, 16000, 32000 or 48000", ww.rate)
	}
	var h [wavHeaderSize]byte
	putWAVHeader(h[:], ww.rate, samples)
	_, err := ww.w.Write(h[:])
	return err
}

// putWAVHeader fills a 44-byte canonical header; samples < 0 writes the
// unknown-length sizes.
func putWAVHeader(h []byte, rate int, samples int64) {
	data, riff := uint32(wavUnknownSize), uint32(wavUnknownSize)
	if samples >= 0 {
		data = uint32(2 * samples)
		riff = data + wavHeaderSize - 8
	}
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], riff)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], wavFormatPCM)
	le.PutUint16(h[22:], 1)
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*2))
	le.PutUint16(h[32:], 2)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], data)
}

// Write appends samples to the file. It does not allocate once its buffer
// has grown to the frame size.
func (ww *WAVWriter) Write(pcm []int16) (int, error) {
	if ww.closed {
		return 0, errors.New("write wav: writer closed")
	}
	limit := int64(maxWAVSamples)
	if ww.want >= 0 {
		limit = ww.want
	}
	if ww.written+int64(len(pcm)) > limit {
		return 0, fmt.Errorf("write wav: %d samples after %d: %w", len(pcm), ww.written, ErrWAVLength)
	}
	if cap(ww.buf) < 2*len(pcm) {
		ww.buf = make([]byte, 2*len(pcm))
	}
	b := ww.buf[:2*len(pcm)]
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	n, err := ww.w.Write(b)
	ww.written += int64(n / 2)
	if err != nil {
		return n / 2, fmt.Errorf("write wav: %w", err)
	}
	return len(pcm), nil
}

// Samples returns the number of samples written so far.
func (ww *WAVWriter) Samples() int64 { return ww.written }

// Close finishes the file: in seek mode it patches the header's sizes and
// leaves w positioned at the end; in stream mode it checks the announced
// length. It does not close the underlying writer, which the caller owns.
func (ww *WAVWriter) Close() error {
	if ww.closed {
		return nil
	}
	ww.closed = true
	if ww.seeker == nil {
		if ww.want >= 0 && ww.written != ww.want {
			return fmt.Errorf("close wav: wrote %d samples, header says %d: %w", ww.written, ww.want, ErrWAVLength)
		}
		return nil
	}
	var h [wavHeaderSize]byte
	putWAVHeader(h[:], ww.rate, ww.written)
	if _, err := ww.seeker.Seek(ww.start+4, io.SeekStart); err != nil {
		return fmt.Errorf("close wav: %w", err)
	}
	if _, err := ww.seeker.Write(h[4:8]); err != nil {
		return fmt.Errorf("close wav: %w", err)
	}
	if _, err := ww.seeker.Seek(ww.start+40, io.SeekStart); err != nil {
		return fmt.Errorf("close wav: %w", err)
	}
	if _, err := ww.seeker.Write(h[40:44]); err != nil {
		return fmt.Errorf("close wav: %w", err)
	}
	if _, err := ww.seeker.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("close wav: %w", err)
	}
	return nil
}
