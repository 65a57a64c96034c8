package store_test

import (
	"context"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestGroupsMembersAndIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		alice := pbx.User{Name: "alice", Email: "a@a.test", DisplayName: "Alice", Role: pbx.RoleStandardUser, ExtensionNumber: "101", ExtensionPassword: "x", Enabled: true}
		if err := db.CreateUser(ctx, a, &alice); err != nil {
			t.Fatal(err)
		}
		bella := alice
		if err := db.CreateUser(ctx, b, &bella); err != nil {
			t.Fatal(err)
		}
		g := store.Group{Name: "sales", Description: "Sales"}
		if err := db.CreateGroup(ctx, a, &g); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateGroup(ctx, a, &store.Group{Name: "sales"}); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "name" {
			t.Fatalf("duplicate name: %v", err)
		}
		if err := db.CreateGroup(ctx, b, &store.Group{Name: "sales"}); err != nil {
			t.Fatalf("same name in another tenant: %v", err)
		}
		got, err := db.Group(ctx, a, g.ID)
		if err != nil || got.Name != "sales" || string(got.OutboundCallerIDs) != "[]" {
			t.Fatalf("Group = %+v, %v", got, err)
		}
		if _, err := db.Group(ctx, b, g.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("tenant b sees tenant a's group: %v", err)
		}
		if err := db.AddGroupMember(ctx, a, g.ID, "101"); err != nil {
			t.Fatal(err)
		}
		if err := db.AddGroupMember(ctx, a, g.ID, "101"); pbx.ErrorCode(err) != pbx.ECONFLICT {
			t.Fatalf("second add: %v", err)
		}
		if err := db.AddGroupMember(ctx, b, g.ID, "101"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("add through another tenant: %v", err)
		}
		if err := db.AddGroupMember(ctx, a, g.ID, "999"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("add unknown number: %v", err)
		}
		members, err := db.GroupMembers(ctx, a, g.ID)
		if err != nil || len(members) != 1 || members[0].ID != alice.ID {
			t.Fatalf("GroupMembers = %v, %v", members, err)
		}
		if _, err := db.GroupMembers(ctx, b, g.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("members through another tenant: %v", err)
		}
		if m, err := db.GroupMember(ctx, a, g.ID, "101"); err != nil || m.ID != alice.ID {
			t.Fatalf("GroupMember = %v, %v", m.ID, err)
		}
		// Deleting the user takes it out of the group.
		if err := db.DeleteUser(ctx, a, alice.ID); err != nil {
			t.Fatal(err)
		}
		if members, _ := db.GroupMembers(ctx, a, g.ID); len(members) != 0 {
			t.Fatalf("deleted user still a member: %v", members)
		}
		if err := db.RemoveGroupMember(ctx, a, g.ID, "101"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("remove non-member: %v", err)
		}
		g.Description = "Sellers"
		if err := db.UpdateGroup(ctx, a, &g); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateGroup(ctx, b, &g); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("update through another tenant: %v", err)
		}
		list, total, err := db.ListGroups(ctx, a, store.ListOptions{})
		if err != nil || total != 1 || list[0].Description != "Sellers" {
			t.Fatalf("ListGroups = %v %d %v", list, total, err)
		}
		if err := db.DeleteGroup(ctx, b, g.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("delete through another tenant: %v", err)
		}
		if err := db.DeleteGroup(ctx, a, g.ID); err != nil {
			t.Fatal(err)
		}
	})
}
