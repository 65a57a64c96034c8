package call

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

func TestRecordingFor(t *testing.T) {
	on := json.RawMessage(`{"enable_audio_recording":true}`)
	off := json.RawMessage(`{"enable_audio_recording":false,"enable_dnd":true}`)
	dual := json.RawMessage(`{"enable_audio_recording":false,"enable_dual_track_recording":true}`)
	tenantAll := json.RawMessage(`{"enable_audio_recording":true,"enable_dual_track_recording":true,"office_hours":{}}`)
	user := func(id pbx.ID, st json.RawMessage) pbx.User {
		return pbx.User{ID: id, ExtensionNumber: "10" + id.String(), Settings: st}
	}
	for _, c := range []struct {
		name           string
		tenant         json.RawMessage
		caller, callee pbx.User
		on, dual       bool
	}{
		{"nobody", nil, user(1, nil), user(2, off), false, false},
		{"caller", off, user(1, on), user(2, nil), true, false},
		{"callee", nil, user(1, off), user(2, on), true, false},
		{"callee of a trunk call", nil, pbx.User{}, user(2, on), true, false},
		{"tenant records every call, dual-track", tenantAll, pbx.User{}, pbx.User{}, true, true},
		{"dual-track alone records nothing", dual, user(1, nil), user(2, nil), false, true},
		{"dual-track with a user's switch", dual, user(1, on), user(2, nil), true, true},
		{"unreadable settings are off", json.RawMessage(`[`), user(1, json.RawMessage(`{"enable_audio_recording":"yes"}`)), pbx.User{}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := recordingFor(pbx.Tenant{Settings: c.tenant}, c.caller, c.callee, slog.New(slog.DiscardHandler))
			if p.on != c.on || p.dual != c.dual || p.callerUser != c.caller.ID || p.calleeUser != c.callee.ID {
				t.Errorf("got %+v, want on %v dual %v users %v %v", p, c.on, c.dual, c.caller.ID, c.callee.ID)
			}
		})
	}
}

func TestRecordCodecs(t *testing.T) {
	answer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 96 101\r\na=rtpmap:96 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n")
	offer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=video 5000 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n" +
		"m=audio 4002 RTP/AVP 9 96 0\r\na=rtpmap:96 PCMU/8000\r\n")
	got := recordCodecs(answer, offer)
	want := map[uint8]string{96: "PCMA", 101: "TELEPHONE-EVENT", 9: "G722", 0: "PCMU"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for pt, n := range want {
		if got[pt] != n {
			t.Errorf("pt %d: got %q, want %q", pt, got[pt], n)
		}
	}
	if c := firstCodec(offer); c != "G722" {
		t.Errorf("firstCodec: %q", c)
	}
}
