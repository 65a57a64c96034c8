package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
)

// TestBaresipCallRecorded records a call between real phones: 101 has
// enable_audio_recording (set through the API) and calls 102 (see
// checkRecordedCall).
func TestBaresipCallRecorded(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	if st := apiCall(t, m, "POST", "/api/users/"+tn.Users["101"], tn.Admin, map[string]any{"enable_audio_recording": true}, nil); st/100 != 2 {
		t.Fatalf("enable recording for 101: status %d", st)
	}
	a, b := startPhones(ctx, t, m, tn, "udp")
	dial(ctx, t, "udp", a, b, "sip:102@acme.test")
	checkRecordedCall(ctx, t, m, tn, a, b)
}

// TestBaresipIVRCallRecorded records a call the virtual receptionist puts
// through: 101 calls the IVR at 800 and presses 1, which rings 102, whose
// user has enable_audio_recording. The recording is 102's as well as
// 101's, and holds only the call from 102's answer on (see
// checkRecordedCall).
func TestBaresipIVRCallRecorded(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")
	if st := apiCall(t, m, "POST", "/api/users/"+tn.Users["102"], tn.Admin, map[string]any{"enable_audio_recording": true}, nil); st/100 != 2 {
		t.Fatalf("enable recording for 102: status %d", st)
	}
	if st := apiCall(t, m, "POST", "/api/ivrs", tn.Admin, map[string]any{"name": "reception", "extension_number": "800", "pin": "1234",
		"custom_forward_rules": []map[string]any{
			{"user_input": "1", "office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_NUMBER", "number": "102"}},
		}}, nil); st != 201 {
		t.Fatalf("create IVR: status %d", st)
	}
	a, b := startPhones(ctx, t, m, tn, "udp")
	if err := a.Dial(ctx, "sip:800@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // into the menu prompt
	sendKeys(ctx, t, a, "1")
	// The IVR waits for more keys, says "please hold" and rings 102,
	// which answers by itself.
	if _, err := b.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	checkRecordedCall(ctx, t, m, tn, a, b)
}

// checkRecordedCall goes on with a call from a (101) to b (102), just
// answered, that the PBX records. First only 101 talks (102 is muted with
// baresip's mute command), then only 102 (101 muted), then 101 hangs up.
// The recording is listed at /api/recordings, its row is linked to the
// call's CDR, both users see it at /api/user/recordings, and its WAV,
// downloaded whole and by HTTP Range requests, holds 101's tone in the
// first part and 102's in the second.
func checkRecordedCall(ctx context.Context, t *testing.T, m *Main, tn testTenant, a, b *siptest.Baresip) {
	t.Helper()
	mute := func(p *siptest.Baresip) {
		t.Helper()
		if _, err := p.Command(ctx, "mute", ""); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now() // about where the recording starts
	mute(b)
	const phase = 3 * time.Second
	time.Sleep(phase)
	switched := time.Since(start)
	mute(b) // unmuted
	mute(a)
	time.Sleep(phase)
	ended := time.Since(start)
	if err := a.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*siptest.Baresip{a, b} {
		if _, err := p.WaitClosed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cdrs := waitCDRs(t, m, tn.Admin, "/api/cdrs", 1)

	var list struct {
		Count int `json:"count"`
		Items []struct {
			ID     string `json:"id"`
			Caller string `json:"caller"`
			Callee string `json:"callee"`
		} `json:"items"`
	}
	if st := apiCall(t, m, "GET", "/api/recordings", tn.Admin, nil, &list); st != 200 || list.Count != 1 || len(list.Items) != 1 ||
		list.Items[0].Caller != "101" || list.Items[0].Callee != "102" {
		t.Fatalf("GET /api/recordings: status %d, %+v, want one recording 101 -> 102", st, list)
	}
	tenant, _ := pbx.ParseTenantID(tn.ID)
	recID, _ := pbx.ParseID(list.Items[0].ID)
	row, err := m.DB.Recording(ctx, tenant, recID)
	if err != nil {
		t.Fatal(err)
	}
	if row.CDR.String() != cdrs.Items[0].ID {
		t.Errorf("recording's cdr %s, want the call's %s", row.CDR, cdrs.Items[0].ID)
	}
	// 101 sees it among its own; 102 too, as the callee.
	for _, u := range []string{"u101", "u102"} {
		var mine struct {
			Count int `json:"count"`
		}
		if st := apiCall(t, m, "GET", "/api/user/recordings", login(t, m, u, webPassword, tn.Domain), nil, &mine); st != 200 || mine.Count != 1 {
			t.Errorf("%s: GET /api/user/recordings: status %d, %d recordings, want 1", u, st, mine.Count)
		}
	}

	var detail struct {
		Items []struct {
			FileName string `json:"file_name"`
			FileSize int64  `json:"file_size"`
			FileURL  string `json:"file_url"`
		} `json:"items"`
	}
	if st := apiCall(t, m, "GET", "/api/recordings/"+list.Items[0].ID, tn.Admin, nil, &detail); st != 200 || len(detail.Items) != 1 {
		t.Fatalf("GET /api/recordings/%s: status %d, %+v", list.Items[0].ID, st, detail)
	}
	f := detail.Items[0]
	wav, _ := download(t, m, tn.Admin, f.FileURL, "", 200)
	if int64(len(wav)) != f.FileSize {
		t.Errorf("downloaded %d bytes, file_size %d", len(wav), f.FileSize)
	}
	// Ranges: the header, then the rest, make the file again.
	head, cr := download(t, m, tn.Admin, f.FileURL, "bytes=0-43", 206)
	if want := fmt.Sprintf("bytes 0-43/%d", len(wav)); cr != want {
		t.Errorf("Content-Range %q, want %q", cr, want)
	}
	rest, cr := download(t, m, tn.Admin, f.FileURL, "bytes=44-", 206)
	if want := fmt.Sprintf("bytes 44-%d/%d", len(wav)-1, len(wav)); cr != want {
		t.Errorf("Content-Range %q, want %q", cr, want)
	}
	if !bytes.Equal(append(head, rest...), wav) {
		t.Errorf("ranges 0-43 and 44- (%d and %d bytes) do not make the %d-byte file", len(head), len(rest), len(wav))
	}

	pcm, rate, err := audio.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v)
	}
	length := time.Duration(len(x)) * time.Second / time.Duration(rate)
	if length < ended-time.Second || length > ended+2*time.Second {
		t.Errorf("recording of %v, want about the call's %v", length, ended)
	}
	// The recording starts when the PBX sees 102 answer, a little before
	// both phones have the call, and ends with the hang-up: the test's
	// times are shifted by the difference, so that they line up with
	// the end.
	shift := max(length-ended, 0)
	margin := 750 * time.Millisecond
	for _, w := range []struct {
		name        string
		from, to    time.Duration
		want, other float64
	}{
		{"101 talking", margin, switched - margin, toneCaller, toneCallee},
		{"102 talking", switched + margin, ended - margin, toneCallee, toneCaller},
	} {
		e := tonePower(x, rate, w.from+shift, w.to+shift, w.want, w.other)
		t.Logf("%s (%v to %v, shifted %v): %.0f Hz at %.3g, %.0f Hz at %.3g", w.name, w.from, w.to, shift, w.want, e[0], w.other, e[1])
		if e[0] < toneRatio*e[1] || e[0] < 1000 {
			t.Errorf("%s: %.0f Hz power %.3g, want it far above %.0f Hz's %.3g", w.name, w.want, e[0], w.other, e[1])
		}
	}
}

// download GETs path with token, and with a Range header unless rng is
// empty; it checks the status and the content type and returns the body
// and the Content-Range.
func download(t *testing.T, m *Main, token, path, rng string, status int) ([]byte, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+m.APIAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "audio/wav") {
		t.Fatalf("GET %s (Range %q): status %d, %s, want %d audio/wav", path, rng, resp.StatusCode, resp.Header.Get("Content-Type"), status)
	}
	return b, resp.Header.Get("Content-Range")
}

// tonePower returns the power of each frequency in x (at rate) from one
// offset to another; the window is cut to x's end.
func tonePower(x []float64, rate int, from, to time.Duration, freqs ...float64) []float64 {
	i, j := int(from.Seconds()*float64(rate)), int(to.Seconds()*float64(rate))
	j = min(j, len(x))
	i = min(i, j)
	out := make([]float64, len(freqs))
	for k, f := range freqs {
		out[k] = siptest.Goertzel(x[i:j], f, rate)
	}
	return out
}
