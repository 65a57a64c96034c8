package load

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/gopbx/gopbx/internal/media/audio"
)

// TestPeerDTMF checks that a pressed key leaves as RFC 4733 packets the
// PBX's receiver reads as one key, between audio packets.
func TestPeerDTMF(t *testing.T) {
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	p, err := newRTPPeer("127.0.0.1", &counters{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.conn.Close()
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	p.dst.Store(&dst)
	p.eventPT = 101
	if p.press('x') {
		t.Error("press('x') sent something")
	}
	if !p.press('9') {
		t.Fatal("press('9') sent nothing")
	}
	buf := make([]byte, 1500)
	for range eventPackets + 3 {
		p.send(buf)
	}
	var rx audio.DTMFReceiver
	var keys []rune
	var events, frames int
	sink.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range eventPackets + 3 {
		n, _, err := sink.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		switch pkt.PayloadType {
		case 101:
			events++
			if k, ok, err := rx.Push(pkt.Timestamp, pkt.Marker, pkt.Payload); err != nil {
				t.Fatal(err)
			} else if ok {
				keys = append(keys, k)
			}
		case 0:
			frames++
		}
	}
	if string(keys) != "9" || events != eventPackets+2 || frames != 1 {
		t.Errorf("got keys %q from %d event packets and %d audio; want \"9\" from %d and 1", string(keys), events, frames, eventPackets+2)
	}
}

// TestRecordingGaps records the pattern with frames missing and finds the
// longest gap.
func TestRecordingGaps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		missing []uint32 // frame numbers left out
		want    time.Duration
	}{
		{"whole", nil, 20 * time.Millisecond},
		{"one lost", []uint32{7}, 40 * time.Millisecond},
		{"three lost", []uint32{100, 101, 102, 300}, 80 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w, err := audio.NewWAVStreamWriter(&b, 8000, -1)
			if err != nil {
				t.Fatal(err)
			}
			var frame []int16
			written := 0
			for i := uint32(0); i < 600; i++ { // 12 s: more than a cycle
				if slices.Contains(tc.missing, i) {
					continue
				}
				frame = audio.PCMU{}.Decode(frame[:0], bytes.Repeat([]byte{PatternCode(i)}, 160))
				if _, err := w.Write(frame); err != nil {
					t.Fatal(err)
				}
				written++
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rec, err := RecordingGaps(&b)
			if err != nil {
				t.Fatal(err)
			}
			if rec.MaxGap != tc.want || rec.Frames != written || rec.Foreign != 0 {
				t.Errorf("got %+v; want max gap %v, %d frames, no foreign samples", rec, tc.want, written)
			}
		})
	}
}
