package store_test

import (
	"context"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func mustTenant(t *testing.T, db *store.DB, domain string) pbx.TenantID {
	t.Helper()
	tn := pbx.Tenant{Name: domain, Domain: domain, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 1000}
	if err := db.CreateTenant(context.Background(), &tn); err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

func TestUsersNamespaceAndIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		if err := db.CreateTenant(ctx, &pbx.Tenant{Name: "dup", Domain: "A.TEST", Timezone: "UTC"}); pbx.ErrorCode(err) != pbx.ECONFLICT {
			t.Fatalf("duplicate domain: got %v, want conflict", err)
		}
		u := pbx.User{Name: "alice", Email: "a@a.test", DisplayName: "Alice", Role: pbx.RoleStandardUser, ExtensionNumber: "101", ExtensionPassword: "x", Enabled: true}
		if err := db.CreateUser(ctx, a, &u); err != nil {
			t.Fatal(err)
		}
		// The same number in another tenant is fine.
		u2 := u
		if err := db.CreateUser(ctx, b, &u2); err != nil {
			t.Fatal(err)
		}
		// The same number in the same tenant is a conflict naming the field, and nothing is written.
		u3 := u
		u3.Name = "bob"
		err := db.CreateUser(ctx, a, &u3)
		if pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "extension_number" {
			t.Fatalf("duplicate number: got %v", err)
		}
		// A duplicate name rolls back the number it claimed.
		u4 := u
		u4.ExtensionNumber = "102"
		if err := db.CreateUser(ctx, a, &u4); pbx.ErrorCode(err) != pbx.ECONFLICT {
			t.Fatalf("duplicate name: got %v", err)
		}
		if _, err := db.Extension(ctx, a, "102"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("number 102 left behind after failed create: %v", err)
		}
		if _, err := db.User(ctx, b, u.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("tenant b sees tenant a's user: %v", err)
		}
		got, err := db.UserByExtension(ctx, a, "101")
		if err != nil || got.ID != u.ID {
			t.Fatalf("UserByExtension = %v, %v", got.ID, err)
		}
		f, _ := query.Parse("startswith(display_name,'ali') and enabled eq true")
		list, total, err := db.ListUsers(ctx, a, store.ListOptions{Filter: f})
		if err != nil || total != 1 || len(list) != 1 {
			t.Fatalf("ListUsers = %d %d %v", len(list), total, err)
		}
		f, _ = query.Parse("bogus eq 1")
		if _, _, err := db.ListUsers(ctx, a, store.ListOptions{Filter: f}); pbx.ErrorField(err) != "filter" {
			t.Fatalf("unknown field: %v", err)
		}
		if err := db.DeleteTenant(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := db.User(ctx, a, u.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("user survived its tenant: %v", err)
		}
	})
}
