package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
)

func TestPrompts(t *testing.T) {
	eachDataEnv(t, func(t *testing.T, e *env, data string) {
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		wav := testWAV(1, 16000, 3200)
		f := uploadFile(e, a.boss, "goodbye.wav", wav, true)
		txt := uploadFile(e, a.boss, "notes.txt", []byte("not audio"), false)
		other := uploadFile(e, b.boss, "theirs.wav", wav, false)
		lib := prompts.New(data)

		var l struct {
			Count int          `json:"count"`
			Items []promptItem `json:"items"`
		}
		source := func(token, lang, name string) promptItem {
			t.Helper()
			path := "/api/prompts"
			if lang != "" {
				path += "?language=" + lang
			}
			if st := e.do("GET", path, token, nil, &l); st != 200 {
				t.Fatalf("GET %s: status %d", path, st)
			}
			if l.Count != len(prompts.Names()) || len(l.Items) != l.Count {
				t.Fatalf("GET %s: count %d, %d items; want %d", path, l.Count, len(l.Items), len(prompts.Names()))
			}
			for _, it := range l.Items {
				if it.Name == name {
					return it
				}
			}
			t.Fatalf("GET %s: no prompt %s", path, name)
			return promptItem{}
		}
		if got, want := source(a.boss, "", "goodbye"), (promptItem{"goodbye", "en", "BUILT_IN"}); got != want {
			t.Errorf("before: %+v; want %+v", got, want)
		}

		// A replacement plays for the tenant only, in its language.
		if st := e.do("POST", "/api/prompts/replace", a.boss, map[string]string{"name": "goodbye", "file_id": f}, nil); st/100 != 2 {
			t.Fatalf("replace: status %d", st)
		}
		if got, want := source(a.boss, "", "goodbye"), (promptItem{"goodbye", "en", "TENANT"}); got != want {
			t.Errorf("after replace: %+v; want %+v", got, want)
		}
		if got, want := source(a.boss, "de", "goodbye"), (promptItem{"goodbye", "en", "TENANT"}); got != want {
			t.Errorf("after replace, in de: %+v; want %+v", got, want)
		}
		if got, want := source(b.boss, "", "goodbye"), (promptItem{"goodbye", "en", "BUILT_IN"}); got != want {
			t.Errorf("other tenant after replace: %+v; want %+v", got, want)
		}
		rc, err := lib.Open(a.tenant, "en", "goodbye")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, wav) {
			t.Errorf("the tenant's goodbye plays %d bytes, not the uploaded WAV's %d", len(got), len(wav))
		}
		// A language gopbx does not ship is added prompt by prompt.
		if st := e.do("POST", "/api/prompts/replace", a.boss, map[string]string{"name": "vm/leave-message", "language": "de", "file_id": f}, nil); st/100 != 2 {
			t.Fatalf("replace in de: status %d", st)
		}
		if got, want := source(a.boss, "de", "vm/leave-message"), (promptItem{"vm/leave-message", "de", "TENANT"}); got != want {
			t.Errorf("de replacement: %+v; want %+v", got, want)
		}
		// PortSIP's tags ("de-DE") find it too.
		if got, want := source(a.boss, "de-DE", "vm/leave-message"), (promptItem{"vm/leave-message", "de", "TENANT"}); got != want {
			t.Errorf("de replacement, asked in de-DE: %+v; want %+v", got, want)
		}

		// Bad input names its field and changes nothing.
		e.wantError("POST", "/api/prompts/replace", a.boss, map[string]string{"name": "welcome-to-nowhere", "file_id": f}, 400, "VALIDATE_FAILED", "name")
		e.wantError("POST", "/api/prompts/replace", a.boss, map[string]string{"name": "../goodbye", "file_id": f}, 400, "VALIDATE_FAILED", "name")
		e.wantError("POST", "/api/prompts/replace", a.boss, map[string]string{"name": "beep", "language": "../..", "file_id": f}, 400, "VALIDATE_FAILED", "language")
		e.wantError("POST", "/api/prompts/replace", a.boss, map[string]string{"name": "beep", "file_id": txt}, 400, "VALIDATE_FAILED", "file_id")
		e.wantError("POST", "/api/prompts/replace", a.boss, map[string]string{"name": "beep", "file_id": other}, 400, "VALIDATE_FAILED", "file_id")
		e.wantError("POST", "/api/prompts/replace", a.boss, map[string]string{"name": "beep", "file_id": "nope"}, 400, "VALIDATE_FAILED", "file_id")
		e.wantError("GET", "/api/prompts?language=e.n", a.boss, nil, 400, "VALIDATE_FAILED", "language")
		if got := source(a.boss, "", "beep"); got.Source != "BUILT_IN" {
			t.Errorf("beep after refused replacements: %+v", got)
		}
		// Users are not administrators.
		e.wantError("GET", "/api/prompts", a.alice, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/prompts/replace", a.alice, map[string]string{"name": "beep", "file_id": f}, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/prompts/destroy", a.alice, map[string]string{"name": "goodbye"}, 403, "FORBIDDEN", "")

		// Destroy restores the original; another tenant has nothing to restore.
		e.wantError("POST", "/api/prompts/destroy", b.boss, map[string]string{"name": "goodbye"}, 404, "NOT_FOUND", "")
		if st := e.do("POST", "/api/prompts/destroy", a.boss, map[string]string{"name": "goodbye"}, nil); st/100 != 2 {
			t.Fatalf("destroy: status %d", st)
		}
		if got, want := source(a.boss, "", "goodbye"), (promptItem{"goodbye", "en", "BUILT_IN"}); got != want {
			t.Errorf("after destroy: %+v; want %+v", got, want)
		}
		e.wantError("POST", "/api/prompts/destroy", a.boss, map[string]string{"name": "goodbye"}, 404, "NOT_FOUND", "")
	})
}

// TestDeleteTenantRemovesData deletes a tenant that has files, a voicemail,
// a prompt replacement and settings documents: its rows and its bytes under
// the data folder go, and another tenant's stay.
func TestDeleteTenantRemovesData(t *testing.T) {
	eachDataEnv(t, func(t *testing.T, e *env, data string) {
		ctx := context.Background()
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		wav := testWAV(1, 8000, 800)
		files := map[pbx.TenantID]string{}
		for _, u := range []vmUsers{a, b} {
			files[u.tenant] = uploadFile(e, u.boss, "greeting.wav", wav, false)
			putVoicemail(e, data, u.tenant, u.aliceID, "102", time.Now(), wav)
			if st := e.do("POST", "/api/prompts/replace", u.boss, map[string]string{"name": "goodbye", "file_id": files[u.tenant]}, nil); st/100 != 2 {
				t.Fatalf("replace prompt: status %d", st)
			}
			if st := e.do("POST", "/api/voicemail", u.boss, map[string]any{"retain_days": 9}, nil); st/100 != 2 {
				t.Fatalf("voicemail settings: status %d", st)
			}
		}
		startUpload(e, a.boss, "half.wav", false)
		settings := func(tn pbx.TenantID) int {
			var v map[string]any
			if err := e.db.Setting(ctx, voicemailSettingName(tn), &v); err != nil {
				t.Fatal(err)
			}
			return len(v)
		}
		if settings(a.tenant) == 0 {
			t.Fatal("no voicemail settings document before the delete")
		}

		if st := e.do("POST", "/api/tenants/"+a.tenant.String()+"/destroy", e.adminToken(), nil, nil); st/100 != 2 {
			t.Fatalf("destroy tenant: status %d", st)
		}
		for _, dir := range tenantDataDirs {
			if _, err := os.Stat(filepath.Join(data, dir, a.tenant.String())); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s of the deleted tenant: %v; want it gone", dir, err)
			}
		}
		for _, dir := range []string{"files", "voicemail", "prompts"} {
			if _, err := os.Stat(filepath.Join(data, dir, b.tenant.String())); err != nil {
				t.Errorf("%s of the other tenant: %v", dir, err)
			}
		}
		id, _ := pbx.ParseID(files[a.tenant])
		if _, err := e.db.File(ctx, a.tenant, id); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("the deleted tenant's file row: %v; want not found", err)
		}
		if settings(a.tenant) != 0 {
			t.Error("the deleted tenant's voicemail settings document is still there")
		}
		if settings(b.tenant) == 0 {
			t.Error("the other tenant's voicemail settings document is gone")
		}
		if rc, found, err := prompts.New(data).Find(b.tenant, "en", "goodbye"); err != nil || found.Origin != prompts.OriginTenant {
			t.Errorf("the other tenant's prompt: %+v, %v", found, err)
		} else {
			rc.Close()
		}
	})
}
