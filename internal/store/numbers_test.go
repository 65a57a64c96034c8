package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestHolidaysStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		h := store.Holiday{Name: "NY", Region: "US", Spec: []byte(`{"month_start":1}`)}
		if err := db.CreateHoliday(ctx, a, &h); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateHoliday(ctx, a, &store.Holiday{Name: "NY"}); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "name" {
			t.Fatalf("duplicate: %v", err)
		}
		if err := db.CreateHoliday(ctx, b, &store.Holiday{Name: "NY"}); err != nil {
			t.Fatalf("same name in another tenant: %v", err)
		}
		if err := db.CreateHoliday(ctx, a, &store.Holiday{}); pbx.ErrorField(err) != "name" {
			t.Fatalf("no name: %v", err)
		}
		if got, err := db.Holiday(ctx, a, h.ID); err != nil || string(got.Spec) != `{"month_start":1}` || got.Region != "US" {
			t.Fatalf("Holiday = %+v, %v", got, err)
		}
		if _, err := db.Holiday(ctx, b, h.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("other tenant: %v", err)
		}
		h.Name = "New Year"
		if err := db.UpdateHoliday(ctx, a, &h); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateHoliday(ctx, b, &h); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("update from other tenant: %v", err)
		}
		if hs, n, err := db.ListHolidays(ctx, a, store.ListOptions{Top: 10}); err != nil || n != 1 || hs[0].Name != "New Year" {
			t.Fatalf("list: %+v %d %v", hs, n, err)
		}
		if err := db.DeleteHoliday(ctx, b, h.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("delete from other tenant: %v", err)
		}
		if err := db.DeleteHoliday(ctx, a, h.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNumberListsStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		for _, l := range []store.NumberList{store.BlacklistedNumbers, store.DisallowedCodes, store.EmergencyNumbers} {
			exp := time.UnixMilli(1893456000000).UTC()
			n := store.NumberEntry{Number: "900", ExpireAt: exp, Description: "premium"}
			if err := db.CreateNumber(ctx, l, a, &n); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateNumber(ctx, l, a, &store.NumberEntry{Number: "900"}); pbx.ErrorCode(err) != pbx.ECONFLICT {
				t.Fatalf("%s duplicate: %v", l, err)
			}
			if err := db.CreateNumber(ctx, l, b, &store.NumberEntry{Number: "900"}); err != nil {
				t.Fatalf("%s other tenant: %v", l, err)
			}
			got, err := db.Number(ctx, l, a, n.ID)
			if err != nil || got.Number != "900" || !got.ExpireAt.Equal(exp) || got.Description != "premium" {
				t.Fatalf("%s Number = %+v, %v", l, got, err)
			}
			if _, err := db.Number(ctx, l, b, n.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
				t.Fatalf("%s seen by other tenant: %v", l, err)
			}
			n.Number = "911"
			if err := db.UpdateNumber(ctx, l, a, &n); err != nil {
				t.Fatal(err)
			}
			if ns, total, err := db.ListNumbers(ctx, l, a, store.ListOptions{Top: 10}); err != nil || total != 1 || ns[0].Number != "911" {
				t.Fatalf("%s list: %+v %d %v", l, ns, total, err)
			}
			if err := db.DeleteNumber(ctx, l, b, n.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
				t.Fatalf("%s delete from other tenant: %v", l, err)
			}
			if err := db.DeleteNumber(ctx, l, a, n.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateNumber(ctx, "users", a, &store.NumberEntry{Number: "1"}); err == nil {
			t.Fatal("unknown list accepted")
		}
	})
}
