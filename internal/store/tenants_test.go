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

func TestTenantsListUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "a.test")
		mustTenant(t, db, "b.test")
		tn, err := db.Tenant(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		tn.Name, tn.Website, tn.Settings = "Acme", "https://acme.test", []byte(`{"max_call_queues":5}`)
		if err := db.UpdateTenant(ctx, &tn); err != nil {
			t.Fatal(err)
		}
		got, err := db.TenantByDomain(ctx, "A.TEST")
		if err != nil || got.Name != "Acme" || got.Website != "https://acme.test" || string(got.Settings) != `{"max_call_queues":5}` {
			t.Fatalf("TenantByDomain = %+v, %v", got, err)
		}
		f, _ := query.Parse("name eq 'Acme'")
		list, total, err := db.ListTenants(ctx, 0, store.ListOptions{Filter: f})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != a {
			t.Fatalf("ListTenants(filter) = %d %d %v", len(list), total, err)
		}
		list, total, err = db.ListTenants(ctx, 0, store.ListOptions{Search: "b.test"})
		if err != nil || total != 1 || list[0].Domain != "b.test" {
			t.Fatalf("ListTenants(search) = %d %d %v", len(list), total, err)
		}
		c, err := db.Count(ctx)
		if err != nil || c.Tenants != 2 || c.Dealers != 0 || c.Users != 0 {
			t.Fatalf("Count = %+v, %v", c, err)
		}
	})
}

func TestDeleteTenantRevokesSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := mustTenant(t, db, "a.test")
		b := mustTenant(t, db, "b.test")
		exp := time.Now().Add(time.Hour)
		user := store.Token{AccessHash: "u", RefreshHash: "ur", Kind: store.PrincipalUser, Principal: 1, Tenant: a, Scope: a,
			Role: pbx.RoleAdmin, ExpiresAt: exp, RefreshExpiresAt: exp}
		admin := store.Token{AccessHash: "a", RefreshHash: "ar", Kind: store.PrincipalAdmin, Principal: 2, Scope: a,
			Role: pbx.RoleSystemAdmin, ExpiresAt: exp, RefreshExpiresAt: exp}
		other := store.Token{AccessHash: "o", RefreshHash: "or", Kind: store.PrincipalUser, Principal: 3, Tenant: b, Scope: b,
			Role: pbx.RoleAdmin, ExpiresAt: exp, RefreshExpiresAt: exp}
		for _, tok := range []*store.Token{&user, &admin, &other} {
			if err := db.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.DeleteTenant(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteTenant(ctx, a); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("second delete: got %v, want not found", err)
		}
		if _, err := db.TokenByAccess(ctx, "u"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("user session survived its tenant: %v", err)
		}
		got, err := db.TokenByAccess(ctx, "a")
		if err != nil || got.Scope != pbx.SystemTenant {
			t.Fatalf("switched admin session: scope %v, %v; want system scope", got.Scope, err)
		}
		if _, err := db.TokenByAccess(ctx, "o"); err != nil {
			t.Fatalf("other tenant's session: %v", err)
		}
	})
}

func TestCreateDealerTenantLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := store.Dealer{Name: "d1", PasswordHash: "x", Enabled: true, Level: "RESELLER", MaxTenants: 1, MaxExtensions: 10}
		if err := db.CreateDealer(ctx, &d); err != nil {
			t.Fatal(err)
		}
		t1 := pbx.Tenant{Name: "one", Domain: "one.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
		if err := db.CreateDealerTenant(ctx, d.ID, d.MaxTenants, &t1); err != nil {
			t.Fatal(err)
		}
		t2 := pbx.Tenant{Name: "two", Domain: "two.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US"}
		if err := db.CreateDealerTenant(ctx, d.ID, d.MaxTenants, &t2); pbx.ErrorCode(err) != pbx.EFORBIDDEN {
			t.Fatalf("over the limit: got %v, want forbidden", err)
		}
		if _, err := db.TenantByDomain(ctx, "two.test"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("refused tenant was written: %v", err)
		}
		list, total, err := db.ListTenants(ctx, d.ID, store.ListOptions{})
		if err != nil || total != 1 || list[0].ID != t1.ID {
			t.Fatalf("dealer's tenants = %d %v", total, err)
		}
		if ok, err := db.DealerHasTenant(ctx, d.ID, t1.ID); !ok || err != nil {
			t.Fatalf("DealerHasTenant = %v, %v", ok, err)
		}
	})
}
