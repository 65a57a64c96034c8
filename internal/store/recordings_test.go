package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestRecordings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
		alice, bob, carol := db.NewID(), db.NewID(), db.NewID()
		mixed := store.Recording{
			SessionID: db.NewID(), CDR: db.NewID(), Caller: "101", Callee: "102", CallerUser: alice, CalleeUser: bob,
			StartedAt: t0, EndedAt: t0.Add(time.Minute), Duration: 59500 * time.Millisecond, Format: store.RecordingMixed,
			Files: []store.RecordingFile{{Path: "recordings/1/2026-11-25/1.wav", Size: 960044}},
		}
		dual := store.Recording{
			SessionID: db.NewID(), CDR: db.NewID(), Caller: "+15550100", Callee: "103", CalleeUser: carol,
			StartedAt: t0.Add(time.Hour), EndedAt: t0.Add(time.Hour + 10*time.Second), Duration: 10 * time.Second, Format: store.RecordingDualTrack,
			Files: []store.RecordingFile{{Path: "recordings/1/2026-11-25/2-a.wav", Size: 160044}, {Path: "recordings/1/2026-11-25/2-b.wav", Size: 160044}},
		}
		for _, r := range []*store.Recording{&mixed, &dual} {
			if err := db.CreateRecording(ctx, a, r); err != nil {
				t.Fatal(err)
			}
		}
		other := store.Recording{SessionID: db.NewID(), Caller: "101", Callee: "102", CallerUser: alice, StartedAt: t0, EndedAt: t0, Format: store.RecordingMixed}
		if err := db.CreateRecording(ctx, b, &other); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateRecording(ctx, a, &store.Recording{Format: "STEREO"}); pbx.ErrorCode(err) != pbx.EINVALID {
			t.Errorf("unknown format: got %v, want EINVALID", err)
		}

		got, err := db.Recording(ctx, a, mixed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(mixed, got); diff != "" {
			t.Errorf("Recording (-want +got):\n%s", diff)
		}
		if got.Size() != 960044 || dual.Size() != 320088 {
			t.Errorf("sizes %d %d", got.Size(), dual.Size())
		}
		if _, err := db.Recording(ctx, b, mixed.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("tenant b reads tenant a's recording: %v", err)
		}

		list, total, err := db.ListRecordings(ctx, a, store.ListOptions{})
		if err != nil || total != 2 || len(list) != 2 || list[0].ID != dual.ID {
			t.Fatalf("ListRecordings: %d %v (%v), want 2, newest first", total, list, err)
		}
		f, err := query.Parse("duration gt 30 and started_at lt '2026-11-25T06:30:00Z'")
		if err != nil {
			t.Fatal(err)
		}
		list, total, err = db.ListRecordings(ctx, a, store.ListOptions{Filter: f})
		if err != nil || total != 1 || list[0].ID != mixed.ID {
			t.Fatalf("filtered ListRecordings: %d %v", total, err)
		}
		ob, _ := query.ParseOrderBy("started_at")
		list, _, err = db.ListRecordings(ctx, a, store.ListOptions{OrderBy: ob})
		if err != nil || list[0].ID != mixed.ID {
			t.Fatalf("ordered ListRecordings: %v", err)
		}
		if bad, _ := query.Parse("path eq 'x'"); bad != nil {
			if _, _, err := db.ListRecordings(ctx, a, store.ListOptions{Filter: bad}); pbx.ErrorCode(err) != pbx.EINVALID {
				t.Errorf("filter on an unknown field: %v", err)
			}
		}

		// Each user sees the recordings of their own calls only.
		for _, c := range []struct {
			user pbx.ID
			want []pbx.ID
		}{{alice, []pbx.ID{mixed.ID}}, {bob, []pbx.ID{mixed.ID}}, {carol, []pbx.ID{dual.ID}}, {db.NewID(), nil}} {
			list, total, err := db.ListUserRecordings(ctx, a, c.user, store.ListOptions{})
			var ids []pbx.ID
			for _, r := range list {
				ids = append(ids, r.ID)
			}
			if err != nil || total != len(c.want) || !cmp.Equal(ids, c.want) {
				t.Errorf("ListUserRecordings(%v): %v (%d, %v), want %v", c.user, ids, total, err, c.want)
			}
		}
		if _, err := db.UserRecording(ctx, a, carol, mixed.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("carol reads alice's recording: %v", err)
		}
		if _, err := db.DeleteUserRecording(ctx, a, carol, mixed.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("carol deletes alice's recording: %v", err)
		}
		del, err := db.DeleteUserRecording(ctx, a, carol, dual.ID)
		if err != nil || len(del.Files) != 2 {
			t.Fatalf("DeleteUserRecording: %+v %v", del, err)
		}
		if _, err := db.DeleteRecording(ctx, b, mixed.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("tenant b deletes tenant a's recording: %v", err)
		}
		if _, err := db.DeleteRecording(ctx, a, mixed.ID); err != nil {
			t.Fatal(err)
		}
		if _, total, _ := db.ListRecordings(ctx, a, store.ListOptions{}); total != 0 {
			t.Errorf("after deletes: %d recordings", total)
		}
	})
}
