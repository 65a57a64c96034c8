package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
	"github.com/gopbx/gopbx/internal/store"
)

// Music on hold: which WAV a held call hears (call.Deps.MusicOnHold).
//
// The tenant's /moh_server settings (store.MOHSettings) and musics
// (store.MOHMusicFiles) are read at each hold, so an administrator's change
// applies to the next call put on hold. With music on hold disabled, Open
// fails with errMOHDisabled: the B2BUA then plays nothing and unmutes the
// holding phone, so the held caller hears what that phone sends (its own
// music, or silence), as when no music is configured at all. Otherwise
// pickMusic chooses among the tenant's musics, and the system's default
// music (the prompt "moh/default", which a tenant or the system may
// replace under <data>/prompts) plays when the tenant has none or the
// chosen file cannot be opened.

// errMOHDisabled is Open's error for a tenant whose music on hold is off.
var errMOHDisabled = errors.New("music on hold disabled")

// mohLookupTimeout bounds the store reads of one hold.
const mohLookupTimeout = 5 * time.Second

// mohStore is what music on hold reads of the store.
type mohStore interface {
	MOHSettings(ctx context.Context, tenant pbx.TenantID) (store.MOHSettings, error)
	MOHMusicFiles(ctx context.Context, tenant pbx.TenantID) ([]store.File, error)
	Tenant(ctx context.Context, id pbx.TenantID) (pbx.Tenant, error)
}

var _ mohStore = (*store.DB)(nil)

// musicOnHold opens the music a tenant's held calls hear. It is safe for
// concurrent use.
type musicOnHold struct {
	// ctx is the server's lifetime: Deps.MusicOnHold has no context of its
	// own, and a lookup must not outlive the server.
	ctx     context.Context
	store   mohStore
	data    string // the data folder, which files' paths are relative to
	prompts *prompts.Library
	now     func() time.Time
	intn    func(n int) int // a random int in [0, n)
	log     *slog.Logger
}

// musicOnHold returns call.Deps.MusicOnHold for the server running until
// ctx ends.
func (m *Main) musicOnHold(ctx context.Context) func(pbx.TenantID) (io.ReadCloser, error) {
	h := &musicOnHold{ctx: ctx, store: m.DB, data: m.Config.Data, prompts: prompts.New(m.Config.Data),
		now: m.Now, intn: rand.IntN, log: m.Log.With("component", "moh")}
	return h.Open
}

// Open returns the WAV file tenant's held call hears, which the caller
// closes; a file under the data folder seeks, so that it loops. It fails
// with errMOHDisabled when the tenant turned music on hold off, and with
// the store's error when the settings cannot be read.
func (h *musicOnHold) Open(tenant pbx.TenantID) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(h.ctx, mohLookupTimeout)
	defer cancel()
	set, err := h.store.MOHSettings(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if !set.Enabled {
		return nil, errMOHDisabled
	}
	files, err := h.store.MOHMusicFiles(ctx, tenant)
	if err != nil {
		return nil, err
	}
	now := h.now()
	if set.PlayType == store.MOHRandomPerDay && len(files) > 1 {
		now = now.In(h.zone(ctx, tenant))
	}
	if i := pickMusic(set.PlayType, tenant, len(files), now, h.intn); i >= 0 {
		rc, err := h.openFile(files[i])
		if err == nil {
			return rc, nil
		}
		h.log.Warn("music on hold unreadable, playing the default", "tenant", tenant, "file_id", files[i].ID, "error", err)
	}
	return h.prompts.Open(tenant, prompts.DefaultLang, "moh/default")
}

// openFile opens a tenant's file under the data folder; os.OpenInRoot
// keeps a stored path from leading out of it.
func (h *musicOnHold) openFile(f store.File) (io.ReadCloser, error) {
	if h.data == "" {
		return nil, fmt.Errorf("open %s: no data folder", f.Path)
	}
	return os.OpenInRoot(h.data, f.Path)
}

// zone is tenant's time zone, whose midnight starts a new day of
// RANDOM_MUSIC_PER_DAY; UTC when it is unknown.
func (h *musicOnHold) zone(ctx context.Context, tenant pbx.TenantID) *time.Location {
	t, err := h.store.Tenant(ctx, tenant)
	if err != nil || t.Timezone == "" {
		return time.UTC
	}
	tz, err := time.LoadLocation(t.Timezone)
	if err != nil {
		return time.UTC
	}
	return tz
}

// pickMusic returns the index, among tenant's n musics (oldest first), of
// the one a call put on hold at now hears under play type t, or -1 for the
// system's default music when the tenant has none:
//
//   - DEFAULT_MUSIC plays the first.
//   - RANDOM_MUSIC_PER_CALL draws one with intn (a random int in [0, n)).
//   - RANDOM_MUSIC_PER_DAY hashes tenant and now's date (in now's
//     location), so every call of a day hears the same music and each
//     tenant its own; adding or deleting a music may change the day's.
func pickMusic(t store.MOHPlayType, tenant pbx.TenantID, n int, now time.Time, intn func(int) int) int {
	if n <= 0 {
		return -1
	}
	switch t {
	case store.MOHRandomPerCall:
		return intn(n)
	case store.MOHRandomPerDay:
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%s", tenant, now.Format(time.DateOnly))
		return int(h.Sum64() % uint64(n))
	}
	return 0
}
