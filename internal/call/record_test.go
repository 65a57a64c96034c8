package call_test

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
)

// recordings is a fake call.RecordingWriter that keeps what it is given.
type recordings struct {
	mu   sync.Mutex
	list []call.Recording
}

func (r *recordings) CreateRecording(_ context.Context, _ pbx.TenantID, rec *call.Recording) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, *rec)
	return nil
}

func (r *recordings) all() []call.Recording {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call.Recording(nil), r.list...)
}

// TestCallRecorded records a call of a user with enable_audio_recording:
// 101 sends 1 s of 440 Hz, then 102 sends 1 s of 1000 Hz. The mixed WAV
// holds both parties' tones at the right times, and its row is linked to
// the call's CDR.
func TestCallRecorded(t *testing.T) {
	dir := t.TempDir()
	rw := &recordings{}
	e := newEnv(t, envOpts{deps: func(d *call.Deps) { d.Recordings, d.DataDir = rw, dir }})
	ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
	defer cancel()
	u, err := e.db.UserByExtension(ctx, e.tenant.ID, "101")
	if err != nil {
		t.Fatal(err)
	}
	u.Settings = json.RawMessage(`{"enable_audio_recording":true,"enable_dnd":false}`)
	if err := e.db.UpdateUser(ctx, e.tenant.ID, &u); err != nil {
		t.Fatal(err)
	}
	callee102, err := e.db.UserByExtension(ctx, e.tenant.ID, "102")
	if err != nil {
		t.Fatal(err)
	}
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)

	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status: got %d, want 200", code)
	}
	inv := <-callee.invites
	callee.server()
	ans, err := sdp.Parse(sess.InviteResponse.Body())
	if err != nil {
		t.Fatal(err)
	}
	offer, err := sdp.Parse(inv.Body())
	if err != nil {
		t.Fatal(err)
	}
	rtpTone(t, caller.rtp, net.UDPAddrFromAddrPort(ans.RTP(0)), 440, 50)
	rtpTone(t, callee.rtp, net.UDPAddrFromAddrPort(offer.RTP(0)), 1000, 50)
	time.Sleep(100 * time.Millisecond)
	if err := sess.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	callee.next(sip.BYE)
	cdr := e.cdrs(1)[0]

	recs := rw.all()
	if len(recs) != 1 {
		t.Fatalf("%d recordings, want 1", len(recs))
	}
	r := recs[0]
	if r.CDR != cdr.ID || r.CDR == 0 || r.SessionID != cdr.SessionID || r.Caller != "101" || r.Callee != "102" ||
		r.CallerUser != u.ID || r.CalleeUser != callee102.ID || r.DualTrack || len(r.Files) != 1 {
		t.Fatalf("recording %+v not linked to cdr %v (session %v)", r, cdr.ID, cdr.SessionID)
	}
	want := filepath.Join("recordings", e.tenant.ID.String(), r.StartedAt.UTC().Format("2006-01-02"), cdr.SessionID.String()+".wav")
	if r.Files[0].Path != want {
		t.Errorf("path %s, want %s", r.Files[0].Path, want)
	}
	path := filepath.Join(dir, r.Files[0].Path)
	if st, err := os.Stat(path); err != nil || st.Size() != r.Files[0].Size {
		t.Fatalf("wav file: %v (size %d, row says %d)", err, st.Size(), r.Files[0].Size)
	}
	x, rate, err := siptest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 {
		t.Fatalf("rate %d, want 8000", rate)
	}
	if got := time.Duration(len(x)) * time.Second / 8000; got < 2*time.Second || got > 4*time.Second ||
		(r.Duration-got).Abs() > 20*time.Millisecond {
		t.Errorf("wav of %v (row says %v), want the call's 2 s or a little more", got, r.Duration)
	}
	// The tones, from the first sound to the last: 101's, then 102's.
	first, last := -1, -1
	for i, v := range x {
		if math.Abs(v) > 1000 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 || last-first < 15000 || last-first > 17600 {
		t.Fatalf("sound from sample %d to %d, want about 2 s", first, last)
	}
	mid, margin := (first+last)/2, (last-first)/10
	halves := [2][]float64{x[first+margin : mid-margin], x[mid+margin : last-margin]}
	for i, f := range [2][2]float64{{440, 1000}, {1000, 440}} {
		want, other := siptest.Goertzel(halves[i], f[0], rate), siptest.Goertzel(halves[i], f[1], rate)
		if want < 10*other {
			t.Errorf("half %d: %v Hz power %.3g, %v Hz %.3g: want %v Hz dominant", i+1, f[0], want, f[1], other, f[0])
		}
	}
	if t.Failed() {
		t.Logf("wav: %s", strings.TrimSpace(path))
	}
}
