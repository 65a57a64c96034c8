package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestCDRs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
		answered := call.CDR{
			SessionID: db.NewID(), CallID: "c1@x", Caller: "101", CallerDomain: "a.test", CallerDisplayName: "Alice",
			Callee: "102", CalleeDomain: "a.test", CalleeDisplayName: "Bob",
			StartedAt: t0, RangAt: t0.Add(time.Second), AnsweredAt: t0.Add(3 * time.Second), EndedAt: t0.Add(63 * time.Second),
			Direction: call.ExtensionCall, EndReason: call.EndCallerDisconnected, Destination: "sip:102@127.0.0.1:5070", Duration: 60,
		}
		if err := db.CreateCDR(ctx, a, &answered); err != nil {
			t.Fatal(err)
		}
		busy := call.CDR{
			SessionID: db.NewID(), CallID: "c2@x", Caller: "103", CallerDomain: "a.test", Callee: "101", CalleeDomain: "a.test",
			StartedAt: t0.Add(time.Hour), EndedAt: t0.Add(time.Hour + time.Second), Direction: call.ExtensionCall, StatusCode: 486,
		}
		if err := db.CreateCDR(ctx, a, &busy); err != nil {
			t.Fatal(err)
		}
		other := call.CDR{SessionID: db.NewID(), CallID: "c3@x", Caller: "101", Callee: "102", StartedAt: t0, EndedAt: t0, Direction: call.ExtensionCall}
		if err := db.CreateCDR(ctx, b, &other); err != nil {
			t.Fatal(err)
		}

		got, err := db.CDR(ctx, a, answered.ID)
		if err != nil {
			t.Fatal(err)
		}
		answered.Tenant = a
		if diff := cmp.Diff(answered, got); diff != "" {
			t.Errorf("CDR (-want +got):\n%s", diff)
		}
		if _, err := db.CDR(ctx, b, answered.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("tenant b reads tenant a's cdr: %v", err)
		}

		list, total, err := db.ListCDRs(ctx, a, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || len(list) != 2 || list[0].ID != busy.ID {
			t.Fatalf("ListCDRs: total %d, %d items, first %v; want 2, newest (busy) first", total, len(list), list[0].ID)
		}
		f, err := query.Parse("status_code eq 486 and started_at gt '2026-11-25T06:30:00Z'")
		if err != nil {
			t.Fatal(err)
		}
		list, total, err = db.ListCDRs(ctx, a, store.ListOptions{Filter: f})
		if err != nil || total != 1 || list[0].ID != busy.ID {
			t.Fatalf("filtered ListCDRs: %d %v", total, err)
		}
		ob, err := query.ParseOrderBy("duration desc")
		if err != nil {
			t.Fatal(err)
		}
		list, _, err = db.ListCDRs(ctx, a, store.ListOptions{OrderBy: ob})
		if err != nil || list[0].ID != answered.ID {
			t.Fatalf("ordered ListCDRs: %v", err)
		}
		list, total, err = db.ListCDRs(ctx, a, store.ListOptions{Search: "bob"})
		if err != nil || total != 1 || list[0].ID != answered.ID {
			t.Fatalf("search ListCDRs: %d %v", total, err)
		}

		list, total, err = db.ListExtensionCDRs(ctx, a, "102", store.ListOptions{})
		if err != nil || total != 1 || list[0].ID != answered.ID {
			t.Fatalf("ListExtensionCDRs(102): %d %v", total, err)
		}
		if _, total, _ = db.ListExtensionCDRs(ctx, a, "101", store.ListOptions{}); total != 2 {
			t.Fatalf("ListExtensionCDRs(101): got %d, want 2", total)
		}
		if _, err := db.ExtensionCDR(ctx, a, "103", answered.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("103 reads a call it was not in: %v", err)
		}
		if _, err := db.ExtensionCDR(ctx, a, "101", answered.ID); err != nil {
			t.Errorf("ExtensionCDR: %v", err)
		}
		f, _ = query.Parse("nosuch eq 1")
		if _, _, err := db.ListCDRs(ctx, a, store.ListOptions{Filter: f}); pbx.ErrorField(err) != "filter" {
			t.Errorf("unknown field: %v", err)
		}
	})
}
