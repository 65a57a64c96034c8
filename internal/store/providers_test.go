package store_test

import (
	"context"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestProvidersAndAssignees(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		p := store.Provider{Name: "carrier", Enabled: true, Hostname: "sip.example.net", Port: 5060, Password: "pw", Settings: []byte(`{"transport":"UDP"}`)}
		if err := db.CreateProvider(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateProvider(ctx, &store.Provider{Name: "carrier", Hostname: "h", Port: 1}); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "name" {
			t.Fatalf("duplicate name: %v", err)
		}
		if err := db.CreateProvider(ctx, &store.Provider{Name: "x", Port: 1}); pbx.ErrorField(err) != "hostname" {
			t.Fatalf("no hostname: %v", err)
		}
		if err := db.CreateProvider(ctx, &store.Provider{Name: "y", Hostname: "h", Port: 70000}); pbx.ErrorField(err) != "port" {
			t.Fatalf("bad port: %v", err)
		}
		got, err := db.Provider(ctx, pbx.SystemTenant, p.ID)
		if err != nil || got.Password != "pw" || string(got.Settings) != `{"transport":"UDP"}` || !got.Enabled || got.Shared {
			t.Fatalf("Provider = %+v, %v", got, err)
		}
		if _, err := db.Provider(ctx, a, p.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("unassigned provider seen by tenant: %v", err)
		}
		if all, err := db.Providers(ctx); err != nil || len(all) != 1 || all[0].ID != p.ID || all[0].Password != "pw" {
			t.Fatalf("Providers = %+v, %v", all, err)
		}
		if err := db.AssignProvider(ctx, store.ProviderAssignee{Provider: p.ID, Tenant: a, DIDNumbers: "100-199", Concurrency: 3}); err != nil {
			t.Fatal(err)
		}
		if err := db.AssignProvider(ctx, store.ProviderAssignee{Provider: p.ID, Tenant: a, Concurrency: 4}); err != nil {
			t.Fatalf("reassign: %v", err)
		}
		if err := db.AssignProvider(ctx, store.ProviderAssignee{Provider: p.ID, Tenant: 424242}); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("unknown tenant: %v", err)
		}
		if got, err := db.Provider(ctx, a, p.ID); err != nil || !got.Shared {
			t.Fatalf("assigned provider: %+v, %v", got, err)
		}
		ps, n, err := db.ListProviders(ctx, b, store.ListOptions{Top: 10})
		if err != nil || n != 0 || len(ps) != 0 {
			t.Fatalf("tenant b list: %v %d %v", ps, n, err)
		}
		if as, err := db.ProviderAssignees(ctx, p.ID); err != nil || len(as) != 1 || as[0].Concurrency != 4 {
			t.Fatalf("assignees: %+v, %v", as, err)
		}
		// Deleting the provider takes its assignments with it.
		if err := db.DeleteProvider(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ProviderAssignee(ctx, p.ID, a); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("assignment survived: %v", err)
		}
		if err := db.DeleteProvider(ctx, p.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("second delete: %v", err)
		}
	})
}
