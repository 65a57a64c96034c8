package api

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopbx/gopbx/internal/pbx"
)

func TestMOHServer(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		get := func(token string) mohServerBody {
			t.Helper()
			var got mohServerBody
			if st := e.do("GET", "/api/moh_server", token, nil, &got); st != 200 {
				t.Fatalf("GET /moh_server: status %d", st)
			}
			return got
		}
		if got, want := get(a.boss), (mohServerBody{Enabled: true, PlayType: "DEFAULT_MUSIC"}); got != want {
			t.Errorf("defaults: got %+v, want %+v", got, want)
		}
		if st := e.do("POST", "/api/moh_server", a.boss, map[string]any{"play_type": "RANDOM_MUSIC_PER_DAY"}, nil); st/100 != 2 {
			t.Fatalf("update play_type: status %d", st)
		}
		if st := e.do("POST", "/api/moh_server", a.boss, map[string]any{"enabled": false}, nil); st/100 != 2 {
			t.Fatalf("update enabled: status %d", st)
		}
		// Each update changes only the fields it gives.
		if got, want := get(a.boss), (mohServerBody{Enabled: false, PlayType: "RANDOM_MUSIC_PER_DAY"}); got != want {
			t.Errorf("after updates: got %+v, want %+v", got, want)
		}
		e.wantError("POST", "/api/moh_server", a.boss, map[string]any{"play_type": "LOUD"}, 400, "VALIDATE_FAILED", "play_type")
		if got, want := get(a.boss), (mohServerBody{Enabled: false, PlayType: "RANDOM_MUSIC_PER_DAY"}); got != want {
			t.Errorf("after a refused update: got %+v, want %+v", got, want)
		}
		// The other tenant keeps its own settings; users are not admins.
		if got, want := get(b.boss), (mohServerBody{Enabled: true, PlayType: "DEFAULT_MUSIC"}); got != want {
			t.Errorf("other tenant: got %+v, want %+v", got, want)
		}
		e.wantError("GET", "/api/moh_server", a.alice, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/moh_server", a.alice, map[string]any{"enabled": true}, 403, "FORBIDDEN", "")
	})
}

func TestMOHMusics(t *testing.T) {
	eachDataEnv(t, func(t *testing.T, e *env, data string) {
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		wav1, wav2 := testWAV(1, 8000, 800), testWAV(1, 16000, 1600)
		f1 := uploadFile(e, a.boss, "jazz.wav", wav1, true)
		f2 := uploadFile(e, a.boss, "rock.wav", wav2, false)
		txt := uploadFile(e, a.boss, "notes.txt", []byte("not audio"), false)
		other := uploadFile(e, b.boss, "theirs.wav", wav1, false)

		var created struct {
			ID string `json:"id"`
		}
		create := func(token, file string) string {
			t.Helper()
			created.ID = ""
			if st := e.do("POST", "/api/moh_server/musics", token, map[string]string{"file_id": file}, &created); st != 201 || created.ID == "" {
				t.Fatalf("create music from %s: status %d", file, st)
			}
			return created.ID
		}
		m1, m2 := create(a.boss, f1), create(a.boss, f2)
		mb := create(b.boss, other)

		var l struct {
			Items []mohMusicItem `json:"items"`
		}
		if st := e.do("GET", "/api/moh_server/musics", a.boss, nil, &l); st != 200 {
			t.Fatalf("list: status %d", st)
		}
		var names []string
		for _, it := range l.Items {
			names = append(names, it.ID+" "+it.FileName)
		}
		if want := []string{m1 + " jazz.wav", m2 + " rock.wav"}; !cmp.Equal(names, want) {
			t.Errorf("list: got %v, want %v", names, want)
		}
		var it mohMusicItem
		if st := e.do("GET", "/api/moh_server/musics/"+m1, a.boss, nil, &it); st != 200 {
			t.Fatalf("get: status %d", st)
		}
		if it.ID != m1 || it.FileName != "jazz.wav" || it.FileSize != int64(len(wav1)) || it.FileURL == nil {
			t.Errorf("music: %+v", it)
		} else if resp, body := e.raw("GET", *it.FileURL, a.boss, nil, nil); resp.StatusCode != 200 || !bytes.Equal(body, wav1) {
			t.Errorf("music's file_url %s: status %d", *it.FileURL, resp.StatusCode)
		}
		// The music's file is no longer a temporary upload.
		id1, _ := pbx.ParseID(f1)
		if f, err := e.db.File(context.Background(), a.tenant, id1); err != nil || f.Temporary {
			t.Errorf("music's file: %+v, %v", f, err)
		}

		// Only WAVs the PBX plays, only the tenant's files, each once.
		e.wantError("POST", "/api/moh_server/musics", a.boss, map[string]string{"file_id": txt}, 400, "VALIDATE_FAILED", "file_id")
		e.wantError("POST", "/api/moh_server/musics", a.boss, map[string]string{"file_id": other}, 400, "VALIDATE_FAILED", "file_id")
		e.wantError("POST", "/api/moh_server/musics", a.boss, map[string]string{"file_id": "nope"}, 400, "VALIDATE_FAILED", "file_id")
		e.wantError("POST", "/api/moh_server/musics", a.boss, map[string]string{"file_id": f1}, 409, "CONFLICT", "file_id")
		e.wantError("GET", "/api/moh_server/musics", a.alice, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/moh_server/musics", a.alice, map[string]string{"file_id": f1}, 403, "FORBIDDEN", "")

		// Tenants see and touch only their own musics.
		if e.do("GET", "/api/moh_server/musics", b.boss, nil, &l); len(l.Items) != 1 || l.Items[0].ID != mb {
			t.Errorf("other tenant's list: %+v", l)
		}
		e.wantError("GET", "/api/moh_server/musics/"+m1, b.boss, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/moh_server/musics/"+m1+"/destroy", b.boss, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/moh_server/musics/nope", a.boss, nil, 404, "NOT_FOUND", "")

		// Destroy: the music goes, its file stays.
		if st := e.do("POST", "/api/moh_server/musics/"+m1+"/destroy", a.boss, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: status %d", st)
		}
		e.wantError("GET", "/api/moh_server/musics/"+m1, a.boss, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/moh_server/musics/"+m1+"/destroy", a.boss, nil, 404, "NOT_FOUND", "")
		if e.do("GET", "/api/moh_server/musics", a.boss, nil, &l); len(l.Items) != 1 || l.Items[0].ID != m2 {
			t.Errorf("after destroy: %+v", l)
		}
		var fi fileItem
		if st := e.do("GET", "/api/files/"+f1, a.boss, nil, &fi); st != 200 {
			t.Errorf("destroyed music's file: status %d", st)
		}
		// The file may become a music again.
		create(a.boss, f1)
	})
}
