package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
)

// playerWAV returns a WAV file of pcm at rate.
func playerWAV(t testing.TB, rate int, pcm []int16) *bytes.Reader {
	t.Helper()
	var b bytes.Buffer
	w, err := audio.NewWAVStreamWriter(&b, rate, int64(len(pcm)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b.Bytes())
}

// playerTone returns n samples of a 440 Hz tone at rate.
func playerTone(n, rate int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return pcm
}

type playerPacket struct {
	marker       bool
	pt           uint8
	seq          uint16
	ts, ssrc     uint32
	payload      []byte
	version, cc  uint8
	padding, ext bool
}

func parsePlayerRTP(t testing.TB, b []byte) playerPacket {
	t.Helper()
	if len(b) < 12 {
		t.Fatalf("packet of %d bytes", len(b))
	}
	return playerPacket{
		version: b[0] >> 6, padding: b[0]&0x20 != 0, ext: b[0]&0x10 != 0, cc: b[0] & 0x0f,
		marker: b[1]&0x80 != 0, pt: b[1] & 0x7f,
		seq: binary.BigEndian.Uint16(b[2:]), ts: binary.BigEndian.Uint32(b[4:]), ssrc: binary.BigEndian.Uint32(b[8:]),
		payload: append([]byte(nil), b[12:]...),
	}
}

// TestPlayerPCMU plays a file of 2.5 frames at the codec's rate: headers
// count up by one and by 160 a frame, the first packet has the marker,
// and the payload is the file over and over.
func TestPlayerPCMU(t *testing.T) {
	src := playerTone(400, 8000) // 50 ms: the loop falls mid-frame
	got := make(chan playerPacket, 16)
	ticks := make(chan time.Time)
	p, err := NewPlayer(PlayerConfig{
		Source: playerWAV(t, 8000, src), Codec: audio.PCMU{}, Ticks: ticks,
		Send: func(pkt []byte) { got <- parsePlayerRTP(t, pkt) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	const frames = 8
	var pkts []playerPacket
	for i := range frames {
		select {
		case pkt := <-got:
			pkts = append(pkts, pkt)
		case <-time.After(5 * time.Second):
			t.Fatalf("packet %d not sent", i)
		}
		if i < frames-1 {
			ticks <- time.Time{}
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return when its context ended")
	}
	select {
	case pkt := <-got:
		t.Fatalf("packet after stop: %+v", pkt)
	default:
	}

	for i, pkt := range pkts {
		if pkt.version != 2 || pkt.padding || pkt.ext || pkt.cc != 0 || pkt.pt != 0 {
			t.Errorf("packet %d header: %+v", i, pkt)
		}
		if want := i == 0; pkt.marker != want {
			t.Errorf("packet %d marker: got %v, want %v", i, pkt.marker, want)
		}
		if len(pkt.payload) != 160 {
			t.Errorf("packet %d payload: got %d bytes, want 160", i, len(pkt.payload))
		}
		if i == 0 {
			continue
		}
		prev := pkts[i-1]
		if pkt.ssrc != prev.ssrc {
			t.Errorf("packet %d ssrc: got %08x, want %08x", i, pkt.ssrc, prev.ssrc)
		}
		if pkt.seq != prev.seq+1 {
			t.Errorf("packet %d seq: got %d, want %d", i, pkt.seq, prev.seq+1)
		}
		if pkt.ts != prev.ts+160 {
			t.Errorf("packet %d timestamp: got %d, want %d", i, pkt.ts, prev.ts+160)
		}
	}
	// The payloads are the file in a loop, encoded.
	var want []int16
	for len(want) < frames*160 {
		want = append(want, src...)
	}
	for i, pkt := range pkts {
		exp := audio.PCMU{}.Encode(nil, want[i*160:(i+1)*160])
		if !bytes.Equal(pkt.payload, exp) {
			t.Errorf("packet %d payload is not the file's samples %d-%d", i, i*160, (i+1)*160)
		}
	}
}

// TestPlayerResamples plays files at other rates than the codec's: 16 kHz
// as PCMU, 48 kHz as PCMA, 8 kHz as G.722 (16 kHz audio, 8000 Hz
// timestamps), looping a 100 ms file four times.
func TestPlayerResamples(t *testing.T) {
	for _, tc := range []struct {
		codec   Codec
		rate    int
		pt      uint8
		payload int
	}{
		{audio.PCMU{}, 16000, 0, 160},
		{audio.PCMA{}, 48000, 8, 160},
		{audio.NewG722(), 8000, 9, 160},
	} {
		t.Run(tc.codec.Name(), func(t *testing.T) {
			var pkts []playerPacket
			p, err := NewPlayer(PlayerConfig{
				Source: playerWAV(t, tc.rate, playerTone(tc.rate/10, tc.rate)), Codec: tc.codec,
				Send: func(pkt []byte) { pkts = append(pkts, parsePlayerRTP(t, pkt)) },
			})
			if err != nil {
				t.Fatal(err)
			}
			for range 20 { // 400 ms of a 100 ms file
				pkt, err := p.next()
				if err != nil {
					t.Fatal(err)
				}
				p.cfg.Send(pkt)
			}
			dec, _ := audio.CodecByName(tc.codec.Name())
			d := dec()
			var sum float64
			var n int
			for i, pkt := range pkts {
				if pkt.pt != tc.pt || len(pkt.payload) != tc.payload {
					t.Fatalf("packet %d: pt %d, %d bytes", i, pkt.pt, len(pkt.payload))
				}
				if i > 0 && pkt.ts != pkts[i-1].ts+160 {
					t.Errorf("packet %d timestamp step %d, want 160", i, pkt.ts-pkts[i-1].ts)
				}
				for _, s := range d.Decode(nil, pkt.payload) {
					sum += float64(s) * float64(s)
					n++
				}
			}
			if rms := math.Sqrt(sum / float64(n)); rms < 2000 {
				t.Errorf("rms %.0f: the music did not come through", rms)
			}
		})
	}
}

func TestPlayerNoAllocation(t *testing.T) {
	for _, codec := range []Codec{audio.PCMU{}, audio.NewG722()} {
		p, err := NewPlayer(PlayerConfig{
			Source: playerWAV(t, 16000, playerTone(16000*60, 16000)), Codec: codec, Send: func([]byte) {},
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(500, func() {
			if _, err := p.next(); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per packet", codec.Name(), n)
		}
	}
}

func TestPlayerEmptySource(t *testing.T) {
	p, err := NewPlayer(PlayerConfig{Source: playerWAV(t, 8000, nil), Codec: audio.PCMU{}, Send: func([]byte) {}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Run(ctx); !errors.Is(err, ErrEmptySource) {
		t.Fatalf("run: got %v, want ErrEmptySource", err)
	}
}

// TestPlayerPaced: without Ticks, packets leave every 20 ms.
func TestPlayerPaced(t *testing.T) {
	var sent []time.Time
	ctx, cancel := context.WithCancel(context.Background())
	p, err := NewPlayer(PlayerConfig{Source: playerWAV(t, 8000, playerTone(800, 8000)), Codec: audio.PCMU{}, Send: func([]byte) {
		sent = append(sent, time.Now())
		if len(sent) == 11 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if d := sent[len(sent)-1].Sub(sent[0]); d < 180*time.Millisecond || d > 2*time.Second {
		t.Errorf("10 frames took %v, want about 200 ms", d)
	}
}
