package media_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/sdp"
)

func offer(t *testing.T, m string, attrs ...string) *sdp.Media {
	t.Helper()
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + m + "\r\n"
	for _, a := range attrs {
		body += a + "\r\n"
	}
	s, err := sdp.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return s.Media[0]
}

func TestChoose(t *testing.T) {
	for _, c := range []struct {
		name      string
		m         *sdp.Media
		supported []string
		codec     string
		pt        uint8
		event     int
		err       bool
	}{
		{"static PCMU with event 101", offer(t, "m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"), []string{"PCMU", "PCMA"}, "PCMU", 0, 101, false},
		{"offer order wins", offer(t, "m=audio 4000 RTP/AVP 8 0"), []string{"PCMU", "PCMA"}, "PCMA", 8, -1, false},
		{"G722 by rtpmap, event on 96", offer(t, "m=audio 4000 RTP/AVP 9 96", "a=rtpmap:9 G722/8000", "a=rtpmap:96 telephone-event/8000"),
			[]string{"G722", "PCMU"}, "G722", 9, 96, false},
		{"unsupported first is skipped", offer(t, "m=audio 4000 RTP/AVP 111 0", "a=rtpmap:111 opus/48000/2"), []string{"PCMU"}, "PCMU", 0, -1, false},
		{"event at 48 kHz is not ours", offer(t, "m=audio 4000 RTP/AVP 0 110", "a=rtpmap:110 telephone-event/48000"), []string{"PCMU"}, "PCMU", 0, -1, false},
		{"nothing supported", offer(t, "m=audio 4000 RTP/AVP 111", "a=rtpmap:111 opus/48000/2"), []string{"PCMU"}, "", 0, -1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := media.Choose(c.m, c.supported...)
			if (err != nil) != c.err {
				t.Fatalf("err = %v", err)
			}
			if err == nil && (got.Codec.Name != c.codec || got.Codec.PT != c.pt || got.EventPT != c.event) {
				t.Errorf("got %+v, want %s/%d event %d", got, c.codec, c.pt, c.event)
			}
		})
	}
}

func TestAnswerSDPParses(t *testing.T) {
	b := media.AnswerSDP(netip.MustParseAddr("192.0.2.7"), 40000, media.Choice{Codec: media.Format{PT: 8, Name: "PCMA", Clock: 8000}, EventPT: 101}, "42")
	s, err := sdp.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if s.RTP(0) != netip.MustParseAddrPort("192.0.2.7:40000") || s.Direction(0) != sdp.SendRecv || !strings.Contains(string(b), "a=rtpmap:101 telephone-event/8000") {
		t.Errorf("answer:\n%s", b)
	}
}
