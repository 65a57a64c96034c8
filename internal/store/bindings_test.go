package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

func TestTenantUserByExtension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		ua := mustUser(t, db, a, "alice", "101")
		mustUser(t, db, b, "bob", "102")
		tn, u, err := db.TenantUserByExtension(ctx, "A.test", "101")
		if err != nil {
			t.Fatal(err)
		}
		wantT, _ := db.TenantByDomain(ctx, "a.test")
		wantU, _ := db.UserByExtension(ctx, a, "101")
		if diff := cmp.Diff(wantT, tn); diff != "" {
			t.Errorf("tenant (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantU, u); diff != "" || u.ID != ua.ID {
			t.Errorf("user (-want +got):\n%s", diff)
		}
		for _, c := range []struct{ domain, ext string }{{"a.test", "102"}, {"b.test", "101"}, {"c.test", "101"}} {
			if _, _, err := db.TenantUserByExtension(ctx, c.domain, c.ext); pbx.ErrorCode(err) != pbx.ENOTFOUND {
				t.Errorf("TenantUserByExtension(%s, %s) = %v, want not found", c.domain, c.ext, err)
			}
		}
		// A new password is seen at once: nothing is cached.
		ua.ExtensionPassword = "changed"
		if err := db.UpdateUser(ctx, a, &ua); err != nil {
			t.Fatal(err)
		}
		if _, u, _ := db.TenantUserByExtension(ctx, "a.test", "101"); u.ExtensionPassword != "changed" {
			t.Errorf("password after update = %q, want changed", u.ExtensionPassword)
		}
	})
}

// TestExtensionCredential checks that the digest columns match the full
// records, that a miss is ENOTFOUND, and that a disabled user shows.
func TestExtensionCredential(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		ua := mustUser(t, db, a, "alice", "101")
		mustUser(t, db, b, "bob", "102")
		got, err := db.ExtensionCredential(ctx, "A.test", "101")
		if err != nil {
			t.Fatal(err)
		}
		want := store.ExtensionCredential{Tenant: a, TenantEnabled: true, User: ua.ID, UserEnabled: ua.Enabled,
			Extension: "101", Password: ua.ExtensionPassword}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("credential (-want +got):\n%s", diff)
		}
		for _, c := range []struct{ domain, ext string }{{"a.test", "102"}, {"b.test", "101"}, {"c.test", "101"}} {
			if _, err := db.ExtensionCredential(ctx, c.domain, c.ext); pbx.ErrorCode(err) != pbx.ENOTFOUND {
				t.Errorf("ExtensionCredential(%s, %s) = %v, want not found", c.domain, c.ext, err)
			}
		}
		ua.Enabled, ua.ExtensionPassword = false, "changed"
		if err := db.UpdateUser(ctx, a, &ua); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ExtensionCredential(ctx, "a.test", "101"); got.UserEnabled || got.Password != "changed" {
			t.Errorf("after update: got %+v, want disabled with the new password", got)
		}
	})
}

// TestBindingsConcurrent runs upserts and reads of the same statements from
// many goroutines, as REGISTERs do, for the race detector and the statement
// cache.
func TestBindingsConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "a.test")
		users := make([]pbx.User, 8)
		for i := range users {
			users[i] = mustUser(t, db, a, fmt.Sprint("u", i), fmt.Sprint(200+i))
		}
		exp := time.Now().Add(time.Hour)
		var wg sync.WaitGroup
		errs := make(chan error, len(users))
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 50; n++ {
					b := pbx.Binding{Tenant: a, User: u.ID, Extension: u.ExtensionNumber, Contact: fmt.Sprintf("<sip:%d@10.0.0.%d>", i, n%2),
						CallID: "c", CSeq: uint32(n), Source: "192.0.2.1:5060", Transport: "UDP", ExpiresAt: exp}
					if err := db.UpsertBinding(ctx, &b); err != nil {
						errs <- err
						return
					}
					if _, _, err := db.TenantUserByExtension(ctx, "a.test", u.ExtensionNumber); err != nil {
						errs <- err
						return
					}
					if got, err := db.BindingsByUser(ctx, a, u.ID); err != nil || len(got) != min(n+1, 2) {
						errs <- fmt.Errorf("BindingsByUser = %d, %v; want %d", len(got), err, min(n+1, 2))
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// TestBindingsWALCheckpoint checks that refreshing bindings lets SQLite
// checkpoint its write-ahead log: a REGISTER-heavy PBX must not grow the
// -wal file without bound.
func TestBindingsWALCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gopbx.db")
	db, err := store.Open(ctx, store.Config{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := mustTenant(t, db, "a.test")
	u := mustUser(t, db, a, "alice", "101")
	for n := 0; n < 1500; n++ {
		b := pbx.Binding{Tenant: a, User: u.ID, Extension: "101", Contact: "<sip:101@10.0.0.1>", CallID: "c", CSeq: uint32(n),
			Source: "192.0.2.1:5060", Transport: "UDP", ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.UpsertBinding(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// The auto-checkpoint restarts the log at 1,000 pages of 4 KiB.
	if limit := int64(8 << 20); fi.Size() > limit {
		t.Fatalf("-wal is %d bytes after 1,500 refreshes, want at most %d", fi.Size(), limit)
	}
}

// BenchmarkRegisterQueries runs what one REGISTER asks of the store: the
// digest lookup, the user's bindings and the upsert.
func BenchmarkRegisterQueries(b *testing.B) {
	db := storetest.OpenSQLite(b)
	ctx := context.Background()
	tn := pbx.Tenant{Name: "a", Domain: "a.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
	if err := db.CreateTenant(ctx, &tn); err != nil {
		b.Fatal(err)
	}
	u := pbx.User{Name: "u", Email: "u@a.test", DisplayName: "u", Role: pbx.RoleStandardUser, ExtensionNumber: "101",
		ExtensionPassword: "pw", Enabled: true}
	if err := db.CreateUser(ctx, tn.ID, &u); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		if _, _, err := db.TenantUserByExtension(ctx, "a.test", "101"); err != nil {
			b.Fatal(err)
		}
		if _, err := db.BindingsByUser(ctx, tn.ID, u.ID); err != nil {
			b.Fatal(err)
		}
		bd := pbx.Binding{Tenant: tn.ID, User: u.ID, Extension: "101", Contact: "<sip:101@10.0.0.1>", CallID: "c", CSeq: uint32(n),
			Source: "192.0.2.1:5060", Transport: "UDP", ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.UpsertBinding(ctx, &bd); err != nil {
			b.Fatal(err)
		}
	}
}

// TestApplyBindings checks the registrar's batched write-back: deletes then
// upserts under the caller's IDs in one transaction, a key taken over by a
// new ID, and the upserts of a deleted user skipped without failing the
// batch.
func TestApplyBindings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		ua := mustUser(t, db, a, "alice", "101")
		ub := mustUser(t, db, b, "bob", "101")
		gone := mustUser(t, db, a, "gone", "102")
		base := time.UnixMilli(1_800_000_000_000).UTC()
		mk := func(tn pbx.TenantID, u pbx.User, contact string, cseq uint32) pbx.Binding {
			return pbx.Binding{ID: db.NewID(), Tenant: tn, User: u.ID, Extension: u.ExtensionNumber, Contact: contact,
				CallID: "c", CSeq: cseq, Source: "192.0.2.1:5060", Transport: "UDP", UserAgent: "ua/1",
				ExpiresAt: base.Add(time.Hour), CreatedAt: base}
		}
		b1, b2 := mk(a, ua, "<sip:101@10.0.0.1>", 1), mk(a, ua, "<sip:101@10.0.0.2>", 1)
		b2.InstanceID, b2.RegID = "urn:uuid:1", 1
		bb := mk(b, ub, "<sip:101@10.9.9.9>", 1)
		bg := mk(a, gone, "<sip:102@10.0.0.3>", 1)
		if skipped, err := db.ApplyBindings(ctx, []pbx.Binding{b1, b2, bb, bg}, nil); err != nil || len(skipped) != 0 {
			t.Fatalf("ApplyBindings = %v, %v", skipped, err)
		}
		got, err := db.BindingsByUser(ctx, a, ua.ID)
		if err != nil || len(got) != 2 {
			t.Fatalf("BindingsByUser = %v, %v", got, err)
		}
		for _, g := range got {
			if g.ID != b1.ID && g.ID != b2.ID || !g.CreatedAt.Equal(base) || !g.ExpiresAt.Equal(base.Add(time.Hour)) {
				t.Fatalf("stored binding = %+v", g)
			}
		}

		// A refresh under the same ID, a deletion, and a new ID for b2's
		// key (instance and reg-id) in one batch; the deleted user's
		// binding is skipped.
		if err := db.DeleteUser(ctx, a, gone.ID); err != nil {
			t.Fatal(err)
		}
		b1.CSeq, b1.ExpiresAt = 7, base.Add(2*time.Hour)
		b2n := b2
		b2n.ID, b2n.Contact, b2n.CreatedAt = db.NewID(), "<sip:101@10.0.0.9>", base.Add(time.Minute)
		bg.CSeq = 2
		skipped, err := db.ApplyBindings(ctx, []pbx.Binding{b1, b2n, bg}, []pbx.ID{bb.ID, 12345})
		if err != nil || len(skipped) != 1 || skipped[0] != bg.ID {
			t.Fatalf("ApplyBindings = %v, %v; want [%v] skipped", skipped, err, bg.ID)
		}
		got, _ = db.BindingsByExtension(ctx, a, "101")
		if len(got) != 2 || got[0].ID != b1.ID || got[0].CSeq != 7 || !got[0].ExpiresAt.Equal(base.Add(2*time.Hour)) ||
			got[1].ID != b2n.ID || got[1].Contact != "<sip:101@10.0.0.9>" {
			t.Fatalf("after second batch = %+v", got)
		}
		if got, _ := db.BindingsByUser(ctx, b, ub.ID); len(got) != 0 {
			t.Fatalf("deleted binding left: %v", got)
		}
		live, err := db.LiveBindings(ctx, base.Add(90*time.Minute))
		if err != nil || len(live) != 1 || live[0].ID != b1.ID {
			t.Fatalf("LiveBindings = %v, %v", live, err)
		}
		if skipped, err := db.ApplyBindings(ctx, nil, nil); err != nil || skipped != nil {
			t.Fatalf("empty batch = %v, %v", skipped, err)
		}
	})
}
