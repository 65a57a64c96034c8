package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/siptest"
)

// toneMusic is the frequency of the music on hold the hold test uploads:
// neither phone sends it.
const toneMusic = 700 // Hz

// TestBaresipHoldPlaysMusic has baresip 101 call 102 and both talk
// (tones), then 101 holds with baresip's own hold command: 102 hears the
// tenant's music on hold, uploaded through /api/blobs/uploads and
// /api/moh_server/musics, and not 101's tone. Once 101 resumes, 102 hears
// 101 again and 101 hears 102.
//
// How the test listens: baresip 1.0.0 loses its sndfile decode filter
// when a re-INVITE changes the stream's direction (stop_rx flushes the rx
// filters, and aufilt_setup rebuilds none while the tx ones exist), so the
// "-dec" WAV ends at the hold. The encode filter stays, so from the hold on
// a phone listens by looping its player into its source through an
// aubridge device (listenBack): its "-enc" WAV then holds what it heard.
// Each phase is cut out of that WAV at the sizes it had when the phase
// began and ended (encMark), not by the clock.
func TestBaresipHoldPlaysMusic(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	m := mustRunMain(t)
	tn := provisionTenant(t, m, "acme.test", "101", "102")

	music := filepath.Join(t.TempDir(), "moh.wav")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", music,
		"synth", "30", "sine", strconv.Itoa(toneMusic)).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	wav, err := os.ReadFile(music)
	if err != nil {
		t.Fatal(err)
	}
	file := uploadFile(t, m, tn.Admin, "moh.wav", wav)
	if st := apiCall(t, m, "POST", "/api/moh_server/musics", tn.Admin, map[string]string{"file_id": file}, nil); st != 201 {
		t.Fatalf("POST /api/moh_server/musics: status %d", st)
	}

	a, b := startPhones(ctx, t, m, tn, "udp")
	dial(ctx, t, "udp", a, b, "sip:102@acme.test")
	const phase = 2500 * time.Millisecond
	time.Sleep(phase)

	// Hold: once 102 has taken the re-INVITE (recvonly), it listens.
	if _, err := a.Command(ctx, "hold", ""); err != nil {
		t.Fatal(err)
	}
	waitDir(ctx, t, b, "recvonly")
	listenBack(ctx, t, b, "held")
	heldFrom := encMark(t, b)
	time.Sleep(phase)
	heldTo := encMark(t, b)

	// Resume: 102 listens again on a fresh device (its player started
	// anew), then goes back to its tone while 101 listens.
	if _, err := a.Command(ctx, "resume", ""); err != nil {
		t.Fatal(err)
	}
	waitDir(ctx, t, b, "sendrecv")
	waitDir(ctx, t, a, "sendrecv")
	listenBack(ctx, t, b, "resumed")
	resumedFrom := encMark(t, b)
	time.Sleep(phase)
	resumedTo := encMark(t, b)
	if _, err := b.Command(ctx, "ausrc", "aufile,"+filepath.Join(b.Dir(), "tone.wav")); err != nil {
		t.Fatal(err)
	}
	listenBack(ctx, t, a, "resumed")
	answerFrom := encMark(t, a)
	time.Sleep(phase)
	answerTo := encMark(t, a)

	if err := a.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*siptest.Baresip{a, b} {
		if _, err := p.WaitClosed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// sndfile completes the recordings when the phones stop.
	a.Stop()
	b.Stop()

	// Before the hold: each heard the other (the "-dec" WAVs).
	checkTones(t, a, b)
	for _, c := range []struct {
		name        string
		p           *siptest.Baresip
		from, to    int64
		want, other float64
	}{
		{"102 while held", b, heldFrom, heldTo, toneMusic, toneCaller},
		{"102 after the resume", b, resumedFrom, resumedTo, toneCaller, toneMusic},
		{"101 after the resume", a, answerFrom, answerTo, toneCallee, toneMusic},
	} {
		e := heardBetween(t, c.p, c.from, c.to, c.want, c.other)
		t.Logf("%s: %.0f Hz at %.3g, %.0f Hz at %.3g", c.name, c.want, e[0], c.other, e[1])
		if e[0] < toneRatio*e[1] || e[0] < 1000 {
			t.Errorf("%s: %.0f Hz power %.3g, want it far above %.0f Hz's %.3g", c.name, c.want, e[0], c.other, e[1])
		}
	}
}

// waitDir waits until p's audio stream has direction dir (its SDP
// negotiation, as baresip's audio_debug shows it).
func waitDir(ctx context.Context, t *testing.T, p *siptest.Baresip, dir string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := p.Command(ctx, "audio_debug", "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "audio dir="+dir+" ") {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("audio stream never %s: %v\n%s", dir, ctx.Err(), out)
		}
	}
}

// listenBack loops what p plays into what it sends, through the aubridge
// device dev (new for each use: aubridge runs a device only while it has
// both a player and a source, and forgets both when either goes). p's
// "-enc" WAV then records what p hears.
func listenBack(ctx context.Context, t *testing.T, p *siptest.Baresip, dev string) {
	t.Helper()
	for _, cmd := range []string{"auplay", "ausrc"} {
		if _, err := p.Command(ctx, cmd, "aubridge,"+dev); err != nil {
			t.Fatal(err)
		}
	}
}

// encPath is the "-enc" WAV sndfile writes of what p sends in its call.
func encPath(t *testing.T, p *siptest.Baresip) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(p.Dir(), "snd", "*-enc.wav"))
	if len(files) != 1 {
		t.Fatalf("encode recordings of %s: %v, want one", p.Dir(), files)
	}
	return files[0]
}

// encMark returns the size p's "-enc" WAV has now: sndfile appends each
// frame as it goes.
func encMark(t *testing.T, p *siptest.Baresip) int64 {
	t.Helper()
	st, err := os.Stat(encPath(t, p))
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// heardBetween returns the power of each frequency in p's complete "-enc"
// WAV between two of its sizes (encMark), less a fifth at either end.
func heardBetween(t *testing.T, p *siptest.Baresip, from, to int64, freqs ...float64) []float64 {
	t.Helper()
	path := encPath(t, p)
	x, rate, err := siptest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	header := st.Size() - 2*int64(len(x)) // 16-bit mono
	i, j := int((from-header)/2), int((to-header)/2)
	i, j = max(i, 0), min(j, len(x))
	cut := (j - i) / 5
	i, j = i+cut, j-cut
	if j-i < rate/2 {
		t.Fatalf("%s: only samples %d to %d of %d", path, i, j, len(x))
	}
	out := make([]float64, len(freqs))
	for k, f := range freqs {
		out[k] = siptest.Goertzel(x[i:j], f, rate)
	}
	return out
}

// uploadFile uploads b as a file of the token's tenant named name, in one
// request, and returns its ID.
func uploadFile(t *testing.T, m *Main, token, name string, b []byte) string {
	t.Helper()
	do := func(path string, hdr map[string]string, body []byte) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", "http://"+m.APIAddr()+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := do("/api/blobs/uploads?filename="+url.QueryEscape(name), nil, nil)
	resp.Body.Close()
	id, tok := resp.Header.Get("PortSIP-Upload-ID"), resp.Header.Get("PortSIP-Upload-Token")
	if resp.StatusCode != 202 || id == "" || tok == "" {
		t.Fatalf("start upload of %s: status %d", name, resp.StatusCode)
	}
	resp = do("/api/blobs/uploads/"+id+"/complete", map[string]string{"PortSIP-Upload-Token": tok,
		"Content-Type": "application/octet-stream"}, b)
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 201 || out.ID == "" {
		t.Fatalf("complete upload of %s: status %d", name, resp.StatusCode)
	}
	return out.ID
}
