package audio

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEventRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		payload []byte
		want    Event
	}{
		{[]byte{1, 0x0a, 0x00, 0xa0}, Event{Code: 1, Volume: 10, Duration: 160}},
		{[]byte{11, 0x8a, 0x03, 0x20}, Event{Code: 11, End: true, Volume: 10, Duration: 800}},
		{[]byte{15, 0xbf, 0xff, 0xff}, Event{Code: 15, End: true, Volume: 63, Duration: 0xffff}},
	} {
		got, err := ParseEvent(tt.payload)
		if err != nil {
			t.Fatalf("ParseEvent(% x): %v", tt.payload, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseEvent(% x) (-want +got):\n%s", tt.payload, diff)
		}
		// The reserved bit is not kept, so compare without it.
		want := append([]byte(nil), tt.payload...)
		want[1] &^= 0x40
		if back := got.Marshal(); string(back) != string(want) {
			t.Errorf("Marshal() = % x, want % x", back, want)
		}
	}
	if _, err := ParseEvent([]byte{1, 2, 3}); !errors.Is(err, ErrShortEvent) {
		t.Errorf("ParseEvent of 3 bytes: error %v, want ErrShortEvent", err)
	}
}

func TestDigitMapping(t *testing.T) {
	for i, key := range "0123456789*#ABCD" {
		code, ok := EventForDigit(key)
		if !ok || int(code) != i {
			t.Errorf("EventForDigit(%q) = %d, %v; want %d", key, code, ok, i)
		}
		back, ok := DigitForEvent(code)
		if !ok || back != key {
			t.Errorf("DigitForEvent(%d) = %q, %v; want %q", code, back, ok, key)
		}
	}
	if code, ok := EventForDigit('b'); !ok || code != 13 {
		t.Errorf("EventForDigit('b') = %d, %v; want 13", code, ok)
	}
	if _, ok := EventForDigit('x'); ok {
		t.Error("EventForDigit('x') ok, want not a key")
	}
	if _, ok := DigitForEvent(16); ok {
		t.Error("DigitForEvent(16) (flash) ok, want not a key")
	}
}

func TestDTMFSenderPackets(t *testing.T) {
	s, err := NewDTMFSender(8000, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Packets(nil, '5', 100*time.Millisecond, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(d uint16, end bool) Event { return Event{Code: 5, Volume: 10, Duration: d, End: end} }
	ms := time.Millisecond
	want := []DTMFPacket{
		{At: 0, Timestamp: 1000, Marker: true, Event: ev(160, false)},
		{At: 20 * ms, Timestamp: 1000, Event: ev(320, false)},
		{At: 40 * ms, Timestamp: 1000, Event: ev(480, false)},
		{At: 60 * ms, Timestamp: 1000, Event: ev(640, false)},
		{At: 80 * ms, Timestamp: 1000, Event: ev(800, true)},
		{At: 100 * ms, Timestamp: 1000, Event: ev(800, true)},
		{At: 120 * ms, Timestamp: 1000, Event: ev(800, true)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Packets('5', 100ms) (-want +got):\n%s", diff)
	}

	// A press shorter than one interval is only its end packets, and the
	// first of them carries the marker.
	short, _ := s.Packets(nil, '#', 10*time.Millisecond, 0)
	if len(short) != 3 || !short[0].Marker || short[1].Marker || !short[0].Event.End || short[0].Event.Duration != 80 {
		t.Errorf("Packets('#', 10ms) = %+v, want 3 end packets of 80 ticks, the first with the marker", short)
	}

	for _, tt := range []struct {
		key rune
		d   time.Duration
	}{
		{'x', 100 * time.Millisecond},
		{'1', 0},
		{'1', 9 * time.Second},
	} {
		if _, err := s.Packets(nil, tt.key, tt.d, 0); err == nil {
			t.Errorf("Packets(%q, %v) succeeded, want an error", tt.key, tt.d)
		}
	}
	if _, err := NewDTMFSender(0, 20*time.Millisecond); err == nil {
		t.Error("NewDTMFSender with clock rate 0 succeeded, want an error")
	}
}

type dtmfIn struct {
	ts      uint32
	marker  bool
	payload []byte
}

func pkt(ts uint32, marker bool, code uint8, end bool, dur uint16) dtmfIn {
	return dtmfIn{ts, marker, Event{Code: code, End: end, Volume: 10, Duration: dur}.Marshal()}
}

func TestDTMFReceiver(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []dtmfIn
		want string
	}{
		{"one press", []dtmfIn{
			pkt(100, true, 1, false, 160), pkt(100, false, 1, false, 320),
			pkt(100, false, 1, true, 480), pkt(100, false, 1, true, 480), pkt(100, false, 1, true, 480),
		}, "1"},
		{"same key twice", []dtmfIn{
			pkt(100, true, 1, false, 160), pkt(100, false, 1, true, 320), pkt(100, false, 1, true, 320),
			pkt(2000, true, 1, false, 160), pkt(2000, false, 1, true, 320),
		}, "11"},
		{"start lost", []dtmfIn{
			pkt(100, false, 9, false, 320), pkt(100, false, 9, true, 480), pkt(100, false, 9, true, 480),
		}, "9"},
		{"only end packets", []dtmfIn{
			pkt(100, false, 10, true, 480), pkt(100, false, 10, true, 480), pkt(100, false, 10, true, 480),
		}, "*"},
		{"straggler of the previous press", []dtmfIn{
			pkt(100, true, 2, false, 160), pkt(100, false, 2, true, 320),
			pkt(1000, true, 3, false, 160),
			pkt(100, false, 2, true, 320),
			pkt(1000, false, 3, true, 320),
		}, "23"},
		{"long event continued", []dtmfIn{
			pkt(100, true, 4, false, 0xfe00), pkt(100, false, 4, false, 0xffff),
			pkt(100+0xffff, false, 4, false, 160), pkt(100+0xffff, false, 4, true, 320),
		}, "4"},
		{"timestamp wraps", []dtmfIn{
			pkt(0xffffff00, true, 5, false, 160), pkt(0xffffff00, false, 5, true, 320),
			pkt(0x00000200, true, 6, false, 160), pkt(0x00000200, false, 6, true, 320),
		}, "56"},
		{"flash is not a key", []dtmfIn{
			pkt(100, true, 16, false, 160), pkt(100, false, 16, true, 320),
			pkt(900, true, 0, false, 160),
		}, "0"},
		{"sender sequence", senderSequence(t, "#0A", 8000, 20*time.Millisecond), "#0A"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r DTMFReceiver
			var got []rune
			for _, p := range tt.in {
				key, ok, err := r.Push(p.ts, p.marker, p.payload)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, key)
				}
			}
			if string(got) != tt.want {
				t.Errorf("keys %q, want %q", string(got), tt.want)
			}
		})
	}
	var r DTMFReceiver
	if _, _, err := r.Push(0, true, []byte{1}); !errors.Is(err, ErrShortEvent) {
		t.Errorf("Push of a 1-byte payload: error %v, want ErrShortEvent", err)
	}
}

// senderSequence returns the packets DTMFSender makes for keys, one press
// of 80 ms every 200 ms of media clock.
func senderSequence(t *testing.T, keys string, clock int, interval time.Duration) []dtmfIn {
	t.Helper()
	s, err := NewDTMFSender(clock, interval)
	if err != nil {
		t.Fatal(err)
	}
	var in []dtmfIn
	for i, key := range keys {
		pkts, err := s.Packets(nil, key, 80*time.Millisecond, uint32(i*clock/5))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			in = append(in, dtmfIn{p.Timestamp, p.Marker, p.Event.Marshal()})
		}
	}
	return in
}
