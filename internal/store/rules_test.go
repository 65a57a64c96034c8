package store_test

import (
	"context"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestInboundRulesStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		r := store.InboundRule{Name: "main", Enabled: true, DIDNumbers: "100-199", Provider: 42, Settings: []byte(`{"cid_number_mask":"x"}`)}
		if err := db.CreateInboundRule(ctx, a, &r); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateInboundRule(ctx, a, &store.InboundRule{Name: "main"}); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "name" {
			t.Fatalf("duplicate: %v", err)
		}
		got, err := db.InboundRule(ctx, a, r.ID)
		if err != nil || got.Provider != 42 || got.DIDNumbers != "100-199" || string(got.Settings) != `{"cid_number_mask":"x"}` {
			t.Fatalf("InboundRule = %+v, %v", got, err)
		}
		if _, err := db.InboundRule(ctx, b, r.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("other tenant: %v", err)
		}
		r.Enabled = false
		if err := db.UpdateInboundRule(ctx, a, &r); err != nil {
			t.Fatal(err)
		}
		if rs, n, err := db.ListInboundRules(ctx, a, store.ListOptions{Top: 10}); err != nil || n != 1 || rs[0].Enabled {
			t.Fatalf("list: %+v %d %v", rs, n, err)
		}
		if err := db.DeleteInboundRule(ctx, b, r.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("delete from other tenant: %v", err)
		}
		if err := db.DeleteInboundRule(ctx, a, r.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOutboundRulesStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		late := store.OutboundRule{Name: "late", Enabled: true, Priority: 1000, RoutingStrategy: "PRIORITIZED"}
		early := store.OutboundRule{Name: "early", Enabled: true, Priority: 1, NumberPrefix: "0", RoutingStrategy: "RANDOMLY"}
		for _, r := range []*store.OutboundRule{&late, &early} {
			if err := db.CreateOutboundRule(ctx, a, r); err != nil {
				t.Fatal(err)
			}
		}
		if rs, n, err := db.ListOutboundRules(ctx, a, store.ListOptions{Top: 10}); err != nil || n != 2 || rs[0].Name != "early" {
			t.Fatalf("list by priority: %+v %d %v", rs, n, err)
		}
		g := store.Group{Name: "sales"}
		if err := db.CreateGroup(ctx, a, &g); err != nil {
			t.Fatal(err)
		}
		bg := store.Group{Name: "sales"}
		if err := db.CreateGroup(ctx, b, &bg); err != nil {
			t.Fatal(err)
		}
		if err := db.ApplyOutboundRule(ctx, a, early.ID, g.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.ApplyOutboundRule(ctx, a, early.ID, g.ID); pbx.ErrorCode(err) != pbx.ECONFLICT {
			t.Fatalf("apply twice: %v", err)
		}
		if err := db.ApplyOutboundRule(ctx, a, early.ID, bg.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("other tenant's group: %v", err)
		}
		if gs, err := db.OutboundRuleGroups(ctx, a, early.ID); err != nil || len(gs) != 1 || gs[0].ID != g.ID {
			t.Fatalf("applied groups: %+v %v", gs, err)
		}
		if _, err := db.OutboundRuleGroups(ctx, b, early.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("other tenant's rule: %v", err)
		}
		if _, err := db.OutboundRuleGroup(ctx, a, late.ID, g.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("group not applied: %v", err)
		}
		if err := db.DeleteOutboundRule(ctx, a, early.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.UnapplyOutboundRule(ctx, a, early.ID, g.ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("applied group survived its rule: %v", err)
		}
		// Deleting a group that a rule applies to works too.
		if err := db.ApplyOutboundRule(ctx, a, late.ID, g.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteGroup(ctx, a, g.ID); err != nil {
			t.Fatalf("delete applied group: %v", err)
		}
		if gs, err := db.OutboundRuleGroups(ctx, a, late.ID); err != nil || len(gs) != 0 {
			t.Fatalf("after group delete: %+v %v", gs, err)
		}
	})
}
