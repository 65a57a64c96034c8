package store_test

import (
	"context"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestIVRsStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		u := pbx.User{Name: "alice", Enabled: true, DisplayName: "Alice", Role: pbx.Role("StandardUser"), ExtensionNumber: "101", ExtensionPassword: "x"}
		if err := db.CreateUser(ctx, a, &u); err != nil {
			t.Fatal(err)
		}
		v := store.IVR{Name: "main", ExtensionNumber: "800", Settings: []byte(`{"dtmf_interval":2}`)}
		if err := db.CreateIVR(ctx, a, &v); err != nil {
			t.Fatal(err)
		}
		// The namespace is shared with users, both ways.
		if err := db.CreateIVR(ctx, a, &store.IVR{Name: "other", ExtensionNumber: "101"}); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "extension_number" {
			t.Fatalf("IVR on a user's number: %v", err)
		}
		u2 := pbx.User{Name: "bob", Enabled: true, DisplayName: "Bob", Role: pbx.Role("StandardUser"), ExtensionNumber: "800", ExtensionPassword: "x"}
		if err := db.CreateUser(ctx, a, &u2); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "extension_number" {
			t.Fatalf("user on an IVR's number: %v", err)
		}
		if err := db.CreateIVR(ctx, a, &store.IVR{Name: "main", ExtensionNumber: "801"}); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "name" {
			t.Fatalf("duplicate name: %v", err)
		}
		// The failed create left no claim on 801.
		if _, err := db.Extension(ctx, a, "801"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("801 after a failed create: %v", err)
		}
		// Another tenant has its own namespace.
		if err := db.CreateIVR(ctx, b, &store.IVR{Name: "main", ExtensionNumber: "800"}); err != nil {
			t.Fatalf("other tenant: %v", err)
		}
		if e, err := db.Extension(ctx, a, "800"); err != nil || e.Type != pbx.ExtensionVirtualReceptionist || e.Owner != v.ID {
			t.Fatalf("Extension(800) = %+v, %v", e, err)
		}
		for _, c := range []struct {
			prefix string
			want   bool
		}{{"8", true}, {"80", true}, {"800", false}, {"1", true}, {"9", false}} {
			if got, err := db.HasLongerExtension(ctx, a, c.prefix); err != nil || got != c.want {
				t.Errorf("HasLongerExtension(%q) = %v, %v; want %v", c.prefix, got, err, c.want)
			}
		}
		got, err := db.IVRByExtension(ctx, a, "800")
		if err != nil || got.ID != v.ID || string(got.Settings) != `{"dtmf_interval":2}` {
			t.Fatalf("IVRByExtension = %+v, %v", got, err)
		}
		if _, err := db.IVR(ctx, b, v.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("other tenant's IVR: %v", err)
		}

		// Moving the number moves the claim.
		v.ExtensionNumber = "810"
		if err := db.UpdateIVR(ctx, a, &v); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Extension(ctx, a, "800"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("old number still claimed: %v", err)
		}
		v.ExtensionNumber = "101"
		if err := db.UpdateIVR(ctx, a, &v); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "extension_number" {
			t.Fatalf("update onto a user's number: %v", err)
		}
		if got, _ := db.IVR(ctx, a, v.ID); got.ExtensionNumber != "810" {
			t.Fatalf("failed update changed the number to %q", got.ExtensionNumber)
		}
		v.ExtensionNumber = "810"
		if l, n, err := db.ListIVRs(ctx, a, store.ListOptions{Search: "mai"}); err != nil || n != 1 || l[0].ID != v.ID {
			t.Fatalf("list: %+v %d %v", l, n, err)
		}

		// Action URLs.
		au := store.ActionURL{IVR: v.ID, Settings: []byte(`{"url":"http://x"}`)}
		if err := db.CreateActionURL(ctx, a, &au); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateActionURL(ctx, b, &store.ActionURL{IVR: v.ID}); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("action url on another tenant's IVR: %v", err)
		}
		au.Settings = []byte(`{"url":"http://y"}`)
		if err := db.UpdateActionURL(ctx, a, &au); err != nil {
			t.Fatal(err)
		}
		if got, err := db.ActionURL(ctx, a, v.ID, au.ID); err != nil || string(got.Settings) != `{"url":"http://y"}` {
			t.Fatalf("ActionURL = %+v, %v", got, err)
		}
		if l, err := db.ActionURLs(ctx, a, v.ID); err != nil || len(l) != 1 {
			t.Fatalf("ActionURLs = %+v, %v", l, err)
		}
		if err := db.DeleteActionURL(ctx, b, v.ID, au.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("delete from other tenant: %v", err)
		}

		if err := db.DeleteIVR(ctx, a, v.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Extension(ctx, a, "810"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("number claimed after delete: %v", err)
		}
		if l, err := db.ActionURLs(ctx, a, v.ID); err != nil || len(l) != 0 {
			t.Fatalf("action urls after delete: %+v, %v", l, err)
		}
		if err := db.DeleteIVR(ctx, a, v.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("delete twice: %v", err)
		}
	})
}
