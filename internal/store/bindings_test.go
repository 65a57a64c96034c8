package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func mustUser(t *testing.T, db *store.DB, tenant pbx.TenantID, name, ext string) pbx.User {
	t.Helper()
	u := pbx.User{Name: name, Email: name + "@x.test", DisplayName: name, Role: pbx.RoleStandardUser,
		ExtensionNumber: ext, ExtensionPassword: "pw", Enabled: true}
	if err := db.CreateUser(context.Background(), tenant, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestBindings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		ua := mustUser(t, db, a, "alice", "101")
		ub := mustUser(t, db, b, "bob", "101")
		base := time.UnixMilli(1_800_000_000_000).UTC()
		b1 := pbx.Binding{Tenant: a, User: ua.ID, Extension: "101", Contact: "<sip:101@10.0.0.1:5060>", CallID: "c1", CSeq: 1,
			Source: "192.0.2.1:5060", Transport: "UDP", UserAgent: "ua/1", ExpiresAt: base.Add(time.Hour)}
		if err := db.UpsertBinding(ctx, &b1); err != nil {
			t.Fatal(err)
		}
		if b1.ID == 0 {
			t.Fatal("no id")
		}
		// Same contact: an update of the same row, keeping its ID.
		b1u := b1
		b1u.ID, b1u.CSeq, b1u.ExpiresAt = 0, 2, base.Add(2*time.Hour)
		if err := db.UpsertBinding(ctx, &b1u); err != nil {
			t.Fatal(err)
		}
		if b1u.ID != b1.ID {
			t.Fatalf("refresh: got id %v, want %v", b1u.ID, b1.ID)
		}
		// An RFC 5626 binding is keyed by instance and reg-id, whatever its contact.
		b2 := pbx.Binding{Tenant: a, User: ua.ID, Extension: "101", Contact: "<sip:101@10.0.0.2:5060>", InstanceID: "<urn:uuid:1>", RegID: 1,
			CallID: "c2", CSeq: 1, Source: "192.0.2.2:5060", Transport: "TCP", ExpiresAt: base.Add(time.Minute)}
		if err := db.UpsertBinding(ctx, &b2); err != nil {
			t.Fatal(err)
		}
		b2u := b2
		b2u.ID, b2u.Contact = 0, "<sip:101@10.0.0.3:5060>"
		if err := db.UpsertBinding(ctx, &b2u); err != nil {
			t.Fatal(err)
		}
		if b2u.ID != b2.ID {
			t.Fatalf("instance refresh: got id %v, want %v", b2u.ID, b2.ID)
		}
		other := pbx.Binding{Tenant: b, User: ub.ID, Extension: "101", Contact: "<sip:101@10.9.9.9>", CallID: "x", Source: "192.0.2.9:5060",
			Transport: "UDP", ExpiresAt: base.Add(time.Hour)}
		if err := db.UpsertBinding(ctx, &other); err != nil {
			t.Fatal(err)
		}

		got, err := db.BindingsByExtension(ctx, a, "101")
		if err != nil || len(got) != 2 {
			t.Fatalf("BindingsByExtension = %d, %v; want 2", len(got), err)
		}
		if got[0].CSeq != 2 || !got[0].ExpiresAt.Equal(base.Add(2*time.Hour)) || got[0].Source != "192.0.2.1:5060" || got[0].UserAgent != "ua/1" {
			t.Fatalf("first binding = %+v", got[0])
		}
		if got[1].Contact != "<sip:101@10.0.0.3:5060>" || got[1].InstanceID != "<urn:uuid:1>" || got[1].RegID != 1 || got[1].Transport != "TCP" {
			t.Fatalf("second binding = %+v", got[1])
		}
		byUser, err := db.BindingsByUser(ctx, a, ua.ID)
		if err != nil || len(byUser) != 2 {
			t.Fatalf("BindingsByUser = %d, %v", len(byUser), err)
		}
		if bb, _ := db.BindingsByUser(ctx, b, ua.ID); len(bb) != 0 {
			t.Fatalf("tenant b sees tenant a's bindings: %v", bb)
		}
		// Expiry sweep removes only what has expired, in every tenant.
		n, err := db.DeleteExpiredBindings(ctx, base.Add(time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpiredBindings = %d, %v; want 1", n, err)
		}
		if err := db.DeleteBinding(ctx, b, b1.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("delete from other tenant: got %v, want not found", err)
		}
		if err := db.DeleteBinding(ctx, a, b1.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.BindingsByExtension(ctx, a, "101"); len(got) != 0 {
			t.Fatalf("left after delete: %v", got)
		}
		// Deleting the user removes its bindings.
		if err := db.DeleteUser(ctx, b, ub.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.BindingsByExtension(ctx, b, "101"); len(got) != 0 {
			t.Fatalf("bindings survived their user: %v", got)
		}
	})
}
