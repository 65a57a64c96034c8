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
	checkRecordedTones(t, filepath.Join(dir, r.Files[0].Path), r)
}

// checkRecordedTones checks the mixed WAV at path of recording r, of a
// call where the caller sent 1 s of 440 Hz and then the callee 1 s of
// 1000 Hz: its size is the row's, it lasts the call's 2 s and holds the
// caller's tone, then the callee's.
func checkRecordedTones(t *testing.T, path string, r call.Recording) {
	t.Helper()
	if st, err := os.Stat(path); err != nil || st.Size() != r.Files[0].Size {
		t.Fatalf("wav file: %v (row says %d bytes)", err, r.Files[0].Size)
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
	// The tones, from the first sound to the last: the caller's, then the
	// callee's.
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

// TestAppTransferRecorded records a call an App answered and then put
// through (an IVR sending its caller to extension 102), as a direct call
// is: when the callee's user has enable_audio_recording, which the session
// learns only when the App names 102, and when the tenant has it. The
// recording starts when 102 answers (not with the App's part), is one of
// 101 and 102, linked to the CDR, and holds 101's tone, then 102's.
func TestAppTransferRecorded(t *testing.T) {
	for _, tc := range []struct {
		name           string
		tenant, callee string // settings
	}{
		{"callee", "", `{"enable_audio_recording":true}`},
		{"tenant", `{"enable_audio_recording":true}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rw := &recordings{}
			caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
			var e *env
			e = newEnv(t, envOpts{codecs: codecs, deps: func(d *call.Deps) { d.Recordings, d.DataDir = rw, dir },
				router: routerFunc(func(_ context.Context, _ call.Origin, req *sip.Request) (call.Plan, error) {
					tn := e.tenant
					tn.Settings = json.RawMessage(tc.tenant)
					if req.Recipient.User == "800" {
						return call.Plan{Tenant: tn, Direction: call.ExtensionCall, App: transferApp{to: "102"}, Callee: "800"}, nil
					}
					return call.Plan{Tenant: tn, Direction: call.ExtensionCall, Extension: req.Recipient.User}, nil
				})})
			ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
			defer cancel()
			u102, err := e.db.UserByExtension(ctx, e.tenant.ID, "102")
			if err != nil {
				t.Fatal(err)
			}
			if tc.callee != "" {
				u102.Settings = json.RawMessage(tc.callee)
				if err := e.db.UpdateUser(ctx, e.tenant.ID, &u102); err != nil {
					t.Fatal(err)
				}
			}
			u101, err := e.db.UserByExtension(ctx, e.tenant.ID, "101")
			if err != nil {
				t.Fatal(err)
			}
			e.loc.add(e.tenant.ID, "102", callee)

			sess, code := caller.dial(ctx, e.addr, "800")
			if code != 200 {
				t.Fatalf("status: got %d, want the app's 200", code)
			}
			inv := callee.invite()
			callee.server()
			ans, err := sdp.Parse(sess.InviteResponse.Body())
			if err != nil {
				t.Fatal(err)
			}
			offer, err := sdp.Parse(inv.Body())
			if err != nil {
				t.Fatal(err)
			}
			// The caller keeps sending to the App's port.
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
				r.CallerUser != u101.ID || r.CalleeUser != u102.ID || r.DualTrack || len(r.Files) != 1 {
				t.Fatalf("recording %+v not linked to cdr %+v", r, cdr)
			}
			if r.StartedAt.Before(cdr.AnsweredAt) {
				t.Errorf("recording started %v, before 102 answered at %v", r.StartedAt, cdr.AnsweredAt)
			}
			checkRecordedTones(t, filepath.Join(dir, r.Files[0].Path), r)
		})
	}
}
