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

func TestDealers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := store.Dealer{Name: "acme", PasswordHash: "h", Enabled: true, Level: "DISTRIBUTOR", Email: "d@acme.test",
			MaxTenants: 2, MaxExtensions: 100, TenantFullAccess: true}
		if err := db.CreateDealer(ctx, &d); err != nil {
			t.Fatal(err)
		}
		dup := d
		if err := db.CreateDealer(ctx, &dup); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "name" {
			t.Fatalf("duplicate name: got %v", err)
		}
		d.DisplayName, d.Email = "Acme", ""
		if err := db.UpdateDealer(ctx, &d); err != nil {
			t.Fatal(err)
		}
		got, err := db.Dealer(ctx, d.ID)
		if err != nil || got.DisplayName != "Acme" || got.Email != "" || got.Level != "DISTRIBUTOR" {
			t.Fatalf("Dealer = %+v, %v", got, err)
		}
		f, _ := query.Parse("level eq 'DISTRIBUTOR'")
		list, total, err := db.ListDealers(ctx, store.ListOptions{Filter: f})
		if err != nil || total != 1 || len(list) != 1 {
			t.Fatalf("ListDealers = %d %d %v", len(list), total, err)
		}

		a, b, c := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test"), mustTenant(t, db, "c.test")
		for _, tn := range []pbx.TenantID{a, b, a} {
			if err := db.AssignTenant(ctx, tn, d.ID); err != nil {
				t.Fatalf("assign %v: %v", tn, err)
			}
		}
		if err := db.AssignTenant(ctx, c, d.ID); pbx.ErrorCode(err) != pbx.EFORBIDDEN {
			t.Fatalf("assign over max_tenants: got %v", err)
		}
		if err := db.AssignTenant(ctx, 12345, d.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("assign unknown tenant: got %v", err)
		}
		if err := db.AssignTenant(ctx, c, 12345); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("assign unknown dealer: got %v", err)
		}
		ds, err := db.TenantDealers(ctx, a)
		if err != nil || len(ds) != 1 || ds[0].ID != d.ID {
			t.Fatalf("TenantDealers = %v, %v", ds, err)
		}
		if err := db.UnassignTenant(ctx, b, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.UnassignTenant(ctx, b, d.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("unassign twice: got %v", err)
		}

		exp := time.Now().Add(time.Hour)
		tok := store.Token{AccessHash: "d", RefreshHash: "dr", Kind: store.PrincipalDealer, Principal: d.ID, Role: pbx.RoleDealer,
			ExpiresAt: exp, RefreshExpiresAt: exp}
		if err := db.CreateToken(ctx, &tok); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteDealer(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Dealer(ctx, d.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("deleted dealer: %v", err)
		}
		if _, err := db.TokenByAccess(ctx, "d"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("deleted dealer's session survived: %v", err)
		}
		if ds, _ := db.TenantDealers(ctx, a); len(ds) != 0 {
			t.Fatalf("assignment survived its dealer: %v", ds)
		}
		if _, err := db.Tenant(ctx, a); err != nil {
			t.Fatalf("tenant went with its dealer: %v", err)
		}
	})
}
