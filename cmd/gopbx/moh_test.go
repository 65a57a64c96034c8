package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// noRandom is an intn that fails the test: the play type draws nothing.
func noRandom(t *testing.T) func(int) int {
	return func(int) int {
		t.Helper()
		t.Error("random source used")
		return 0
	}
}

func TestPickMusic(t *testing.T) {
	day := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	for _, pt := range []store.MOHPlayType{store.MOHDefaultMusic, store.MOHRandomPerCall, store.MOHRandomPerDay} {
		if got := pickMusic(pt, 1, 0, day, noRandom(t)); got != -1 {
			t.Errorf("%s with no musics: got %d, want -1 (the system default)", pt, got)
		}
	}
	if got := pickMusic(store.MOHDefaultMusic, 1, 3, day, noRandom(t)); got != 0 {
		t.Errorf("DEFAULT_MUSIC: got %d, want 0", got)
	}

	// RANDOM_MUSIC_PER_CALL: each call draws from the random source.
	var asked []int
	draws := []int{2, 0, 1}
	intn := func(n int) int {
		asked = append(asked, n)
		return draws[len(asked)-1]
	}
	for i, want := range draws {
		if got := pickMusic(store.MOHRandomPerCall, 1, 3, day, intn); got != want {
			t.Errorf("RANDOM_MUSIC_PER_CALL call %d: got %d, want %d", i, got, want)
		}
	}
	if len(asked) != 3 || asked[0] != 3 {
		t.Errorf("random source asked for %v, want [3 3 3]", asked)
	}

	// RANDOM_MUSIC_PER_DAY: the same music all day, another on other days
	// and for other tenants.
	const n = 4
	first := pickMusic(store.MOHRandomPerDay, 1, n, day, noRandom(t))
	for _, h := range []int{0, 5, 23} {
		at := time.Date(2025, 3, 14, h, 59, 59, 0, time.UTC)
		if got := pickMusic(store.MOHRandomPerDay, 1, n, at, noRandom(t)); got != first {
			t.Errorf("RANDOM_MUSIC_PER_DAY at %s: got %d, want %d as at %s", at, got, first, day)
		}
	}
	seen := map[int]bool{}
	differ := false
	for d := range 60 {
		at := day.AddDate(0, 0, d)
		got := pickMusic(store.MOHRandomPerDay, 1, n, at, noRandom(t))
		if got < 0 || got >= n {
			t.Fatalf("RANDOM_MUSIC_PER_DAY on %s: got %d, out of [0, %d)", at, got, n)
		}
		seen[got] = true
		if pickMusic(store.MOHRandomPerDay, 2, n, at, noRandom(t)) != got {
			differ = true
		}
	}
	if len(seen) < n {
		t.Errorf("RANDOM_MUSIC_PER_DAY over 60 days picked only %v of %d musics", seen, n)
	}
	if !differ {
		t.Error("RANDOM_MUSIC_PER_DAY: two tenants hear the same music every day")
	}
}

func TestMusicOnHoldOpen(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	data := t.TempDir()
	tenant := func(domain string) pbx.TenantID {
		tn := pbx.Tenant{Name: domain, Domain: domain, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 10}
		if err := db.CreateTenant(ctx, &tn); err != nil {
			t.Fatal(err)
		}
		return tn.ID
	}
	a, b := tenant("a.test"), tenant("b.test")
	music := func(tn pbx.TenantID, name string) store.File {
		rel := filepath.Join("files", tn.String(), name)
		if err := os.MkdirAll(filepath.Join(data, filepath.Dir(rel)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, rel), []byte(name), 0o640); err != nil {
			t.Fatal(err)
		}
		f := store.File{Name: name, Size: int64(len(name)), MediaType: "audio/wav", Path: rel}
		if err := db.CreateFile(ctx, tn, &f); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateMOHMusic(ctx, tn, &store.MOHMusic{File: f.ID}); err != nil {
			t.Fatal(err)
		}
		return f
	}
	draw := 0
	now := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	h := &musicOnHold{ctx: ctx, store: db, data: data, prompts: prompts.New(data),
		now: func() time.Time { return now }, intn: func(int) int { return draw }, log: slog.New(slog.DiscardHandler)}
	read := func(tn pbx.TenantID) string {
		t.Helper()
		rc, err := h.Open(tn)
		if err != nil {
			t.Fatalf("Open(%s): %v", tn, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	set := func(tn pbx.TenantID, v store.MOHSettings) {
		if err := db.SetMOHSettings(ctx, tn, v); err != nil {
			t.Fatal(err)
		}
	}
	def, err := prompts.New("").Open(a, prompts.DefaultLang, "moh/default")
	if err != nil {
		t.Fatal(err)
	}
	defBytes, _ := io.ReadAll(def)
	def.Close()
	system := string(defBytes)

	// No musics: the system default.
	if got := read(a); got != system {
		t.Errorf("no musics: got %d bytes, want the system default", len(got))
	}
	jazz, rock, soul := music(a, "jazz.wav"), music(a, "rock.wav"), music(a, "soul.wav")
	if got := read(a); got != "jazz.wav" {
		t.Errorf("DEFAULT_MUSIC: got %q, want the first music", got)
	}
	// Another tenant's musics are not b's.
	if got := read(b); got != system {
		t.Errorf("other tenant: got %q, want the system default", got)
	}

	set(a, store.MOHSettings{Enabled: true, PlayType: store.MOHRandomPerCall})
	for draw = range 3 {
		want := []store.File{jazz, rock, soul}[draw].Name
		if got := read(a); got != want {
			t.Errorf("RANDOM_MUSIC_PER_CALL drawing %d: got %q, want %q", draw, got, want)
		}
	}

	set(a, store.MOHSettings{Enabled: true, PlayType: store.MOHRandomPerDay})
	want := []store.File{jazz, rock, soul}[pickMusic(store.MOHRandomPerDay, a, 3, now, nil)].Name
	for draw = range 3 {
		if got := read(a); got != want {
			t.Errorf("RANDOM_MUSIC_PER_DAY: got %q, want %q whatever the draw", got, want)
		}
	}

	// A music whose bytes are gone plays the default rather than nothing.
	set(a, store.MOHSettings{Enabled: true, PlayType: store.MOHDefaultMusic})
	if err := os.Remove(filepath.Join(data, jazz.Path)); err != nil {
		t.Fatal(err)
	}
	if got := read(a); got != system {
		t.Errorf("missing file: got %q, want the system default", got)
	}
	// A music whose file was deleted is skipped.
	if _, err := db.DeleteFile(ctx, a, jazz.ID); err != nil {
		t.Fatal(err)
	}
	if got := read(a); got != "rock.wav" {
		t.Errorf("deleted file: got %q, want the next music", got)
	}

	// Disabled: no music at all, whatever the tenant has.
	set(a, store.MOHSettings{Enabled: false, PlayType: store.MOHDefaultMusic})
	if rc, err := h.Open(a); !errors.Is(err, errMOHDisabled) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("disabled: got %v, want errMOHDisabled", err)
	}
	if got := read(b); got != system {
		t.Errorf("other tenant while a is disabled: got %q, want the system default", got)
	}
}
