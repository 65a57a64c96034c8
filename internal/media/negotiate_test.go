package media_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/audio"
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
		{"opus on a dynamic payload type", offer(t, "m=audio 4000 RTP/AVP 96 0 101", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 useinbandfec=1",
			"a=rtpmap:101 telephone-event/8000"), []string{"PCMU", "OPUS"}, "OPUS", 96, 101, false},
		{"OPUS in upper case", offer(t, "m=audio 4000 RTP/AVP 107", "a=rtpmap:107 OPUS/48000/2"), []string{"OPUS"}, "OPUS", 107, -1, false},
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

// TestOpusAnswer: an Opus offer on a dynamic payload type is answered on
// the same number, as opus/48000/2 whatever the offer's spelling.
func TestOpusAnswer(t *testing.T) {
	m := offer(t, "m=audio 4000 RTP/AVP 98 101", "a=rtpmap:98 OPUS/48000/2", "a=fmtp:98 useinbandfec=1;stereo=1",
		"a=rtpmap:101 telephone-event/8000")
	c, err := media.Choose(m, "OPUS")
	if err != nil {
		t.Fatal(err)
	}
	if want := (media.Format{PT: 98, Name: "OPUS", Clock: 48000, Channels: 2}); c.Codec != want {
		t.Errorf("chose %+v, want %+v", c.Codec, want)
	}
	b := media.AnswerSDP(netip.MustParseAddr("192.0.2.7"), 40000, c, "42")
	s, err := sdp.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	got := media.Formats(s.Media[0])
	want := []media.Format{{PT: 98, Name: "OPUS", Clock: 48000, Channels: 2}, {PT: 101, Name: "TELEPHONE-EVENT", Clock: 8000}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || !strings.Contains(string(b), "a=rtpmap:98 opus/48000/2\r\n") {
		t.Errorf("answer formats %+v, want %+v:\n%s", got, want, b)
	}
}

// TestPayloadAs: a codec of dynamic payload type takes the SDP's number;
// a codec already on it is returned as it is.
func TestPayloadAs(t *testing.T) {
	pcmu := audio.PCMU{}
	if got := media.PayloadAs(pcmu, 0); got != media.Codec(pcmu) {
		t.Errorf("PayloadAs(PCMU, 0) = %#v, want PCMU itself", got)
	}
	c := media.PayloadAs(pcmu, 96)
	if c.PayloadType() != 96 || c.Name() != "PCMU" || c.ClockRate() != 8000 {
		t.Errorf("PayloadAs(PCMU, 96): %s pt %d clock %d", c.Name(), c.PayloadType(), c.ClockRate())
	}
	if got := c.Decode(nil, c.Encode(nil, make([]int16, 160))); len(got) != 160 {
		t.Errorf("round trip gave %d samples, want 160", len(got))
	}
}
