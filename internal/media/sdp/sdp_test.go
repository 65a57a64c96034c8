package sdp

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const offer = "v=0\r\n" +
	"o=alice 2890844526 2890844526 IN IP4 192.168.1.10\r\n" +
	"s=-\r\n" +
	"c=IN IP4 192.168.1.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 49170 RTP/AVP 0 8 101\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-16\r\n" +
	"a=rtcp:49171 IN IP4 192.168.1.10\r\n" +
	"a=sendrecv\r\n" +
	"m=video 0 RTP/AVP 96\r\n" +
	"a=rtpmap:96 H264/90000\r\n"

func TestParseAndQueries(t *testing.T) {
	s, err := Parse([]byte(offer))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(s.Media), 2; got != want {
		t.Fatalf("media: got %d, want %d", got, want)
	}
	m := s.Media[0]
	if m.Type != "audio" || m.Port != 49170 || m.Proto != "RTP/AVP" || !cmp.Equal(m.Formats, []string{"0", "8", "101"}) {
		t.Errorf("m= parsed as %+v", m)
	}
	if got, want := s.RTP(0), netip.MustParseAddrPort("192.168.1.10:49170"); got != want {
		t.Errorf("RTP: got %v, want %v", got, want)
	}
	if got, want := s.RTCP(0), netip.MustParseAddrPort("192.168.1.10:49171"); got != want {
		t.Errorf("RTCP: got %v, want %v", got, want)
	}
	if s.RTP(1).IsValid() {
		t.Errorf("disabled stream has RTP address %v", s.RTP(1))
	}
	if got := s.Direction(0); got != SendRecv {
		t.Errorf("direction: got %v", got)
	}
}

func TestDirections(t *testing.T) {
	for _, tc := range []struct {
		session, media string
		want           Direction
	}{
		{"", "", SendRecv},
		{"", "a=sendonly\r\n", SendOnly},
		{"", "a=recvonly\r\n", RecvOnly},
		{"", "a=inactive\r\n", Inactive},
		{"a=sendonly\r\n", "", SendOnly},
		{"a=sendonly\r\n", "a=sendrecv\r\n", SendRecv},
	} {
		body := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" + tc.session +
			"m=audio 4000 RTP/AVP 0\r\n" + tc.media
		s, err := Parse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Direction(0); got != tc.want {
			t.Errorf("%q %q: got %v, want %v", tc.session, tc.media, got, tc.want)
		}
	}
}

func TestRTCP(t *testing.T) {
	for _, tc := range []struct {
		media string
		want  string
	}{
		{"", "10.0.0.1:4001"},
		{"a=rtcp-mux\r\n", "10.0.0.1:4000"},
		{"a=rtcp:5005\r\n", "10.0.0.1:5005"},
		{"a=rtcp:5005 IN IP4 10.9.9.9\r\n", "10.9.9.9:5005"},
		{"a=rtcp:\r\n", "10.0.0.1:4001"},
		{"c=IN IP4 10.0.0.2\r\n", "10.0.0.2:4001"},
	} {
		s, err := Parse([]byte("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n" + tc.media))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.RTCP(0).String(); got != tc.want {
			t.Errorf("%q: got %v, want %v", tc.media, got, tc.want)
		}
	}
}

func TestRewrite(t *testing.T) {
	s, err := Parse([]byte(offer))
	if err != nil {
		t.Fatal(err)
	}
	s.Rewrite(netip.MustParseAddr("203.0.113.5"), []int{40000, 40002})
	want := "v=0\r\n" +
		"o=alice 2890844526 2890844526 IN IP4 203.0.113.5\r\n" +
		"s=-\r\n" +
		"c=IN IP4 203.0.113.5\r\n" +
		"t=0 0\r\n" +
		"m=audio 40000 RTP/AVP 0 8 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=rtcp:40001 IN IP4 203.0.113.5\r\n" +
		"a=sendrecv\r\n" +
		"m=video 0 RTP/AVP 96\r\n" +
		"a=rtpmap:96 H264/90000\r\n"
	if diff := cmp.Diff(want, string(s.Marshal())); diff != "" {
		t.Errorf("rewrite (-want +got):\n%s", diff)
	}
}

// TestRewriteOpus: the relay passes Opus through, so its dynamic payload
// type, rtpmap and fmtp reach the other phone as the offer wrote them.
func TestRewriteOpus(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 96 101\r\n" +
		"a=rtpmap:96 opus/48000/2\r\n" +
		"a=fmtp:96 stereo=1;sprop-stereo=1;useinbandfec=1\r\n" +
		"a=rtpmap:101 telephone-event/48000\r\n" +
		"a=ptime:20\r\n"
	s, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	s.Rewrite(netip.MustParseAddr("203.0.113.5"), []int{40000})
	want := strings.ReplaceAll(strings.ReplaceAll(body, "10.0.0.1", "203.0.113.5"), "audio 4000", "audio 40000")
	if diff := cmp.Diff(want, string(s.Marshal())); diff != "" {
		t.Errorf("rewrite (-want +got):\n%s", diff)
	}
}

func TestRewriteMediaLevelConnectionAndICE(t *testing.T) {
	body := "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=call\nt=0 0\na=ice-lite\n" +
		"m=audio 4000 RTP/AVP 8\nc=IN IP4 10.0.0.7\na=candidate:1 1 UDP 1 10.0.0.7 4000 typ host\na=ice-ufrag:x\na=sendonly\n"
	s, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RTP(0).String(); got != "10.0.0.7:4000" {
		t.Errorf("media-level c=: got %v", got)
	}
	s.Rewrite(netip.MustParseAddr("127.0.0.1"), []int{50000})
	want := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=call\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 50000 RTP/AVP 8\r\na=sendonly\r\n"
	if diff := cmp.Diff(want, string(s.Marshal())); diff != "" {
		t.Errorf("rewrite (-want +got):\n%s", diff)
	}
	s2, err := Parse(s.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Direction(0); got != SendOnly {
		t.Errorf("direction after rewrite: got %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, body := range []string{
		"",
		"o=- 1 1 IN IP4 1.2.3.4\r\n",
		"v=0\r\nbogus\r\n",
		"v=0\r\nm=audio\r\n",
		"v=0\r\nm=audio x RTP/AVP 0\r\n",
		"v=0\r\nm=audio 70000 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP4\r\n",
		"v=0\r\n" + strings.Repeat("a=x\r\n", MaxSize/5+1),
	} {
		if _, err := Parse([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%.30q: got %v, want ErrMalformed", body, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(offer))
	f.Add([]byte("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtcp:5 IN IP4 1.1.1.1\n"))
	f.Add([]byte("v=0\r\nm=audio 1/2 RTP/AVP\r\na=rtcp-mux\r\nc=IN IP6 ::1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		for i := range s.Media {
			s.RTP(i)
			s.RTCP(i)
			s.Direction(i)
		}
		ports := make([]int, len(s.Media))
		for i := range ports {
			ports[i] = 40000 + 2*i
		}
		s.Rewrite(netip.MustParseAddr("192.0.2.1"), ports)
		out := s.Marshal()
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("rewritten body does not parse: %v\n%s", err, out)
		}
		if len(s2.Media) != len(s.Media) {
			t.Fatalf("media count changed: %d != %d", len(s2.Media), len(s.Media))
		}
		for i := range s2.Media {
			if s.Media[i].Port != 0 && s2.RTP(i) != netip.MustParseAddrPort("192.0.2.1:"+itoa(ports[i])) {
				t.Fatalf("stream %d not rewritten: %v\n%s", i, s2.RTP(i), out)
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
