package api

import (
	"bytes"
	"io"
	"testing"

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
