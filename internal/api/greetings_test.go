package api

import (
	"bytes"
	"context"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

type greetingsBody struct {
	Items []greetingItem `json:"items"`
}

// enabledOf lists greetings as "id:enabled" for comparison.
func enabledOf(l greetingsBody) map[string]bool {
	out := map[string]bool{}
	for _, g := range l.Items {
		out[g.ID] = g.Enabled
	}
	return out
}

func TestGreetings(t *testing.T) {
	eachDataEnv(t, func(t *testing.T, e *env, data string) {
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		wav1, wav2 := testWAV(1, 8000, 800), testWAV(1, 16000, 1600)
		f1 := uploadFile(e, a.alice, "mine.wav", wav1, true)
		f2 := uploadFile(e, a.boss, "hers.wav", wav2, false)
		txt := uploadFile(e, a.alice, "notes.txt", []byte("not audio"), false)
		other := uploadFile(e, b.alice, "theirs.wav", wav1, false)

		var created struct {
			ID string `json:"id"`
		}
		if st := e.do("POST", "/api/user/greetings", a.alice, map[string]string{"file_id": f1}, &created); st != 201 || created.ID == "" {
			t.Fatalf("create greeting: status %d", st)
		}
		g1 := created.ID
		var l greetingsBody
		if st := e.do("GET", "/api/user/greetings", a.alice, nil, &l); st != 200 || len(l.Items) != 1 {
			t.Fatalf("list: status %d, %+v", st, l)
		}
		if g := l.Items[0]; g.ID != g1 || !g.Enabled || g.FileName != "mine.wav" || g.FileSize != int64(len(wav1)) || g.FileURL == nil {
			t.Errorf("greeting: %+v", g)
		} else if resp, body := e.raw("GET", *g.FileURL, a.alice, nil, nil); resp.StatusCode != 200 || !bytes.Equal(body, wav1) {
			t.Errorf("greeting's file_url %s: status %d", *g.FileURL, resp.StatusCode)
		}
		// The greeting's file is no longer a temporary upload.
		id1, _ := pbx.ParseID(f1)
		if f, err := e.db.File(context.Background(), a.tenant, id1); err != nil || f.Temporary {
			t.Errorf("greeting's file: %+v, %v", f, err)
		}

		// Only WAVs the PBX plays, and only the tenant's files.
		e.wantError("POST", "/api/user/greetings", a.alice, map[string]string{"file_id": txt}, 400, "VALIDATE_FAILED", "file_id")
		e.wantError("POST", "/api/user/greetings", a.alice, map[string]string{"file_id": other}, 400, "VALIDATE_FAILED", "file_id")
		e.wantError("POST", "/api/user/greetings", a.alice, map[string]string{"file_id": "nope"}, 400, "VALIDATE_FAILED", "file_id")

		// The administrator adds one for alice: it becomes the one callers hear.
		users := "/api/users/" + a.aliceID.String() + "/greetings"
		if st := e.do("POST", users, a.boss, map[string]string{"file_id": f2}, &created); st != 201 {
			t.Fatalf("admin create greeting: status %d", st)
		}
		g2 := created.ID
		if e.do("GET", users, a.boss, nil, &l); len(l.Items) != 2 || enabledOf(l)[g1] || !enabledOf(l)[g2] {
			t.Errorf("after second greeting: %+v", l)
		}
		e.wantError("GET", users, a.alice, nil, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/users/"+a.aliceID.String()+"/greetings", b.boss, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/users/"+a.aliceID.String()+"/greetings/"+g1+"/enable", b.boss, nil, 404, "NOT_FOUND", "")

		// Enable and disable, by the user and by the administrator.
		if st := e.do("POST", "/api/user/greetings/"+g1+"/enable", a.alice, nil, nil); st/100 != 2 {
			t.Fatalf("enable: status %d", st)
		}
		if e.do("GET", "/api/user/greetings", a.alice, nil, &l); !enabledOf(l)[g1] || enabledOf(l)[g2] {
			t.Errorf("after enable: %+v", l)
		}
		if st := e.do("POST", users+"/"+g1+"/disable", a.boss, nil, nil); st/100 != 2 {
			t.Fatalf("disable: status %d", st)
		}
		if e.do("GET", "/api/user/greetings", a.alice, nil, &l); enabledOf(l)[g1] || enabledOf(l)[g2] {
			t.Errorf("after disable: %+v", l)
		}
		// bob cannot touch alice's greetings.
		e.wantError("POST", "/api/user/greetings/"+g1+"/enable", a.bob, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/user/greetings/"+g1+"/destroy", a.bob, nil, 404, "NOT_FOUND", "")
		if e.do("GET", "/api/user/greetings", a.bob, nil, &l); len(l.Items) != 0 {
			t.Errorf("bob's greetings: %+v", l)
		}

		// Destroy: the greeting goes, its file stays.
		if st := e.do("POST", "/api/user/greetings/"+g2+"/destroy", a.alice, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: status %d", st)
		}
		if st := e.do("POST", users+"/"+g1+"/destroy", a.boss, nil, nil); st/100 != 2 {
			t.Fatalf("admin destroy: status %d", st)
		}
		if e.do("GET", "/api/user/greetings", a.alice, nil, &l); len(l.Items) != 0 {
			t.Errorf("after destroy: %+v", l)
		}
		e.wantError("POST", "/api/user/greetings/"+g1+"/enable", a.alice, nil, 404, "NOT_FOUND", "")
		var fi fileItem
		if st := e.do("GET", "/api/files/"+f2, a.boss, nil, &fi); st != 200 {
			t.Errorf("destroyed greeting's file: status %d", st)
		}
	})
}
