package main

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
	"github.com/gopbx/gopbx/internal/siptest"
)

// The virtual receptionist with real phones, beyond TestIVRTransferAndVoicemail:
// DISA behind a PIN, and action URLs (a real HTTP server of the test)
// steering the caller. The tests wait for what the caller hears: each key
// is pressed once the caller's phone has recorded the prompt that asks for
// it, found by cross-correlation with the prompt's WAV.

// ivrPIN is the DISA PIN of the tests' IVRs.
const ivrPIN = "2580"

// ivrEnv is a server with tenant acme.test, users 101 and 103, and an IVR
// at 800.
type ivrEnv struct {
	m  *Main
	tn testTenant
	id string // the IVR's ID
}

// newIVREnv boots the server and creates the IVR of body (name and
// extension_number 800 are added) through the API.
func newIVREnv(t *testing.T, body map[string]any) *ivrEnv {
	t.Helper()
	siptest.NeedBaresip(t)
	e := &ivrEnv{m: mustRunMain(t)}
	e.tn = provisionTenant(t, e.m, "acme.test", "101", "103")
	body["name"], body["extension_number"] = "reception", "800"
	var created struct {
		ID string `json:"id"`
	}
	if st := apiCall(t, e.m, "POST", "/api/ivrs", e.tn.Admin, body, &created); st != 201 || created.ID == "" {
		t.Fatalf("create IVR: status %d", st)
	}
	e.id = created.ID
	return e
}

// phone starts a registered baresip phone for ext sending tone.
func (e *ivrEnv) phone(ctx context.Context, t *testing.T, ext string, tone int) *siptest.Baresip {
	t.Helper()
	p := siptest.StartBaresip(t, siptest.BaresipConfig{Ext: ext, Password: sipPassword(e.tn.Domain, ext), Domain: e.tn.Domain,
		PBX: e.m.SIP.Addr("udp"), ToneHz: tone, Register: true})
	if err := p.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// callIVR has caller dial 800 and waits until it has heard the whole menu
// prompt ("thank you for calling", "please dial the number"); it returns
// where in the caller's recording the prompt ended.
func (e *ivrEnv) callIVR(ctx context.Context, t *testing.T, caller *siptest.Baresip) int {
	t.Helper()
	if err := caller.Dial(ctx, "sip:800@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	at := waitPrompt(ctx, t, caller, "ivr/thank-you", 0)
	return waitPrompt(ctx, t, caller, "ivr/dial-number", at)
}

// promptPCM returns the samples of the English system prompt name.
func promptPCM(t *testing.T, name string) []float64 {
	t.Helper()
	rc, err := prompts.New("").Open(pbx.SystemTenant, prompts.DefaultLang, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	pcm, rate, err := audio.ReadWAV(rc)
	if err != nil {
		t.Fatalf("prompt %s: %v", name, err)
	}
	if rate != 8000 {
		t.Fatalf("prompt %s: %d Hz, want 8000", name, rate)
	}
	out := make([]float64, len(pcm))
	for i, v := range pcm {
		out[i] = float64(v)
	}
	return out
}

// Finding a prompt in what a phone recorded: a coarse search over 10 ms
// energy envelopes finds where it may start, and its pieces of about
// 250 ms are then found one after the other, sample by sample, which keeps
// a poll of a growing recording cheap. A packet the phone's jitter buffer
// dropped shifts what follows it, so each piece is looked for from up to
// 60 ms before the end of the previous one, and one piece after the first
// (the one the drop split) may correlate less.
const (
	envFrame = 80   // samples of a coarse envelope frame
	piece    = 2000 // samples of a piece, at most
	pieceNCC = 0.9  // the correlation at which a piece is heard
	slipNCC  = 0.3  // the least correlation of the one piece a drop split
)

// heardAt is where a prompt was heard in a recording: from start to end,
// ncc the least normalised cross-correlation of its pieces.
type heardAt struct {
	start, end int
	ncc        float64
}

// findPrompt returns where in rec, at or after sample from, the prompt
// tmpl was heard whole; ok is false when it was not (yet).
func findPrompt(rec, tmpl []float64, from int) (best heardAt, ok bool) {
	from = max(from, 0)
	if len(tmpl) < 2*envFrame || len(rec)-from < len(tmpl) {
		return heardAt{}, false
	}
	env := func(x []float64) []float64 {
		out := make([]float64, len(x)/envFrame)
		for i := range out {
			out[i] = math.Sqrt(energy(x[i*envFrame:(i+1)*envFrame]) / envFrame)
		}
		return out
	}
	er, et := env(rec[from:]), env(tmpl)
	type cand struct {
		lag int
		c   float64
	}
	var cands []cand
	for lag := 0; lag+len(et) <= len(er); lag++ {
		cands = append(cands, cand{lag, corr(er[lag:lag+len(et)], et)})
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Compare(b.c, a.c) })
	var tried []int
	for _, c := range cands {
		if len(tried) == 4 {
			break
		}
		// The next candidate, not a neighbour of one tried.
		if slices.ContainsFunc(tried, func(l int) bool { return l-10 < c.lag && c.lag < l+10 }) {
			continue
		}
		tried = append(tried, c.lag)
		if h, found := followPieces(rec, tmpl, from, from+c.lag*envFrame); found && (!ok || h.ncc > best.ncc) {
			best, ok = h, true
		}
	}
	return best, ok
}

// followPieces finds tmpl's pieces in rec one after another, the first
// near at; silent pieces are skipped (they match anything).
func followPieces(rec, tmpl []float64, from, at int) (heardAt, bool) {
	n := max(1, len(tmpl)/piece)
	size := len(tmpl) / n
	quiet := energy(tmpl) / float64(len(tmpl)) / 400 // 26 dB below the prompt's mean
	h := heardAt{start: -1, ncc: 1}
	expect, slipped := at, false
	for i := range n {
		seg := tmpl[i*size : (i+1)*size]
		if i == n-1 {
			seg = tmpl[i*size:]
		}
		if energy(seg)/float64(len(seg)) < quiet {
			expect += len(seg)
			continue
		}
		lo, hi := expect-480, expect+envFrame
		if h.start < 0 {
			lo, hi = expect-2*envFrame, expect+2*envFrame
		}
		if hi+len(seg) > len(rec) {
			return heardAt{}, false // not all recorded yet
		}
		bestK, bestNCC := -1, -1.0
		for k := max(lo, from); k <= hi; k++ {
			if v := corr(rec[k:k+len(seg)], seg); v > bestNCC {
				bestK, bestNCC = k, v
			}
		}
		switch {
		case bestK < 0:
			return heardAt{}, false
		case bestNCC < slipNCC, bestNCC < pieceNCC && (slipped || h.start < 0):
			return heardAt{}, false
		case bestNCC < pieceNCC:
			slipped = true
		}
		if h.start < 0 {
			h.start = bestK - i*size
		}
		h.ncc = min(h.ncc, bestNCC)
		expect = bestK + len(seg)
	}
	if h.start < 0 {
		return heardAt{}, false // a silent prompt
	}
	h.end = expect
	return h, expect <= len(rec)
}

func energy(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

// corr is the normalised cross-correlation of two equally long signals.
func corr(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range b {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// lastRecording returns what p heard so far in its current (or last)
// call; nil before the phone has recorded anything.
func lastRecording(p *siptest.Baresip) ([]float64, int) {
	files := p.Recordings()
	if len(files) == 0 {
		return nil, 0
	}
	samples, rate, err := siptest.ReadWAV(files[len(files)-1])
	if err != nil {
		return nil, 0
	}
	return samples, rate
}

// waitPrompt waits until p's recording holds the system prompt name whole,
// at or after sample from, and returns where it ends. It fails the test
// when ctx ends first.
func waitPrompt(ctx context.Context, t *testing.T, p *siptest.Baresip, name string, from int) int {
	t.Helper()
	tmpl := promptPCM(t, name)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		rec, rate := lastRecording(p)
		if rate != 0 && rate != 8000 {
			t.Fatalf("recording at %d Hz, want 8000", rate)
		}
		if h, ok := findPrompt(rec, tmpl, from); ok {
			t.Logf("heard %q at %.2f s (correlation %.3f)", name, float64(h.start)/8000, h.ncc)
			return h.end
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			var evs []string
			for _, ev := range p.Events() {
				evs = append(evs, ev.Type)
			}
			t.Fatalf("the caller did not hear %q after %.2f s of its recording (recording %.2f s, events %v): %v",
				name, float64(from)/8000, float64(len(rec))/8000, evs, ctx.Err())
		}
	}
}

// TestIVRPromptFinder checks the prompt finder the IVR tests wait with, on a
// made-up recording: silence, "thank you for calling" with one 20 ms
// frame dropped in its middle, a 440 Hz tone, then "please dial the
// number" whole.
func TestIVRPromptFinder(t *testing.T) {
	thanks, dial := promptPCM(t, "ivr/thank-you"), promptPCM(t, "ivr/dial-number")
	var rec []float64
	rec = append(rec, make([]float64, 4000)...)
	rec = append(rec, thanks[:len(thanks)/2]...)
	rec = append(rec, thanks[len(thanks)/2+160:]...)
	for i := range 8000 {
		rec = append(rec, 8000*math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	dialAt := len(rec)
	rec = append(rec, dial...)
	dialEnd := len(rec)
	rec = append(rec, make([]float64, 800)...)

	h, ok := findPrompt(rec, thanks, 0)
	if !ok || h.start < 3990 || h.start > 4010 || h.end < 4000+len(thanks)-170 || h.end > 4000+len(thanks)-150 {
		t.Errorf("thank-you with a dropped frame: %+v %v, want from 4000 to %d", h, ok, 4000+len(thanks)-160)
	}
	if h, ok := findPrompt(rec, dial, 0); !ok || h.start != dialAt || h.end != dialEnd || h.ncc < 0.999 {
		t.Errorf("dial-number: %+v %v, want from %d to %d", h, ok, dialAt, dialEnd)
	}
	if h, ok := findPrompt(rec, dial, dialAt+400); ok {
		t.Errorf("dial-number from 50 ms after its start: %+v", h)
	}
	// A recording still growing: the end of the prompt is not in it yet.
	if h, ok := findPrompt(rec[:dialEnd-400], dial, 0); ok {
		t.Errorf("dial-number cut short: %+v", h)
	}
	if h, ok := findPrompt(rec, promptPCM(t, "ivr/enter-pin"), 0); ok {
		t.Errorf("enter-pin, not in the recording: %+v", h)
	}
}

// tones returns the power at want and at other in rec[from:to].
func tones(rec []float64, rate, from, to int, want, other float64) (float64, float64) {
	seg := rec[max(from, 0):min(to, len(rec))]
	return siptest.Goertzel(seg, want, rate), siptest.Goertzel(seg, other, rate)
}

// heardTone reports whether a phone hearing power pw at the other phone's
// tone and po at its own heard the other phone.
func heardTone(pw, po float64) bool { return pw >= toneRatio*po && pw >= 1000 }

// waitTone waits until the last second of p's recording, after sample
// from, holds the tone want (and not other, the phone's own).
func waitTone(ctx context.Context, t *testing.T, p *siptest.Baresip, name string, from int, want, other float64) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		rec, rate := lastRecording(p)
		if rate > 0 && len(rec)-from >= rate {
			if pw, po := tones(rec, rate, len(rec)-rate, len(rec), want, other); heardTone(pw, po) {
				return
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s did not hear %.0f Hz: %v", name, want, ctx.Err())
		}
	}
}

// talk checks that caller and callee, put through by the IVR, hear each
// other: it waits for each phone to hear the other's tone, hangs up, and
// checks the whole of what each heard once connected (the caller's
// recording from sample from, after the IVR's prompts).
func talk(ctx context.Context, t *testing.T, caller, callee *siptest.Baresip, from int) {
	t.Helper()
	if _, err := callee.WaitEstablished(ctx); err != nil {
		t.Fatal(err)
	}
	waitTone(ctx, t, caller, "103", from, toneCallee, toneCaller)
	waitTone(ctx, t, callee, "101", 0, toneCaller, toneCallee)
	if err := caller.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*siptest.Baresip{caller, callee} {
		if _, err := p.WaitClosed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Stopping the phones finishes their recordings.
	caller.Stop()
	callee.Stop()
	for _, c := range []struct {
		p           *siptest.Baresip
		name        string
		from        int
		want, other float64
	}{{caller, "103", from, toneCallee, toneCaller}, {callee, "101", 0, toneCaller, toneCallee}} {
		rec, rate := lastRecording(c.p)
		if len(rec)-c.from < rate || rate == 0 {
			t.Errorf("%s heard only %d samples once put through", c.name, len(rec)-c.from)
			continue
		}
		pw, po := tones(rec, rate, c.from, len(rec), c.want, c.other)
		t.Logf("%s heard %.0f Hz at %.3g and %.0f Hz at %.3g", c.name, c.want, pw, c.other, po)
		if !heardTone(pw, po) {
			t.Errorf("%s did not hear the other phone's %.0f Hz tone: power %.3g, at %.0f Hz %.3g", c.name, c.want, pw, c.other, po)
		}
	}
}

// disaIVR is an IVR whose key 9 is DISA behind ivrPIN.
func disaIVR() map[string]any {
	return map[string]any{"enable_pin": true, "pin": ivrPIN, "custom_forward_rules": []map[string]any{
		{"user_input": "9", "office_hours_forward_rule": map[string]any{"action": "DISA"}},
	}}
}

// TestIVRDISAToExtension has baresip 103 call the IVR at 800, hear its
// menu, press 9 (DISA), enter the PIN when asked, and dial 101 when asked:
// baresip 101 rings, answers, and each phone hears the other's tone.
func TestIVRDISAToExtension(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newIVREnv(t, disaIVR())
	callee, caller := e.phone(ctx, t, "101", toneCallee), e.phone(ctx, t, "103", toneCaller)

	at := e.callIVR(ctx, t, caller)
	sendKeys(ctx, t, caller, "9")
	at = waitPrompt(ctx, t, caller, "ivr/enter-pin", at)
	sendKeys(ctx, t, caller, ivrPIN+"#")
	at = waitPrompt(ctx, t, caller, "ivr/dial-number", at)
	sendKeys(ctx, t, caller, "101#")
	talk(ctx, t, caller, callee, at)
}

// TestIVRDISAWrongPIN has baresip 103 reach DISA at the IVR at 800 and
// key a wrong PIN, then the extension number 101 twice as if it were the
// PIN: after the third wrong PIN the IVR says goodbye and hangs up, and
// 101 never rings.
func TestIVRDISAWrongPIN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newIVREnv(t, disaIVR())
	callee, caller := e.phone(ctx, t, "101", toneCallee), e.phone(ctx, t, "103", toneCaller)

	at := e.callIVR(ctx, t, caller)
	sendKeys(ctx, t, caller, "9")
	for i, pin := range []string{"1111", "101", "101"} {
		at = waitPrompt(ctx, t, caller, "ivr/enter-pin", at)
		sendKeys(ctx, t, caller, pin+"#")
		if i < 2 {
			at = waitPrompt(ctx, t, caller, "invalid-option", at)
		}
	}
	waitPrompt(ctx, t, caller, "goodbye", at)
	// The IVR hangs up on the caller.
	if ev, err := caller.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("caller's call closed: %s", ev.Param)
	}
	for _, ev := range callee.Events() {
		if ev.Type == siptest.EventCallIncoming || ev.Type == siptest.EventCallEstablished {
			t.Errorf("101 got %s from %s after wrong PINs", ev.Type, ev.PeerURI)
		}
	}
}

// actionRequest is what the test's action URL server received.
type actionRequest struct {
	Method, Path   string
	Query          url.Values
	User, Password string
	BasicAuth      bool
}

// actionServer is an action URL endpoint on 127.0.0.1 (a real net/http
// server): it records each request and answers it. A stalling server
// answers only when the test ends, or not at all when the client gives up
// first.
type actionServer struct {
	*httptest.Server
	reqs chan actionRequest
	// dropped gets a value for each stalled request its client gave up.
	dropped chan struct{}
}

// startActionServer starts an actionServer answering answer, stalling
// when stall is set.
func startActionServer(t *testing.T, answer string, stall bool) *actionServer {
	t.Helper()
	s := &actionServer{reqs: make(chan actionRequest, 8), dropped: make(chan struct{}, 8)}
	done := make(chan struct{})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, pw, ok := r.BasicAuth()
		select {
		case s.reqs <- actionRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), User: u, Password: pw, BasicAuth: ok}:
		default:
		}
		if stall {
			select {
			case <-r.Context().Done():
				select {
				case s.dropped <- struct{}{}:
				default:
				}
				return
			case <-done:
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, answer)
	}))
	// Close the stalled handlers first: Server.Close waits for them.
	t.Cleanup(s.Server.Close)
	t.Cleanup(func() { close(done) })
	return s
}

// addActionURL configures an action URL of the IVR through the API: on the
// keys 5, a GET with basic auth to srv, bounded by request_timeout.
func (e *ivrEnv) addActionURL(t *testing.T, srv *actionServer, requestTimeout int) {
	t.Helper()
	var created struct {
		ID string `json:"id"`
	}
	if st := apiCall(t, e.m, "POST", "/api/ivrs/"+e.id+"/action_urls", e.tn.Admin, map[string]any{"name": "crm", "enabled": true,
		"type": "DTMF", "dtmf_mask": "5", "method": "GET", "auth": "BASIC", "username": "pbx", "password": "Crm#Secret1",
		"connection_timeout": 1, "request_timeout": requestTimeout, "url": srv.URL + "/ivr?customer=acme"}, &created); st != 201 {
		t.Fatalf("create action URL: status %d", st)
	}
	// The API never shows the password back.
	var got map[string]any
	if st := apiCall(t, e.m, "GET", "/api/ivrs/"+e.id+"/action_urls/"+created.ID, e.tn.Admin, nil, &got); st != 200 ||
		got["url"] != srv.URL+"/ivr?customer=acme" || got["auth"] != "BASIC" || got["username"] != "pbx" {
		t.Fatalf("get action URL: status %d, %v", st, got)
	}
	if _, ok := got["password"]; ok {
		t.Errorf("the API shows the action URL's password: %v", got)
	}
}

// nextRequest returns the next request the action URL server received.
func nextRequest(ctx context.Context, t *testing.T, srv *actionServer) actionRequest {
	t.Helper()
	select {
	case r := <-srv.reqs:
		return r
	case <-ctx.Done():
		t.Fatalf("the action URL was not asked: %v", ctx.Err())
		return actionRequest{}
	}
}

// checkRequest checks that an action URL request carried the call's
// parameters and basic auth.
func checkRequest(t *testing.T, r actionRequest) {
	t.Helper()
	if r.Method != "GET" || r.Path != "/ivr" || !r.BasicAuth || r.User != "pbx" || r.Password != "Crm#Secret1" {
		t.Errorf("request: %s %s, basic auth %v %q %q", r.Method, r.Path, r.BasicAuth, r.User, r.Password)
	}
	for k, want := range map[string]string{"from": "103", "to": "800", "input": "5", "customer": "acme", "account_name": "reception"} {
		if got := r.Query.Get(k); got != want {
			t.Errorf("request %s = %q, want %q (query %v)", k, got, want, r.Query)
		}
	}
	if r.Query.Get("session_id") == "" {
		t.Errorf("request without session_id: %v", r.Query)
	}
}

// TestIVRActionURLCall has an action URL steer a call: baresip 103 calls
// the IVR at 800, hears its menu and presses 5; the IVR asks the test's
// HTTP server (configured through the API, with basic auth), which answers
// {"action":"call","destination":"101"}. Key 5 has no rule of its own, so
// only the answer can put 103 through to baresip 101; each phone hears the
// other's tone. The request carried the caller, the IVR, the keys and the
// session ID of the call, which the API shows while it lasts.
func TestIVRActionURLCall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := startActionServer(t, `{"status_code":200,"action":"call","destination":"101"}`, false)
	e := newIVREnv(t, map[string]any{"pin": ivrPIN})
	e.addActionURL(t, srv, 3)
	callee, caller := e.phone(ctx, t, "101", toneCallee), e.phone(ctx, t, "103", toneCaller)

	at := e.callIVR(ctx, t, caller)
	sendKeys(ctx, t, caller, "5")
	r := nextRequest(ctx, t, srv)
	checkRequest(t, r)
	at = waitPrompt(ctx, t, caller, "ivr/transfer-hold", at)
	var s struct {
		ID    string `json:"id"`
		Calls []struct {
			Caller string `json:"caller"`
		} `json:"calls"`
	}
	if st := apiCall(t, e.m, "GET", "/api/sessions/"+url.PathEscape(r.Query.Get("session_id")), e.tn.Admin, nil, &s); st != 200 ||
		s.ID != r.Query.Get("session_id") || len(s.Calls) == 0 || s.Calls[0].Caller != "103" {
		t.Errorf("session %q of the request: status %d, %+v", r.Query.Get("session_id"), st, s)
	}
	talk(ctx, t, caller, callee, at)
	select {
	case r := <-srv.reqs:
		t.Errorf("a second request: %+v", r)
	default:
	}
}

// TestIVRActionURLSlow has the action URL of key 5 answer only after its
// timeout (1 s connection + 1 s request): the IVR gives up on it and key
// 5's own rule puts baresip 103 through to baresip 101.
func TestIVRActionURLSlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := startActionServer(t, `{"action":"hangup"}`, true)
	e := newIVREnv(t, map[string]any{"pin": ivrPIN, "custom_forward_rules": []map[string]any{
		{"user_input": "5", "office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_NUMBER", "number": "101"}},
	}})
	e.addActionURL(t, srv, 1)
	callee, caller := e.phone(ctx, t, "101", toneCallee), e.phone(ctx, t, "103", toneCaller)

	at := e.callIVR(ctx, t, caller)
	sendKeys(ctx, t, caller, "5")
	checkRequest(t, nextRequest(ctx, t, srv))
	// The IVR gives up on the request (the server sees its connection
	// end), then says "please hold" and puts the caller through.
	select {
	case <-srv.dropped:
	case <-ctx.Done():
		t.Fatalf("the IVR did not give up the slow action URL: %v", ctx.Err())
	}
	at = waitPrompt(ctx, t, caller, "ivr/transfer-hold", at)
	talk(ctx, t, caller, callee, at)
}
