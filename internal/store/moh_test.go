package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestMOHStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")

		// Settings: PortSIP's defaults until written, per tenant.
		if got, err := db.MOHSettings(ctx, a); err != nil || got != store.DefaultMOHSettings() {
			t.Fatalf("default settings = %+v, %v; want %+v", got, err, store.DefaultMOHSettings())
		}
		want := store.MOHSettings{Enabled: false, PlayType: store.MOHRandomPerDay}
		if err := db.SetMOHSettings(ctx, a, want); err != nil {
			t.Fatal(err)
		}
		if got, err := db.MOHSettings(ctx, a); err != nil || got != want {
			t.Errorf("settings = %+v, %v; want %+v", got, err, want)
		}
		if got, _ := db.MOHSettings(ctx, b); got != store.DefaultMOHSettings() {
			t.Errorf("other tenant's settings = %+v, want the defaults", got)
		}
		if err := db.SetMOHSettings(ctx, a, store.MOHSettings{PlayType: "LOUD"}); pbx.ErrorCode(err) != pbx.EINVALID || pbx.ErrorField(err) != "play_type" {
			t.Errorf("unknown play type: %v", err)
		}

		// Musics.
		file := func(tenant pbx.TenantID, name string) store.File {
			f := store.File{Name: name, Size: 10, MediaType: "audio/wav", SHA256: "ab", Path: "files/" + name}
			if err := db.CreateFile(ctx, tenant, &f); err != nil {
				t.Fatal(err)
			}
			return f
		}
		f1, f2, fb := file(a, "one.wav"), file(a, "two.wav"), file(b, "b.wav")
		m1 := store.MOHMusic{File: f1.ID}
		m2 := store.MOHMusic{File: f2.ID}
		mb := store.MOHMusic{File: fb.ID}
		for _, c := range []struct {
			tenant pbx.TenantID
			m      *store.MOHMusic
		}{{a, &m1}, {a, &m2}, {b, &mb}} {
			if err := db.CreateMOHMusic(ctx, c.tenant, c.m); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateMOHMusic(ctx, a, &store.MOHMusic{File: f1.ID}); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "file_id" {
			t.Errorf("same file twice: %v", err)
		}
		if got, err := db.MOHMusic(ctx, a, m1.ID); err != nil || got.File != f1.ID || got.Tenant != a {
			t.Errorf("MOHMusic = %+v, %v", got, err)
		}
		if _, err := db.MOHMusic(ctx, b, m1.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("other tenant's music: %v", err)
		}
		ids := func(ms []store.MOHMusic) []pbx.ID {
			var out []pbx.ID
			for _, m := range ms {
				out = append(out, m.ID)
			}
			return out
		}
		if got, err := db.MOHMusics(ctx, a); err != nil || !cmp.Equal(ids(got), []pbx.ID{m1.ID, m2.ID}) {
			t.Errorf("MOHMusics(a) = %v, %v; want [%s %s]", ids(got), err, m1.ID, m2.ID)
		}
		if got, err := db.MOHMusics(ctx, b); err != nil || !cmp.Equal(ids(got), []pbx.ID{mb.ID}) {
			t.Errorf("MOHMusics(b) = %v, %v; want [%s]", ids(got), err, mb.ID)
		}
		names := func(fs []store.File) []string {
			var out []string
			for _, f := range fs {
				out = append(out, f.Name)
			}
			return out
		}
		// A deleted file drops out of what calls hear.
		if _, err := db.DeleteFile(ctx, a, f1.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := db.MOHMusicFiles(ctx, a); err != nil || !cmp.Equal(names(got), []string{"two.wav"}) {
			t.Errorf("MOHMusicFiles(a) = %v, %v; want [two.wav]", names(got), err)
		}

		if err := db.DeleteMOHMusic(ctx, b, m2.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("delete other tenant's music: %v", err)
		}
		if err := db.DeleteMOHMusic(ctx, a, m2.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteMOHMusic(ctx, a, m2.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("delete twice: %v", err)
		}
		if _, err := db.File(ctx, a, f2.ID); err != nil {
			t.Errorf("deleted music's file: %v", err)
		}
		if got, _ := db.MOHMusicFiles(ctx, b); !cmp.Equal(names(got), []string{"b.wav"}) {
			t.Errorf("MOHMusicFiles(b) = %v, want [b.wav]", names(got))
		}
	})
}
