package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestVoicemails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		const box, other = pbx.ID(11), pbx.ID(12)
		base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		for i, sender := range []string{"14155550123", "102", "103"} {
			v := store.Voicemail{User: box, Sender: sender, SenderDisplayName: "S " + sender, Duration: time.Duration(i+1) * time.Second,
				Path: "voicemail/x.wav", Size: 100, CreatedAt: base.Add(time.Duration(i) * time.Hour)}
			if err := db.CreateVoicemail(ctx, a, &v); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateVoicemail(ctx, a, &store.Voicemail{User: other, Sender: "1", Path: "p", CreatedAt: base}); err != nil {
			t.Fatal(err)
		}
		list, n, err := db.ListVoicemails(ctx, a, box, store.ListOptions{})
		if err != nil || n != 3 || list[0].Sender != "103" || list[2].Duration != time.Second {
			t.Fatalf("list: %d %+v %v", n, list, err)
		}
		if got, _, _ := db.ListVoicemails(ctx, b, box, store.ListOptions{}); len(got) != 0 {
			t.Fatalf("another tenant sees the box: %+v", got)
		}
		if err := db.SetVoicemailRead(ctx, a, box, list[1].ID, true); err != nil {
			t.Fatal(err)
		}
		if err := db.SetVoicemailRead(ctx, b, box, list[1].ID, true); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("other tenant marks read: %v", err)
		}
		if u, r, err := db.CountVoicemails(ctx, a, box); err != nil || u != 2 || r != 1 {
			t.Fatalf("count: %d new %d old, %v", u, r, err)
		}
		unread, _, err := db.ListVoicemails(ctx, a, box, store.ListOptions{Filter: mustFilter(t, "status eq 'UNREAD' and duration ge 2")})
		if err != nil || len(unread) != 1 || unread[0].Sender != "103" {
			t.Fatalf("filtered: %+v %v", unread, err)
		}
		mb, err := db.Mailbox(ctx, a, box)
		if err != nil || len(mb) != 3 || mb[0].Sender != "14155550123" {
			t.Fatalf("mailbox: %+v %v", mb, err)
		}
		if _, err := db.DeleteVoicemail(ctx, a, other, mb[0].ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("delete from another box: %v", err)
		}
		if v, err := db.DeleteVoicemail(ctx, a, box, mb[0].ID); err != nil || v.Path != "voicemail/x.wav" {
			t.Fatalf("delete: %+v %v", v, err)
		}
		old, err := db.ExpiredVoicemails(ctx, a, base.Add(90*time.Minute), 10)
		if err != nil || len(old) != 2 { // 102 of box and other's
			t.Fatalf("expired: %+v %v", old, err)
		}
		if old, _ := db.ExpiredVoicemails(ctx, b, base.Add(90*time.Minute), 10); len(old) != 0 {
			t.Fatalf("expired of another tenant: %+v", old)
		}
		if ts, err := db.VoicemailTenants(ctx); err != nil || len(ts) != 1 || ts[0] != a {
			t.Fatalf("voicemail tenants: %v %v", ts, err)
		}
	})
}

func TestFilesUploadsGreetings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		f := store.File{Name: "hello.wav", Size: 3200, MediaType: "audio/wav", SHA256: "ab12", Path: "files/1", Temporary: true}
		if err := db.CreateFile(ctx, a, &f); err != nil {
			t.Fatal(err)
		}
		if _, err := db.File(ctx, b, f.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("other tenant's file: %v", err)
		}
		if got, err := db.FileByDigest(ctx, a, "ab12"); err != nil || got.ID != f.ID {
			t.Fatalf("by digest: %+v %v", got, err)
		}
		if err := db.SetFileTemporary(ctx, a, f.ID, false); err != nil {
			t.Fatal(err)
		}
		if list, n, err := db.ListFiles(ctx, a, store.ListOptions{Filter: mustFilter(t, "startswith(name,'hello')")}); err != nil || n != 1 || list[0].Temporary {
			t.Fatalf("files: %+v %v", list, err)
		}
		u := store.Upload{Name: "big.wav", TokenHash: "h", Path: "uploads/1"}
		if err := db.CreateUpload(ctx, a, &u); err != nil {
			t.Fatal(err)
		}
		if err := db.SetUploadSize(ctx, a, u.ID, 4096); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Upload(ctx, a, u.ID); err != nil || got.Size != 4096 {
			t.Fatalf("upload: %+v %v", got, err)
		}
		if err := db.DeleteUpload(ctx, b, u.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("other tenant deletes upload: %v", err)
		}
		g1 := store.Greeting{User: 5, File: f.ID, Enabled: true}
		g2 := store.Greeting{User: 5, File: f.ID, Enabled: true}
		for _, g := range []*store.Greeting{&g1, &g2} {
			if err := db.CreateGreeting(ctx, a, g); err != nil {
				t.Fatal(err)
			}
		}
		gs, err := db.Greetings(ctx, a, 5)
		if err != nil || len(gs) != 2 || gs[0].Enabled || !gs[1].Enabled {
			t.Fatalf("greetings after two enabled creates: %+v %v", gs, err)
		}
		if err := db.EnableGreeting(ctx, a, 5, g1.ID, true); err != nil {
			t.Fatal(err)
		}
		if gs, _ = db.Greetings(ctx, a, 5); !gs[0].Enabled || gs[1].Enabled {
			t.Fatalf("after enabling the first: %+v", gs)
		}
		if err := db.DeleteGreeting(ctx, a, 5, g2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.DeleteFile(ctx, a, f.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func mustFilter(t *testing.T, s string) query.Expr {
	t.Helper()
	f, err := query.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
