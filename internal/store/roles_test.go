package store_test

import (
	"context"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestRolesCustomAndBuiltin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		r := store.Role{Name: "Helpdesk", Description: "First line", Permissions: []byte(`{"users":true}`)}
		if err := db.CreateRole(ctx, a, &r); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateRole(ctx, a, &store.Role{Name: "Helpdesk"}); pbx.ErrorCode(err) != pbx.ECONFLICT {
			t.Fatalf("duplicate role: %v", err)
		}
		if _, err := db.CustomRole(ctx, b, "Helpdesk"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("tenant b sees tenant a's role: %v", err)
		}
		builtins := []store.Role{{Name: pbx.RoleAdmin, Description: "admin"}, {Name: pbx.RoleStandardUser, Description: "user"}}
		list, total, err := db.ListRoles(ctx, a, builtins, store.ListOptions{})
		if err != nil || total != 3 || list[0].Name != pbx.RoleAdmin || !list[0].Builtin || list[2].Name != "Helpdesk" || list[2].Builtin {
			t.Fatalf("ListRoles = %+v %d %v", list, total, err)
		}
		f, _ := query.Parse("startswith(name,'help')")
		if list, total, err := db.ListRoles(ctx, a, builtins, store.ListOptions{Filter: f}); err != nil || total != 1 || list[0].Description != "First line" {
			t.Fatalf("filtered ListRoles = %+v %d %v", list, total, err)
		}
		if _, total, _ := db.ListRoles(ctx, b, builtins, store.ListOptions{}); total != 2 {
			t.Fatalf("tenant b lists %d roles, want 2", total)
		}

		u := pbx.User{Name: "alice", Email: "a@a.test", DisplayName: "Alice", Role: "Helpdesk", ExtensionNumber: "101", ExtensionPassword: "x", Enabled: true}
		if err := db.CreateUser(ctx, a, &u); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRole(ctx, a, "Helpdesk"); pbx.ErrorCode(err) != pbx.ECONFLICT {
			t.Fatalf("delete role in use: %v", err)
		}
		r.Name = "Support"
		if err := db.UpdateRole(ctx, a, "Helpdesk", &r); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.User(ctx, a, u.ID); got.Role != "Support" {
			t.Fatalf("user role after rename = %s", got.Role)
		}
		if n, _ := db.CountUsersWithRole(ctx, a, "Support"); n != 1 {
			t.Fatalf("CountUsersWithRole = %d", n)
		}
		if err := db.SetUserRole(ctx, a, u.ID, pbx.RoleStandardUser); err != nil {
			t.Fatal(err)
		}
		if err := db.SetUserRole(ctx, b, u.ID, pbx.RoleAdmin); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("SetUserRole through another tenant: %v", err)
		}
		if err := db.DeleteRole(ctx, a, "Support"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRole(ctx, a, "Support"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("second delete: %v", err)
		}
	})
}
