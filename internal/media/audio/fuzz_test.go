package audio

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzWAV feeds arbitrary files to the upload check and the readers: they
// must never panic, and must agree on what they accept.
func FuzzWAV(f *testing.F) {
	f.Add(pcmWAV(8000, 1, 2, 3).bytes())
	f.Add(func() []byte { w := pcmWAV(16000, 1); w.channels = 2; return w.bytes() }())
	f.Add(func() []byte { w := pcmWAV(16000, 1, 2); w.tag, w.subTag = wavFormatExtensible, 1; return w.bytes() }())
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, file []byte) {
		format, err := CheckWAV(bytes.NewReader(file))
		pcm, rate, rerr := ReadWAV(bytes.NewReader(file))
		if err == nil {
			if rerr != nil {
				t.Fatalf("CheckWAV accepted (%+v) what ReadWAV refuses: %v", format, rerr)
			}
			if rate != format.Rate || int64(len(pcm)) != format.Samples {
				t.Fatalf("CheckWAV says %+v, ReadWAV read %d samples at %d", format, len(pcm), rate)
			}
		}
		if rerr != nil && !errors.Is(rerr, ErrUnsupportedWAV) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			t.Fatalf("ReadWAV error %v from an in-memory file, want ErrUnsupportedWAV", rerr)
		}
	})
}

// FuzzDTMFReceiver checks that arbitrary packets never panic and that a
// key is reported only for a packet with a new timestamp.
func FuzzDTMFReceiver(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 0x8a, 1, 64})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r DTMFReceiver
		seen := map[uint32]bool{}
		for len(data) >= 9 {
			ts := uint32(data[0])<<8 | uint32(data[1])
			marker := data[2]&1 == 1
			payload := data[3:9]
			data = data[9:]
			_, ok, err := r.Push(ts, marker, payload)
			if err != nil {
				t.Fatal(err)
			}
			if ok && seen[ts] {
				t.Fatalf("key reported twice for timestamp %d", ts)
			}
			if ok {
				seen[ts] = true
			}
		}
	})
}
