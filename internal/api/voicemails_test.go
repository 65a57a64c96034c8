package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// eachDataEnv is eachEnv with a data folder, which it also returns.
func eachDataEnv(t *testing.T, fn func(t *testing.T, e *env, data string)) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		data := t.TempDir()
		fn(t, newEnv(t, db, Config{Hash: testHash, Data: data}), data)
	})
}

// testWAV is a 16-bit PCM WAV of the given channels and rate, holding
// samples frames of a ramp.
func testWAV(channels, rate, samples int) []byte {
	data := make([]byte, samples*channels*2)
	for i := range samples * channels {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(i*37))
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(channels), uint32(rate), uint32(rate * channels * 2), uint16(channels * 2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// raw sends a request with a raw body and headers and answers the
// response, whose body it reads.
func (e *env) raw(method, path, token string, hdr map[string]string, body []byte) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// vmUsers is a tenant with an admin and two standard users, and the
// tokens and IDs of the users.
type vmUsers struct {
	tenant           pbx.TenantID
	boss, alice, bob string // tokens
	aliceID, bobID   pbx.ID
}

func newVMUsers(e *env, domain, ext string) vmUsers {
	e.t.Helper()
	tn, boss, sys := utTenantAdmin(e, domain)
	a := utCreate(e, sys, utUserBody("alice", ext+"1", "StandardUser"))
	b := utCreate(e, sys, utUserBody("bob", ext+"2", "StandardUser"))
	aid, _ := pbx.ParseID(a)
	bid, _ := pbx.ParseID(b)
	return vmUsers{tenant: tn, boss: boss, alice: e.login("alice", "Secret#123", domain), bob: e.login("bob", "Secret#123", domain), aliceID: aid, bobID: bid}
}

// putVoicemail writes a message's WAV under the data folder and its row,
// as the voicemail app does.
func putVoicemail(e *env, data string, tenant pbx.TenantID, user pbx.ID, sender string, at time.Time, wav []byte) store.Voicemail {
	e.t.Helper()
	rel := filepath.Join("voicemail", tenant.String(), user.String(), sender+"-"+at.Format("150405")+".wav")
	if err := os.MkdirAll(filepath.Join(data, filepath.Dir(rel)), 0o750); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, rel), wav, 0o640); err != nil {
		e.t.Fatal(err)
	}
	v := store.Voicemail{User: user, Sender: sender, Duration: 2600 * time.Millisecond, Path: rel, Size: int64(len(wav)), CreatedAt: at}
	if err := e.db.CreateVoicemail(context.Background(), tenant, &v); err != nil {
		e.t.Fatal(err)
	}
	return v
}

type vmList struct {
	Count int             `json:"count"`
	Items []voicemailItem `json:"items"`
}

// mailboxHook records the MailboxChanged calls.
type mailboxHook struct {
	mu    sync.Mutex
	calls []string
}

func (h *mailboxHook) changed(_ context.Context, tenant pbx.TenantID, user pbx.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, tenant.String()+"/"+user.String())
}

func (h *mailboxHook) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.calls
	h.calls = nil
	return out
}

func TestVoicemails(t *testing.T) {
	eachDataEnv(t, func(t *testing.T, e *env, data string) {
		hook := &mailboxHook{}
		e.srv.AttachSIP(SIP{MailboxChanged: hook.changed})
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		wav := testWAV(1, 8000, 8000)
		old := putVoicemail(e, data, a.tenant, a.aliceID, "5551000", t0, wav)
		newer := putVoicemail(e, data, a.tenant, a.aliceID, "5552000", t0.Add(time.Hour), wav)
		bobs := putVoicemail(e, data, a.tenant, a.bobID, "5553000", t0, wav)
		other := putVoicemail(e, data, b.tenant, b.aliceID, "5554000", t0, wav)

		var l vmList
		if st := e.do("GET", "/api/voicemails", a.alice, nil, &l); st != 200 || l.Count != 2 || len(l.Items) != 2 {
			t.Fatalf("alice's mailbox: status %d, %+v", st, l)
		}
		got := l.Items[0]
		want := voicemailItem{ID: newer.ID.String(), Sender: "5552000", CreatedAt: ptrTo("2026-03-01T10:00:00Z"), Duration: 3, Status: "UNREAD",
			FileName: filepath.Base(newer.Path), FileSize: int64(len(wav)), FileURL: "/api/voicemails/" + newer.ID.String() + "/download"}
		if got.ID != want.ID || *got.CreatedAt != *want.CreatedAt || got.Sender != want.Sender || got.Duration != want.Duration ||
			got.Status != want.Status || got.FileName != want.FileName || got.FileSize != want.FileSize || got.FileURL != want.FileURL {
			t.Errorf("newest message: got %+v, want %+v", got, want)
		}
		if l.Items[1].ID != old.ID.String() {
			t.Errorf("second message %s, want %s", l.Items[1].ID, old.ID)
		}
		// Nobody else sees alice's messages, nor she theirs.
		if st := e.do("GET", "/api/voicemails", a.bob, nil, &l); st != 200 || l.Count != 1 || l.Items[0].ID != bobs.ID.String() {
			t.Errorf("bob's mailbox: status %d, %+v", st, l)
		}
		if st := e.do("GET", "/api/voicemails", b.alice, nil, &l); st != 200 || l.Count != 1 || l.Items[0].ID != other.ID.String() {
			t.Errorf("other tenant's alice: status %d, %+v", st, l)
		}
		for _, path := range []string{"/api/voicemails/" + old.ID.String(), old.ID.String() + "/download"} {
			if path[0] != '/' {
				path = "/api/voicemails/" + path
			}
			e.wantError("GET", path, a.bob, nil, 404, "NOT_FOUND", "")
			e.wantError("GET", path, b.alice, nil, 404, "NOT_FOUND", "")
		}
		e.wantError("POST", "/api/voicemails/"+old.ID.String()+"/set_read", b.alice, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/voicemails/"+old.ID.String()+"/destroy", a.bob, nil, 404, "NOT_FOUND", "")
		// An administrator has no view into its users' mailboxes.
		if st := e.do("GET", "/api/voicemails", a.boss, nil, &l); st != 200 || l.Count != 0 {
			t.Errorf("the admin's own mailbox: status %d, %+v", st, l)
		}
		if got := hook.take(); len(got) != 0 {
			t.Errorf("failed changes called the hook: %v", got)
		}

		// Read and unread follow, and tell the SIP side.
		mine := a.tenant.String() + "/" + a.aliceID.String()
		if st := e.do("POST", "/api/voicemails/"+old.ID.String()+"/set_read", a.alice, nil, nil); st != 204 && st != 200 {
			t.Fatalf("set_read: status %d", st)
		}
		if got := hook.take(); len(got) != 1 || got[0] != mine {
			t.Errorf("set_read hook calls %v, want [%s]", got, mine)
		}
		var one voicemailItem
		if e.do("GET", "/api/voicemails/"+old.ID.String(), a.alice, nil, &one); one.Status != "READ" {
			t.Errorf("after set_read: status %q", one.Status)
		}
		q := "/api/voicemails?filter=" + url.QueryEscape("status eq 'UNREAD'")
		if e.do("GET", q, a.alice, nil, &l); l.Count != 1 || l.Items[0].ID != newer.ID.String() {
			t.Errorf("unread filter: %+v", l)
		}
		if e.do("GET", "/api/voicemails?search=5551", a.alice, nil, &l); l.Count != 1 || l.Items[0].ID != old.ID.String() {
			t.Errorf("search: %+v", l)
		}
		if e.do("GET", "/api/voicemails?orderby="+url.QueryEscape("created_at asc"), a.alice, nil, &l); l.Count != 2 || l.Items[0].ID != old.ID.String() {
			t.Errorf("orderby created_at asc: %+v", l)
		}
		e.wantError("GET", "/api/voicemails?filter="+url.QueryEscape("nosuch eq 1"), a.alice, nil, 400, "VALIDATE_FAILED", "")
		e.do("POST", "/api/voicemails/"+old.ID.String()+"/set_unread", a.alice, nil, nil)
		if e.do("GET", "/api/voicemails/"+old.ID.String(), a.alice, nil, &one); one.Status != "UNREAD" {
			t.Errorf("after set_unread: status %q", one.Status)
		}
		if got := hook.take(); len(got) != 1 || got[0] != mine {
			t.Errorf("set_unread hook calls %v, want [%s]", got, mine)
		}

		// The download is the WAV, with ranges.
		resp, body := e.raw("GET", want.FileURL, a.alice, nil, nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, wav) || resp.Header.Get("Content-Type") != "audio/wav" {
			t.Errorf("download: status %d, %d bytes, type %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
		}
		resp, body = e.raw("GET", want.FileURL, a.alice, map[string]string{"Range": "bytes=8-11"}, nil)
		if resp.StatusCode != 206 || string(body) != "WAVE" || resp.Header.Get("Content-Range") != "bytes 8-11/"+strconv.Itoa(len(wav)) {
			t.Errorf("range download: status %d, %q, %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
		}
		if resp, _ := e.raw("GET", want.FileURL, "", nil, nil); resp.StatusCode != 401 {
			t.Errorf("download without a token: status %d", resp.StatusCode)
		}

		// Destroy removes row and file.
		if st := e.do("POST", "/api/voicemails/"+newer.ID.String()+"/destroy", a.alice, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: status %d", st)
		}
		if got := hook.take(); len(got) != 1 || got[0] != mine {
			t.Errorf("destroy hook calls %v, want [%s]", got, mine)
		}
		e.wantError("GET", "/api/voicemails/"+newer.ID.String(), a.alice, nil, 404, "NOT_FOUND", "")
		if _, err := os.Stat(filepath.Join(data, newer.Path)); !os.IsNotExist(err) {
			t.Errorf("destroyed message's file: %v", err)
		}
		if e.do("GET", "/api/voicemails", a.alice, nil, &l); l.Count != 1 {
			t.Errorf("after destroy: %+v", l)
		}
		if _, err := os.Stat(filepath.Join(data, bobs.Path)); err != nil {
			t.Errorf("bob's message's file: %v", err)
		}
	})
}

func TestVoicemailServer(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		var got voicemailServerBody
		if st := e.do("GET", "/api/voicemail", a.boss, nil, &got); st != 200 || got != (voicemailServerBody{"777", 30, 1}) {
			t.Fatalf("defaults: status %d, %+v", st, got)
		}
		if st := e.do("POST", "/api/voicemail", a.boss, map[string]any{"retain_days": 7, "extension_number": "7000"}, nil); st/100 != 2 {
			t.Fatalf("update: status %d", st)
		}
		if e.do("GET", "/api/voicemail", a.boss, nil, &got); got != (voicemailServerBody{"7000", 7, 1}) {
			t.Errorf("after update: %+v", got)
		}
		e.do("POST", "/api/voicemail", a.boss, map[string]any{"min_seconds": 0}, nil)
		if e.do("GET", "/api/voicemail", a.boss, nil, &got); got != (voicemailServerBody{"7000", 7, 0}) {
			t.Errorf("after min_seconds 0: %+v", got)
		}
		// Another tenant keeps its own.
		if e.do("GET", "/api/voicemail", b.boss, nil, &got); got != (voicemailServerBody{"777", 30, 1}) {
			t.Errorf("other tenant: %+v", got)
		}
		e.wantError("POST", "/api/voicemail", a.boss, map[string]any{"extension_number": "7a"}, 400, "VALIDATE_FAILED", "extension_number")
		e.wantError("POST", "/api/voicemail", a.boss, map[string]any{"retain_days": -1}, 400, "VALIDATE_FAILED", "retain_days")
		e.wantError("POST", "/api/voicemail", a.boss, map[string]any{"min_seconds": "x"}, 400, "VALIDATE_FAILED", "min_seconds")
		// alice has extension 101: the voicemail number cannot take it.
		e.wantError("POST", "/api/voicemail", a.boss, map[string]any{"extension_number": "101"}, 409, "CONFLICT", "extension_number")
		e.wantError("GET", "/api/voicemail", a.alice, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/voicemail", a.alice, map[string]any{"retain_days": 1}, 403, "FORBIDDEN", "")
		if e.do("GET", "/api/voicemail", a.boss, nil, &got); got != (voicemailServerBody{"7000", 7, 0}) {
			t.Errorf("refused updates changed the settings: %+v", got)
		}
		var stored voicemailServer
		if err := e.db.Setting(context.Background(), "voicemail:"+a.tenant.String(), &stored); err != nil || stored != (voicemailServer{"7000", 7, 0}) {
			t.Errorf("stored setting: %+v, %v", stored, err)
		}
	})
}
