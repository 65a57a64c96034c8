package call

import (
	"strings"
	"testing"
)

func TestReferReplaces(t *testing.T) {
	for _, tc := range []struct {
		referTo string
		want    replaces
		ok, bad bool
	}{
		{"<sip:103@acme.test>", replaces{}, false, false},
		{"<sip:103@acme.test?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>", replaces{callID: "abc@host", toTag: "t1", fromTag: "f1"}, true, false},
		{`"C" <sip:103@acme.test;user=phone?X-Foo=1&replaces=id%3Bfrom-tag%3Df%3Bto-tag%3Dt%3Bearly-only>;p=1`, replaces{callID: "id", toTag: "t", fromTag: "f", earlyOnly: true}, true, false},
		{"<sip:103@acme.test?Replaces=id%3Bto-tag%3Dt>", replaces{}, true, true},
		{"<sip:103@acme.test?Replaces=%zz>", replaces{}, true, true},
	} {
		got, ok, err := referReplaces(tc.referTo)
		if ok != tc.ok || (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%s: got %+v %v %v, want %+v %v bad=%v", tc.referTo, got, ok, err, tc.want, tc.ok, tc.bad)
		}
	}
}

func TestReoffer(t *testing.T) {
	body := "v=0\r\no=b 7 7 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=recvonly\r\n" +
		"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=inactive\r\nm=video 0 RTP/AVP 96\r\n"
	prev := "v=0\r\no=a 42 3 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	got, err := reoffer([]byte(body), []byte(prev), true)
	if err != nil {
		t.Fatal(err)
	}
	want := "v=0\r\no=a 42 4 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\nm=video 0 RTP/AVP 96\r\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	kept, err := reoffer([]byte(body), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(kept), "o=b 7 8 IN IP4") || !strings.Contains(string(kept), "a=inactive") {
		t.Errorf("without prev or sendrecv:\n%s", kept)
	}
	if _, err := reoffer(nil, []byte(prev), true); err == nil {
		t.Error("empty body: no error")
	}
}
