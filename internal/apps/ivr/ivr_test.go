package ivr_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/icholy/digest"

	"github.com/gopbx/gopbx/internal/apps/ivr"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// fakeMedia is a caller whose keys the test pushes; writes never block, so
// a 30 s timeout passes as 1,500 frames of silence at once.
type fakeMedia struct {
	digits chan rune
	frames int
	// sincePrompt counts the frames written since a prompt last opened.
	sincePrompt int
}

func newFakeMedia() *fakeMedia { return &fakeMedia{digits: make(chan rune, 128)} }

func (m *fakeMedia) SampleRate() int                           { return 8000 }
func (m *fakeMedia) FrameSamples() int                         { return 160 }
func (m *fakeMedia) Read(ctx context.Context) ([]int16, error) { return make([]int16, 160), ctx.Err() }
func (m *fakeMedia) Release([]int16)                           {}
func (m *fakeMedia) Flush()                                    {}
func (m *fakeMedia) Digits() <-chan rune                       { return m.digits }
func (m *fakeMedia) Write(ctx context.Context, frame []int16) error {
	m.frames++
	m.sincePrompt++
	return ctx.Err()
}

func (m *fakeMedia) press(keys string) {
	for _, k := range keys {
		m.digits <- k
	}
}

// fakePrompts records the prompts played and presses keys when a prompt
// starts: keys[name][i] on its i-th playing.
type fakePrompts struct {
	mu     sync.Mutex
	media  *fakeMedia
	keys   map[string][]string
	count  map[string]int
	played []string
}

func (p *fakePrompts) Open(tenant pbx.TenantID, lang, name string) (io.ReadCloser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.played = append(p.played, name)
	p.media.sincePrompt = 0
	if seq := p.keys[name]; p.count[name] < len(seq) {
		p.media.press(seq[p.count[name]])
	}
	p.count[name]++
	return io.NopCloser(bytes.NewReader(wav(800))), nil
}

// wav is a 16-bit mono 8 kHz WAV of n samples of silence.
func wav(n int) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(2*n))
	b.Write(make([]byte, 2*n))
	return b.Bytes()
}

// fakeForwarder records where the menu sent the caller.
type fakeForwarder struct{ got []string }

func (f *fakeForwarder) Transfer(number string) { f.got = append(f.got, "transfer "+number) }
func (f *fakeForwarder) Voicemail(box string)   { f.got = append(f.got, "voicemail "+box) }

// fixture is a tenant with users 101 and 102 and one IVR at 800.
type fixture struct {
	t      *testing.T
	db     *store.DB
	tenant pbx.Tenant
	ivr    store.IVR
	now    time.Time
	data   string
	client *http.Client
	// media is the caller of the last run.
	media *fakeMedia
}

func newFixture(t *testing.T, settings map[string]any) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	tn := pbx.Tenant{Name: "a.test", Domain: "a.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 100}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"101", "102"} {
		u := pbx.User{Name: "u" + n, Enabled: true, DisplayName: "U" + n, Role: "StandardUser", ExtensionNumber: n, ExtensionPassword: "x"}
		if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.Marshal(settings)
	v := store.IVR{Name: "main", ExtensionNumber: "800", Settings: raw}
	if err := db.CreateIVR(ctx, tn.ID, &v); err != nil {
		t.Fatal(err)
	}
	// Monday 2026-11-23 10:00 UTC.
	return &fixture{t: t, db: db, tenant: tn, ivr: v, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), data: t.TempDir(), client: &http.Client{}}
}

// run serves one call to the IVR, pressing keys as the prompts start, and
// answers where the caller went and which prompts played.
func (f *fixture) run(keys map[string][]string) (forwarded, played []string) {
	f.t.Helper()
	m := newFakeMedia()
	f.media = m
	p := &fakePrompts{media: m, keys: keys, count: map[string]int{}}
	s := ivr.New(ivr.Config{Data: f.data, HTTP: f.client, Now: func() time.Time { return f.now }}, f.db, p)
	fw := &fakeForwarder{}
	c := &call.AppCall{SessionID: 42, Tenant: f.tenant, Caller: "103", CallerName: "Carol", Callee: "800", Target: f.ivr.ID.String()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Serve(ctx, c, m, fw); err != nil {
		f.t.Fatalf("Serve: %v", err)
	}
	return fw.got, p.played
}

func rule(input, action, number string) map[string]any {
	return map[string]any{"user_input": input, "office_hours_forward_rule": map[string]any{"action": action, "number": number}}
}

func menuSettings(rules ...map[string]any) map[string]any {
	return map[string]any{"dtmf_interval": 2, "enable_pin": true, "pin": "1234",
		"timeout_forward_rule": map[string]any{"timeout": 5, "repeat_times": 1, "action": "HANGUP"},
		"custom_forward_rules": rules}
}

var basicRules = []map[string]any{rule("1", "FORWARD_TO_NUMBER", "101"), rule("2", "FORWARD_TO_VOICEMAIL", "102"),
	rule("3", "DISA", ""), rule("4", "HANGUP", ""), rule("5", "REPEAT", "")}

func TestMenu(t *testing.T) {
	menu := []string{"ivr/thank-you", "ivr/dial-number"}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		keys       map[string][]string
		forwarded  []string
		played     []string
		settingsFn func(map[string]any)
	}{
		{name: "key to extension", keys: map[string][]string{"ivr/thank-you": {"1"}},
			forwarded: []string{"transfer 101"}, played: cat(menu[:1], []string{"ivr/transfer-hold"})},
		{name: "key ended by pound", keys: map[string][]string{"ivr/thank-you": {"1#"}},
			forwarded: []string{"transfer 101"}, played: cat(menu[:1], []string{"ivr/transfer-hold"})},
		{name: "key to voicemail", keys: map[string][]string{"ivr/dial-number": {"2"}},
			forwarded: []string{"voicemail 102"}, played: menu},
		{name: "hang up", keys: map[string][]string{"ivr/dial-number": {"4"}},
			played: cat(menu, []string{"goodbye"})},
		{name: "repeat", keys: map[string][]string{"ivr/dial-number": {"5", "1"}},
			forwarded: []string{"transfer 101"}, played: cat(menu, menu, []string{"ivr/transfer-hold"})},
		{name: "dial an extension directly", keys: map[string][]string{"ivr/thank-you": {"102"}},
			forwarded: []string{"transfer 102"}, played: cat(menu[:1], []string{"ivr/transfer-hold"})},
		{name: "blocked extension", keys: map[string][]string{"ivr/thank-you": {"102", "101"}},
			settingsFn: func(m map[string]any) { m["blocked_extension_numbers"] = "102;200-299" },
			forwarded:  []string{"transfer 101"}, played: cat(menu[:1], []string{"ivr/invalid-extension"}, menu[:1], []string{"ivr/transfer-hold"})},
		{name: "unknown extension", keys: map[string][]string{"ivr/thank-you": {"109", "2"}},
			forwarded: []string{"voicemail 102"}, played: cat(menu[:1], []string{"ivr/invalid-extension"}, menu[:1])},
		{name: "invalid input thrice hangs up", keys: map[string][]string{"ivr/thank-you": {"9", "9", "9"}},
			played: cat(menu[:1], []string{"invalid-option"}, menu[:1], []string{"invalid-option"}, menu[:1], []string{"invalid-option", "goodbye"})},
		{name: "invalid input thrice goes to failure rule", keys: map[string][]string{"ivr/thank-you": {"9", "9", "9"}},
			settingsFn: func(m map[string]any) {
				m["failure_forward_rule"] = map[string]any{"action": "FORWARD_TO_VOICEMAIL", "number": "101"}
			},
			forwarded: []string{"voicemail 101"},
			played:    cat(menu[:1], []string{"invalid-option"}, menu[:1], []string{"invalid-option"}, menu[:1], []string{"invalid-option"})},
		{name: "timeout repeats then acts", settingsFn: func(m map[string]any) {
			m["timeout_forward_rule"] = map[string]any{"timeout": 5, "repeat_times": 2, "action": "FORWARD_TO_NUMBER", "number": "102"}
		}, forwarded: []string{"transfer 102"}, played: cat(menu, menu, menu, []string{"ivr/transfer-hold"})},
		{name: "timeout hangs up", played: cat(menu, menu, []string{"goodbye"})},
		{name: "disa", keys: map[string][]string{"ivr/thank-you": {"3"}, "ivr/enter-pin": {"1234#"}, "ivr/dial-number": {"5551234#"}},
			forwarded: []string{"transfer 5551234"}, played: cat(menu[:1], []string{"ivr/enter-pin", "ivr/dial-number"})},
		{name: "disa wrong pin thrice", keys: map[string][]string{"ivr/thank-you": {"3"}, "ivr/enter-pin": {"1#", "2#", "3#"}},
			played: cat(menu[:1], []string{"ivr/enter-pin", "invalid-option", "ivr/enter-pin", "invalid-option", "ivr/enter-pin", "goodbye"})},
		{name: "disa without pin", keys: map[string][]string{"ivr/thank-you": {"3"}, "ivr/dial-number": {"0044123#"}},
			settingsFn: func(m map[string]any) { m["enable_pin"] = false },
			forwarded:  []string{"transfer 0044123"}, played: cat(menu[:1], []string{"ivr/dial-number"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := menuSettings(basicRules...)
			if tc.settingsFn != nil {
				tc.settingsFn(set)
			}
			f := newFixture(t, set)
			fw, played := f.run(tc.keys)
			if diff := cmp.Diff(tc.forwarded, fw); diff != "" {
				t.Errorf("forwarded (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.played, played); diff != "" {
				t.Errorf("played (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLastWordsNotClipped checks that the menu's last prompt before the
// caller is put through or hung up on ("please hold", "goodbye") is
// followed by 300 ms of silence: a phone's jitter buffer holds a stream's
// last frames until more come, and a real phone (baresip) dropped the end
// of the prompt when the callee's audio or the hang-up followed at once.
func TestLastWordsNotClipped(t *testing.T) {
	const promptFrames, tailFrames = 5, 15 // wav(800); 300 ms of 20 ms frames
	for _, tc := range []struct {
		name string
		keys map[string][]string
		last string
	}{
		{"transfer", map[string][]string{"ivr/thank-you": {"1"}}, "ivr/transfer-hold"},
		{"hang up", map[string][]string{"ivr/thank-you": {"4"}}, "goodbye"},
		{"disa wrong pin", map[string][]string{"ivr/thank-you": {"3"}, "ivr/enter-pin": {"1#", "2#", "3#"}}, "goodbye"},
		{"disa no number", map[string][]string{"ivr/thank-you": {"3"}, "ivr/enter-pin": {"1234#"}, "ivr/dial-number": {"#"}}, "goodbye"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, menuSettings(basicRules...))
			_, played := f.run(tc.keys)
			if len(played) == 0 || played[len(played)-1] != tc.last {
				t.Fatalf("played %v, want %s last", played, tc.last)
			}
			if got, want := f.media.sincePrompt, promptFrames+tailFrames; got != want {
				t.Errorf("frames written from the start of %s on: got %d, want %d", tc.last, got, want)
			}
		})
	}
}

// TestMenuWaitsForLongerInput checks PortSIP's rule for keys that could
// still grow: "1" waits for a longer rule "12", and "1" then a pause runs
// rule "1".
func TestMenuWaitsForLongerInput(t *testing.T) {
	f := newFixture(t, menuSettings(rule("1", "FORWARD_TO_NUMBER", "101"), rule("12", "FORWARD_TO_NUMBER", "102")))
	if fw, _ := f.run(map[string][]string{"ivr/thank-you": {"12"}}); !cmp.Equal(fw, []string{"transfer 102"}) {
		t.Errorf("12: %v", fw)
	}
	if fw, _ := f.run(map[string][]string{"ivr/thank-you": {"1"}}); !cmp.Equal(fw, []string{"transfer 101"}) {
		t.Errorf("1: %v", fw)
	}
}

func TestOfficeHours(t *testing.T) {
	r := rule("1", "FORWARD_TO_NUMBER", "101")
	r["office_hours"] = map[string]any{"mode": "CUSTOM", "monday": map[string]any{"enabled": true, "ranges": []map[string]string{{"from": "09:00", "to": "17:00"}}}}
	r["non_office_hours_forward_rule"] = map[string]any{"action": "FORWARD_TO_VOICEMAIL", "number": "101"}
	f := newFixture(t, menuSettings(r))
	keys := map[string][]string{"ivr/thank-you": {"1#"}}
	if fw, _ := f.run(keys); !cmp.Equal(fw, []string{"transfer 101"}) {
		t.Errorf("in office hours: %v", fw)
	}
	f.now = f.now.Add(8 * time.Hour) // 18:00
	if fw, _ := f.run(keys); !cmp.Equal(fw, []string{"voicemail 101"}) {
		t.Errorf("after office hours: %v", fw)
	}

	// GLOBAL: the tenant's office hours, which close on Mondays here.
	r["office_hours"] = map[string]any{"mode": "GLOBAL"}
	f = newFixture(t, menuSettings(r))
	f.tenant.Settings = []byte(`{"office_hours":{"tuesday":{"enabled":true}}}`)
	if fw, _ := f.run(keys); !cmp.Equal(fw, []string{"voicemail 101"}) {
		t.Errorf("tenant closed: %v", fw)
	}

	// A holiday of the rule wins.
	h := store.Holiday{Name: "today", Spec: []byte(`{"every_year":true,"month_start":11,"month_end":11,"day_start":23,"day_end":23}`)}
	if err := f.db.CreateHoliday(context.Background(), f.tenant.ID, &h); err != nil {
		t.Fatal(err)
	}
	r["holidays"] = nil
	r["holiday_ids"] = []string{h.ID.String()}
	r["holiday_forward_rule"] = map[string]any{"action": "HANGUP"}
	raw, _ := json.Marshal(menuSettings(r))
	f.ivr.Settings = raw
	if err := f.db.UpdateIVR(context.Background(), f.tenant.ID, &f.ivr); err != nil {
		t.Fatal(err)
	}
	if fw, played := f.run(keys); len(fw) != 0 || played[len(played)-1] != "goodbye" {
		t.Errorf("holiday: %v %v", fw, played)
	}
}

func TestPromptFile(t *testing.T) {
	f := newFixture(t, nil)
	rel := filepath.Join("files", "menu.wav")
	os.MkdirAll(filepath.Join(f.data, "files"), 0o750)
	if err := os.WriteFile(filepath.Join(f.data, rel), wav(1600), 0o640); err != nil {
		t.Fatal(err)
	}
	file := store.File{Name: "menu.wav", Size: 3244, MediaType: "audio/wav", Path: rel}
	if err := f.db.CreateFile(context.Background(), f.tenant.ID, &file); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"prompt_file_id": file.ID.String(),
		"timeout_forward_rule": map[string]any{"timeout": 1, "repeat_times": 0, "action": "HANGUP"}})
	f.ivr.Settings = raw
	if err := f.db.UpdateIVR(context.Background(), f.tenant.ID, &f.ivr); err != nil {
		t.Fatal(err)
	}
	// The file plays instead of the system prompts.
	if _, played := f.run(nil); !cmp.Equal(played, []string{"goodbye"}) {
		t.Errorf("played %v", played)
	}
}

func TestActionURL(t *testing.T) {
	var mu sync.Mutex
	var asked []url.Values
	answer := `{"status_code":200,"action":"call","destination":"102"}`
	slow := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "crm" || p != "pw" || r.Header.Get("X-Tenant") != "a" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		if r.Method == http.MethodPost {
			var body map[string]string
			json.NewDecoder(r.Body).Decode(&body)
			q = url.Values{}
			for k, v := range body {
				q.Set(k, v)
			}
		}
		mu.Lock()
		asked = append(asked, q)
		a := answer
		mu.Unlock()
		if a == "slow" {
			select {
			case <-slow:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, a)
	}))
	defer srv.Close()
	defer close(slow)

	f := newFixture(t, menuSettings(rule("1", "FORWARD_TO_NUMBER", "101")))
	add := func(settings map[string]any) store.ActionURL {
		base := map[string]any{"enabled": true, "url": srv.URL + "/dest", "auth": "BASIC", "username": "crm", "password": "pw",
			"headers": "X-Tenant:a", "connection_timeout": 0, "request_timeout": 1}
		for k, v := range settings {
			base[k] = v
		}
		raw, _ := json.Marshal(base)
		a := store.ActionURL{IVR: f.ivr.ID, Settings: raw}
		if err := f.db.CreateActionURL(context.Background(), f.tenant.ID, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := add(map[string]any{"type": "DTMF", "dtmf_mask": "ALL", "method": "GET"})
	keys := map[string][]string{"ivr/thank-you": {"1#"}}

	// The DTMF match overrides the menu's rule 1.
	if fw, _ := f.run(keys); !cmp.Equal(fw, []string{"transfer 102"}) {
		t.Errorf("action url call: %v", fw)
	}
	want := url.Values{"from": {"103"}, "to": {"800"}, "input": {"1"}, "from_name": {"Carol"}, "account_name": {"main"}, "session_id": {"42"}}
	if len(asked) != 1 || !cmp.Equal(asked[0], want) {
		t.Errorf("asked %v, want %v", asked, want)
	}

	// A failing or slow endpoint falls back to the menu.
	for _, ans := range []string{`{"status_code":500}`, "not json", "slow"} {
		mu.Lock()
		answer = ans
		mu.Unlock()
		start := time.Now()
		if fw, _ := f.run(keys); !cmp.Equal(fw, []string{"transfer 101"}) {
			t.Errorf("answer %q: %v", ans, fw)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("answer %q took %v", ans, d)
		}
	}

	// A caller match decides before the menu: here, hang up.
	f.db.DeleteActionURL(context.Background(), f.tenant.ID, f.ivr.ID, a.ID)
	add(map[string]any{"type": "CALLER", "caller_mask": "1**", "method": "POST"})
	mu.Lock()
	answer, asked = `{"action":"hangup"}`, nil
	mu.Unlock()
	if fw, played := f.run(nil); len(fw) != 0 || !cmp.Equal(played, []string{"goodbye"}) {
		t.Errorf("caller hangup: %v %v", fw, played)
	}
	if len(asked) != 1 || asked[0].Get("from") != "103" || asked[0].Get("input") != "" {
		t.Errorf("caller match asked %v", asked)
	}
}

func TestNumbers(t *testing.T) {
	f := newFixture(t, nil)
	s := ivr.New(ivr.Config{}, f.db, &fakePrompts{})
	m, err := s.Numbers(context.Background(), f.tenant.ID)
	if err != nil || m["800"] != f.ivr.ID.String() || len(m) != 1 {
		t.Errorf("numbers: %v %v", m, err)
	}
	if m, err := s.Numbers(context.Background(), f.tenant.ID+1); err != nil || len(m) != 0 {
		t.Errorf("another tenant's numbers: %v %v", m, err)
	}
}

// TestActionURLDigest has an action URL behind RFC 7616 digest
// authentication: the IVR answers the server's challenge with the URL's
// user name and password, for GET and for POST (whose body is sent again),
// and a wrong password falls back to the menu.
func TestActionURLDigest(t *testing.T) {
	const realm, nonce = "crm", "n0nce"
	var mu sync.Mutex
	authorized := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chal := &digest.Challenge{Realm: realm, Nonce: nonce, QOP: []string{"auth"}, Algorithm: "MD5"}
		creds, err := digest.ParseCredentials(r.Header.Get("Authorization"))
		if err == nil {
			var want *digest.Credentials
			want, err = digest.Digest(chal, digest.Options{Method: r.Method, URI: r.URL.RequestURI(), Username: "crm", Password: "pw",
				Cnonce: creds.Cnonce, Count: creds.Nc})
			if err == nil && (creds.Username != "crm" || creds.Response != want.Response) {
				err = errors.New("wrong response")
			}
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", chal.String())
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			var body map[string]string
			if json.NewDecoder(r.Body).Decode(&body) != nil || body["input"] != "1" {
				http.Error(w, "no body", http.StatusBadRequest)
				return
			}
		}
		mu.Lock()
		authorized++
		mu.Unlock()
		io.WriteString(w, `{"action":"call","destination":"102"}`)
	}))
	defer srv.Close()

	f := newFixture(t, menuSettings(rule("1", "FORWARD_TO_NUMBER", "101")))
	keys := map[string][]string{"ivr/thank-you": {"1#"}}
	for _, tt := range []struct {
		method, password, want string
	}{
		{"GET", "pw", "transfer 102"},
		{"POST", "pw", "transfer 102"},
		{"GET", "wrong", "transfer 101"},
	} {
		raw, _ := json.Marshal(map[string]any{"enabled": true, "url": srv.URL + "/dest", "auth": "DIGEST", "username": "crm",
			"password": tt.password, "type": "DTMF", "dtmf_mask": "ALL", "method": tt.method, "request_timeout": 2})
		a := store.ActionURL{IVR: f.ivr.ID, Settings: raw}
		if err := f.db.CreateActionURL(context.Background(), f.tenant.ID, &a); err != nil {
			t.Fatal(err)
		}
		if fw, _ := f.run(keys); !cmp.Equal(fw, []string{tt.want}) {
			t.Errorf("%s with password %q: %v, want %s", tt.method, tt.password, fw, tt.want)
		}
		f.db.DeleteActionURL(context.Background(), f.tenant.ID, f.ivr.ID, a.ID)
	}
	if authorized != 2 {
		t.Errorf("%d authorized requests, want 2", authorized)
	}
}
