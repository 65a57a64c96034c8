package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrUnsupportedWAV is wrapped by every error about a file that is not a WAV
// file the PBX accepts: not RIFF/WAVE, truncated, or not 16-bit linear PCM,
// mono, at 8, 16, 32 or 48 kHz (the prompt format PortSIP documents). The
// message names what is wrong, so the API can show it to the uploader.
var ErrUnsupportedWAV = errors.New("unsupported wav")

// WAV format tags of the fmt chunk that uploads commonly carry.
const (
	wavFormatPCM        = 1
	wavFormatFloat      = 3
	wavFormatALaw       = 6
	wavFormatMuLaw      = 7
	wavFormatIMAADPCM   = 0x11
	wavFormatGSM        = 0x31
	wavFormatMP3        = 0x55
	wavFormatExtensible = 0xfffe
)

// wavUnknownSize is the data size of a WAV written without knowing its
// length (a live stream); the data then runs to the end of the file.
const wavUnknownSize = 0xffffffff

// Format describes an accepted WAV file.
type Format struct {
	Rate    int   // samples per second: 8000, 16000, 32000 or 48000
	Samples int64 // number of samples, or -1 if the header says "until EOF"
}

// Duration returns the length of the audio, or -1 if it is not known.
func (f Format) Duration() time.Duration {
	if f.Samples < 0 {
		return -1
	}
	return time.Duration(f.Samples) * time.Second / time.Duration(f.Rate)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupportedWAV}, args...)...)
}

// readWAVHeader reads the RIFF header and chunks up to the start of the
// sample data and returns the format and the size of the data chunk in
// bytes (wavUnknownSize if open-ended).
func readWAVHeader(r io.Reader) (Format, uint32, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Format{}, 0, unsupported("not a RIFF/WAVE file: shorter than its 12-byte header")
		}
		return Format{}, 0, err
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		if string(hdr[0:4]) == "RF64" {
			return Format{}, 0, unsupported("RF64 (64-bit WAV) files are not accepted")
		}
		return Format{}, 0, unsupported("not a RIFF/WAVE file")
	}
	var fmtSeen bool
	var f Format
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				if !fmtSeen {
					return Format{}, 0, unsupported("truncated: no fmt chunk")
				}
				return Format{}, 0, unsupported("truncated: no data chunk")
			}
			return Format{}, 0, err
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return Format{}, 0, unsupported("malformed fmt chunk of %d bytes", size)
			}
			body := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, body); err != nil {
				return Format{}, 0, unsupported("truncated in the fmt chunk")
			}
			rate, err := checkWAVFmt(body[:size])
			if err != nil {
				return Format{}, 0, err
			}
			f.Rate, fmtSeen = rate, true
		case "data":
			if !fmtSeen {
				return Format{}, 0, unsupported("data chunk before the fmt chunk")
			}
			if size == wavUnknownSize {
				f.Samples = -1
			} else {
				f.Samples = int64(size / 2)
			}
			return f, size, nil
		default:
			// LIST, fact, cue and the like carry nothing we play; chunks
			// are padded to an even length.
			if _, err := io.CopyN(io.Discard, r, int64(size)+int64(size&1)); err != nil {
				if errors.Is(err, io.EOF) {
					return Format{}, 0, unsupported("truncated in the %q chunk", id)
				}
				return Format{}, 0, err
			}
		}
	}
}

// checkWAVFmt validates a fmt chunk body and returns the sample rate.
func checkWAVFmt(b []byte) (int, error) {
	tag := binary.LittleEndian.Uint16(b[0:2])
	channels := binary.LittleEndian.Uint16(b[2:4])
	rate := binary.LittleEndian.Uint32(b[4:8])
	bits := binary.LittleEndian.Uint16(b[14:16])
	if tag == wavFormatExtensible {
		// WAVE_FORMAT_EXTENSIBLE names the real format in the first two
		// bytes of its sub-format GUID.
		if len(b) < 26 {
			return 0, unsupported("extensible fmt chunk of %d bytes", len(b))
		}
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	switch tag {
	case wavFormatPCM:
	case wavFormatMuLaw:
		return 0, unsupported("mu-law encoded, want 16-bit linear PCM")
	case wavFormatALaw:
		return 0, unsupported("A-law encoded, want 16-bit linear PCM")
	case wavFormatFloat:
		return 0, unsupported("32-bit float samples, want 16-bit linear PCM")
	case wavFormatIMAADPCM:
		return 0, unsupported("IMA ADPCM encoded, want 16-bit linear PCM")
	case wavFormatGSM:
		return 0, unsupported("GSM 6.10 encoded, want 16-bit linear PCM")
	case wavFormatMP3:
		return 0, unsupported("MP3 encoded, want 16-bit linear PCM")
	default:
		return 0, unsupported("encoding 0x%04x, want 16-bit linear PCM", tag)
	}
	if channels != 1 {
		if channels == 2 {
			return 0, unsupported("stereo, want mono")
		}
		return 0, unsupported("%d channels, want mono", channels)
	}
	if bits != 16 {
		return 0, unsupported("%d-bit samples, want 16-bit", bits)
	}
	switch rate {
	case 8000, 16000, 32000, 48000:
	default:
		return 0, unsupported("sample rate %d Hz, want 8000, 16000, 32000 or 48000", rate)
	}
	return int(rate), nil
}

// CheckWAV validates an uploaded file without reading its samples: the
// header must describe 16-bit linear PCM, mono, at 8, 16, 32 or 48 kHz, and
// the file must hold all the sample data the header announces. It leaves r
// at an unspecified offset. Errors about the file wrap ErrUnsupportedWAV;
// others come from r.
func CheckWAV(r io.ReadSeeker) (Format, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Format{}, fmt.Errorf("check wav: %w", err)
	}
	f, size, err := readWAVHeader(r)
	if err != nil {
		return Format{}, fmt.Errorf("check wav: %w", err)
	}
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return Format{}, fmt.Errorf("check wav: %w", err)
	}
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return Format{}, fmt.Errorf("check wav: %w", err)
	}
	have := end - start
	if size == wavUnknownSize {
		f.Samples = have / 2
		size = uint32(min(have, wavUnknownSize-1))
	}
	if int64(size) > have {
		return Format{}, fmt.Errorf("check wav: %w", unsupported("truncated: data chunk says %d bytes, file holds %d", size, have))
	}
	if size%2 != 0 {
		return Format{}, fmt.Errorf("check wav: %w", unsupported("data chunk of %d bytes is not whole 16-bit samples", size))
	}
	if f.Samples == 0 {
		return Format{}, fmt.Errorf("check wav: %w", unsupported("no samples"))
	}
	return f, nil
}

// ReadWAV reads a whole WAV file in the accepted format and returns its
// samples and rate. Errors about the file wrap ErrUnsupportedWAV.
func ReadWAV(r io.Reader) ([]int16, int, error) {
	wr, err := NewWAVReader(r)
	if err != nil {
		return nil, 0, fmt.Errorf("read wav: %w", err)
	}
	var pcm []int16
	if n := wr.Format().Samples; n > 0 {
		pcm = make([]int16, 0, min(n, 1<<24))
	}
	buf := make([]int16, 4096)
	for {
		n, err := wr.Read(buf)
		pcm = append(pcm, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return pcm, wr.Format().Rate, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read wav: %w", err)
		}
	}
}

// WAVReader streams the samples of a WAV file in the accepted format, for
// prompts and music that are played frame by frame rather than loaded whole.
// It is not safe for concurrent use.
type WAVReader struct {
	r      io.Reader
	format Format
	left   int64 // bytes of sample data still to read, -1 until EOF
	buf    []byte
	odd    bool // buf[0] holds the first byte of a split sample
}

// NewWAVReader reads the header from r and returns a reader positioned at
// the first sample. Errors about the file wrap ErrUnsupportedWAV.
func NewWAVReader(r io.Reader) (*WAVReader, error) {
	f, size, err := readWAVHeader(r)
	if err != nil {
		return nil, fmt.Errorf("open wav: %w", err)
	}
	left := int64(size)
	if size == wavUnknownSize {
		left = -1
	}
	return &WAVReader{r: r, format: f, left: left}, nil
}

// Format returns the format from the header.
func (w *WAVReader) Format() Format { return w.format }

// Read fills p with the next samples and returns how many it read. At the
// end of the data it returns 0, io.EOF. If the file ends before the data
// chunk does, it returns an error wrapping ErrUnsupportedWAV. It does not
// allocate once its buffer has grown to len(p).
func (w *WAVReader) Read(p []int16) (int, error) {
	if w.left == 0 || len(p) == 0 {
		if w.left == 0 {
			return 0, io.EOF
		}
		return 0, nil
	}
	start := 0
	if w.odd {
		start = 1 // the first byte of a sample split across reads
	}
	want := int64(2 * len(p))
	if w.left > 0 {
		want = min(want, int64(start)+w.left)
	}
	if cap(w.buf) < 2*len(p) {
		buf := make([]byte, 2*len(p))
		copy(buf, w.buf[:start])
		w.buf = buf
	}
	b := w.buf[:want]
	n, err := io.ReadAtLeast(w.r, b[start:], 1)
	n += start
	samples := n / 2
	for i := 0; i < samples; i++ {
		p[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	w.odd = n%2 == 1
	if w.odd {
		b[0] = b[n-1]
	}
	if w.left > 0 {
		w.left -= int64(n - start)
	}
	switch {
	case err == nil:
		return samples, nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if w.left > 0 {
			return samples, fmt.Errorf("read wav: %w", unsupported("truncated: %d bytes of sample data missing", w.left))
		}
		w.left = 0
		if samples > 0 {
			return samples, nil
		}
		return 0, io.EOF
	default:
		return samples, fmt.Errorf("read wav: %w", err)
	}
}
