package api

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// putRecording writes a recording's WAV files under the data folder and
// its row, as the B2BUA does.
func putRecording(e *env, data string, tenant pbx.TenantID, caller, callee string, callerUser, calleeUser pbx.ID, at time.Time, wavs ...[]byte) store.Recording {
	e.t.Helper()
	r := store.Recording{SessionID: e.db.NewID(), CDR: e.db.NewID(), Caller: caller, Callee: callee, CallerUser: callerUser, CalleeUser: calleeUser,
		StartedAt: at, EndedAt: at.Add(2 * time.Second), Duration: 1600 * time.Millisecond, Format: store.RecordingMixed}
	if len(wavs) == 2 {
		r.Format = store.RecordingDualTrack
	}
	for i, w := range wavs {
		rel := filepath.Join("recordings", tenant.String(), at.Format("2006-01-02"), r.SessionID.String()+[]string{"", "-b"}[i]+".wav")
		if err := os.MkdirAll(filepath.Join(data, filepath.Dir(rel)), 0o750); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, rel), w, 0o640); err != nil {
			e.t.Fatal(err)
		}
		r.Files = append(r.Files, store.RecordingFile{Path: rel, Size: int64(len(w))})
	}
	if err := e.db.CreateRecording(context.Background(), tenant, &r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

type recList struct {
	Count int             `json:"count"`
	Items []recordingItem `json:"items"`
}

type recDetail struct {
	Items []recordingFile `json:"items"`
}

func TestRecordings(t *testing.T) {
	eachDataEnv(t, func(t *testing.T, e *env, data string) {
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		wav, wavB := testWAV(1, 8000, 8000), testWAV(1, 8000, 4000)
		aliceToBob := putRecording(e, data, a.tenant, "101", "102", a.aliceID, a.bobID, t0, wav)
		fromTrunk := putRecording(e, data, a.tenant, "+15550100", "101", 0, a.aliceID, t0.Add(time.Hour), wav, wavB)
		bobAlone := putRecording(e, data, a.tenant, "102", "+15550199", a.bobID, 0, t0.Add(2*time.Hour), wav)
		other := putRecording(e, data, b.tenant, "201", "202", b.aliceID, b.bobID, t0, wav)

		// The administrator sees the tenant's recordings, newest first.
		var l recList
		if st := e.do("GET", "/api/recordings", a.boss, nil, &l); st != 200 || l.Count != 3 || len(l.Items) != 3 || l.Items[0].ID != bobAlone.ID.String() {
			t.Fatalf("admin's list: status %d, %+v", st, l)
		}
		if got := l.Items[2]; got.Caller != "101" || got.Callee != "102" || *got.StartedAt != "2026-03-01T09:00:00Z" || *got.EndedAt != "2026-03-01T09:00:02Z" {
			t.Errorf("item: %+v", got)
		}
		if e.do("GET", "/api/recordings?search=15550100", a.boss, nil, &l); l.Count != 1 || l.Items[0].ID != fromTrunk.ID.String() {
			t.Errorf("search: %+v", l)
		}
		q := "/api/recordings?filter=" + url.QueryEscape("started_at lt '2026-03-01T09:30:00Z'") + "&orderby=" + url.QueryEscape("started_at asc")
		if e.do("GET", q, a.boss, nil, &l); l.Count != 1 || l.Items[0].ID != aliceToBob.ID.String() {
			t.Errorf("filter: %+v", l)
		}
		e.wantError("GET", "/api/recordings?filter="+url.QueryEscape("path eq 'x'"), a.boss, nil, 400, "VALIDATE_FAILED", "")
		// A dual-track recording is two files.
		var d recDetail
		if st := e.do("GET", "/api/recordings/"+fromTrunk.ID.String(), a.boss, nil, &d); st != 200 || len(d.Items) != 2 {
			t.Fatalf("detail: status %d, %+v", st, d)
		}
		f1 := d.Items[1]
		if f1.FileName != filepath.Base(fromTrunk.Files[1].Path) || f1.FileSize != int64(len(wavB)) || f1.Duration != 2 || f1.Caller != "+15550100" ||
			f1.FileURL != "/api/recordings/"+fromTrunk.ID.String()+"/download?file="+f1.FileName {
			t.Errorf("second file: %+v", f1)
		}
		// Download with ranges, each file by its name.
		resp, body := e.raw("GET", d.Items[0].FileURL, a.boss, map[string]string{"Range": "bytes=0-11"}, nil)
		if resp.StatusCode != 206 || string(body) != string(wav[:12]) || resp.Header.Get("Content-Type") != "audio/wav" {
			t.Errorf("range download: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
		resp, body = e.raw("GET", f1.FileURL, a.boss, nil, nil)
		if resp.StatusCode != 200 || len(body) != len(wavB) {
			t.Errorf("second file download: %d, %d bytes, want %d", resp.StatusCode, len(body), len(wavB))
		}
		e.wantError("GET", "/api/recordings/"+fromTrunk.ID.String()+"/download?file=nosuch.wav", a.boss, nil, 404, "NOT_FOUND", "")
		// Another tenant's recordings do not exist here; users have no
		// view into the tenant's list.
		for _, path := range []string{"", "/download"} {
			e.wantError("GET", "/api/recordings/"+other.ID.String()+path, a.boss, nil, 404, "NOT_FOUND", "")
		}
		e.wantError("GET", "/api/recordings", a.alice, nil, 403, "FORBIDDEN", "")

		// Each user sees the recordings of their own calls.
		if st := e.do("GET", "/api/user/recordings", a.alice, nil, &l); st != 200 || l.Count != 2 ||
			l.Items[0].ID != fromTrunk.ID.String() || l.Items[1].ID != aliceToBob.ID.String() {
			t.Errorf("alice's list: status %d, %+v", st, l)
		}
		if e.do("GET", "/api/user/recordings", a.bob, nil, &l); l.Count != 2 || l.Items[0].ID != bobAlone.ID.String() {
			t.Errorf("bob's list: %+v", l)
		}
		if e.do("GET", "/api/user/recordings", b.alice, nil, &l); l.Count != 1 || l.Items[0].ID != other.ID.String() {
			t.Errorf("other tenant's alice: %+v", l)
		}
		if st := e.do("GET", "/api/user/recordings/"+aliceToBob.ID.String(), a.bob, nil, &d); st != 200 || len(d.Items) != 1 ||
			d.Items[0].FileURL != "/api/user/recordings/"+aliceToBob.ID.String()+"/download?file="+d.Items[0].FileName {
			t.Errorf("bob's view of his call with alice: status %d, %+v", st, d)
		}
		resp, body = e.raw("GET", "/api/user/recordings/"+aliceToBob.ID.String()+"/download", a.bob, map[string]string{"Range": "bytes=44-"}, nil)
		if resp.StatusCode != 206 || string(body) != string(wav[44:]) {
			t.Errorf("bob's range download: %d, %d bytes", resp.StatusCode, len(body))
		}
		for _, path := range []string{"", "/download"} {
			e.wantError("GET", "/api/user/recordings/"+bobAlone.ID.String()+path, a.alice, nil, 404, "NOT_FOUND", "")
			e.wantError("GET", "/api/user/recordings/"+aliceToBob.ID.String()+path, b.alice, nil, 404, "NOT_FOUND", "")
		}
		e.wantError("POST", "/api/user/recordings/"+bobAlone.ID.String()+"/destroy", a.alice, nil, 404, "NOT_FOUND", "")

		// Destroying removes the row and the files.
		if st := e.do("POST", "/api/user/recordings/"+fromTrunk.ID.String()+"/destroy", a.alice, nil, nil); st != 200 && st != 204 {
			t.Fatalf("alice's destroy: status %d", st)
		}
		for _, f := range fromTrunk.Files {
			if _, err := os.Stat(filepath.Join(data, f.Path)); !os.IsNotExist(err) {
				t.Errorf("file %s left after destroy: %v", f.Path, err)
			}
		}
		e.wantError("GET", "/api/recordings/"+fromTrunk.ID.String(), a.boss, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/recordings/"+other.ID.String()+"/destroy", a.boss, nil, 404, "NOT_FOUND", "")
		if st := e.do("POST", "/api/recordings/"+bobAlone.ID.String()+"/destroy", a.boss, nil, nil); st != 200 && st != 204 {
			t.Fatalf("admin's destroy: status %d", st)
		}
		if _, err := os.Stat(filepath.Join(data, bobAlone.Files[0].Path)); !os.IsNotExist(err) {
			t.Errorf("file left after the admin's destroy: %v", err)
		}
		if e.do("GET", "/api/recordings", a.boss, nil, &l); l.Count != 1 || l.Items[0].ID != aliceToBob.ID.String() {
			t.Errorf("after destroys: %+v", l)
		}
		if _, err := os.Stat(filepath.Join(data, other.Files[0].Path)); err != nil {
			t.Errorf("other tenant's file: %v", err)
		}
	})
}
