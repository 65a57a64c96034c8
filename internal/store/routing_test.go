package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestRoutingConfig(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustTenant(t, db, "a.test"), mustTenant(t, db, "b.test")
		var users [2]pbx.User
		for i, ext := range []string{"101", "102"} {
			users[i] = pbx.User{Name: "u" + ext, Email: ext + "@a.test", DisplayName: ext, Role: pbx.RoleStandardUser,
				ExtensionNumber: ext, ExtensionPassword: "x", Enabled: true}
			if err := db.CreateUser(ctx, a, &users[i]); err != nil {
				t.Fatal(err)
			}
		}
		p := store.Provider{Name: "carrier", Enabled: true, Hostname: "sip.carrier.test", Port: 5060}
		if err := db.CreateProvider(ctx, &p); err != nil {
			t.Fatal(err)
		}
		for _, tn := range []pbx.TenantID{a, b} {
			if err := db.AssignProvider(ctx, store.ProviderAssignee{Provider: p.ID, Tenant: tn, DIDNumbers: "100-199", Concurrency: 5}); err != nil {
				t.Fatal(err)
			}
		}
		in := store.InboundRule{Name: "in", Enabled: true, DIDNumbers: "100", Provider: p.ID}
		out := store.OutboundRule{Name: "out", Enabled: true, Priority: 5, RoutingStrategy: "PRIORITIZED"}
		unapplied := store.OutboundRule{Name: "unapplied", Enabled: false, Priority: 1, RoutingStrategy: "PRIORITIZED"}
		if err := db.CreateInboundRule(ctx, a, &in); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*store.OutboundRule{&out, &unapplied} {
			if err := db.CreateOutboundRule(ctx, a, r); err != nil {
				t.Fatal(err)
			}
		}
		sales, other := store.Group{Name: "sales"}, store.Group{Name: "other"}
		for _, g := range []*store.Group{&sales, &other} {
			if err := db.CreateGroup(ctx, a, g); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddGroupMember(ctx, a, sales.ID, "101"); err != nil {
			t.Fatal(err)
		}
		if err := db.AddGroupMember(ctx, a, other.ID, "102"); err != nil {
			t.Fatal(err)
		}
		if err := db.ApplyOutboundRule(ctx, a, out.ID, sales.ID); err != nil {
			t.Fatal(err)
		}
		h := store.Holiday{Name: "xmas", Spec: []byte(`{"every_year":true,"month_start":12,"day_start":25}`)}
		if err := db.CreateHoliday(ctx, a, &h); err != nil {
			t.Fatal(err)
		}
		for _, l := range []store.NumberList{store.BlacklistedNumbers, store.DisallowedCodes, store.EmergencyNumbers} {
			if err := db.CreateNumber(ctx, l, a, &store.NumberEntry{Number: "911" + string(l[0])}); err != nil {
				t.Fatal(err)
			}
		}
		// Tenant b's configuration must never show in a's.
		if err := db.CreateInboundRule(ctx, b, &store.InboundRule{Name: "b-in", Enabled: true, DIDNumbers: "150", Provider: p.ID}); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateNumber(ctx, store.BlacklistedNumbers, b, &store.NumberEntry{Number: "666"}); err != nil {
			t.Fatal(err)
		}

		c, err := db.RoutingConfig(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if c.Tenant.ID != a || len(c.InboundRules) != 1 || c.InboundRules[0].ID != in.ID {
			t.Fatalf("tenant/inbound = %v %+v", c.Tenant.ID, c.InboundRules)
		}
		if len(c.OutboundRules) != 2 || c.OutboundRules[0].ID != unapplied.ID || c.OutboundRules[1].ID != out.ID {
			t.Fatalf("outbound rules not by priority: %+v", c.OutboundRules)
		}
		if diff := cmp.Diff(map[pbx.ID][]pbx.ID{out.ID: {sales.ID}}, c.RuleGroups); diff != "" {
			t.Errorf("RuleGroups (-want +got):\n%s", diff)
		}
		// Only groups some rule applies to: 102's group "other" changes nothing.
		if diff := cmp.Diff(map[pbx.ID][]pbx.ID{users[0].ID: {sales.ID}}, c.UserGroups); diff != "" {
			t.Errorf("UserGroups (-want +got):\n%s", diff)
		}
		if len(c.Holidays) != 1 || c.Holidays[0].ID != h.ID {
			t.Errorf("Holidays = %+v", c.Holidays)
		}
		for name, l := range map[string][]store.NumberEntry{"911b": c.Blacklist, "911d": c.DisallowedCodes, "911e": c.EmergencyNumbers} {
			if len(l) != 1 || l[0].Number != name {
				t.Errorf("list %s = %+v", name, l)
			}
		}
		if len(c.Providers) != 1 || c.Providers[0].Provider != p.ID || c.Providers[0].DIDNumbers != "100-199" {
			t.Errorf("Providers = %+v", c.Providers)
		}
		if _, err := db.RoutingConfig(ctx, 12345); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Errorf("unknown tenant: %v", err)
		}
	})
}
