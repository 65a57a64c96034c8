package routing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/routing"
	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// fixture is two tenants sharing trunk p1, with the rules of every test
// below. Tenant a is in New York with E.164 processing on (international
// code 011, country 1, area 212, national code 1) and office hours
// Monday to Friday 08:00-12:00.
type fixture struct {
	db         *countingStore
	trunks     *fakeTrunks
	router     *routing.Router
	now        time.Time
	a, b       pbx.Tenant
	p1, p2, p3 pbx.ID
	// alice is a standard user in group sales; bob a standard
	// international user in group intl; carol has a custom role that
	// allows international calls and is in intl; dave a custom role that
	// does not.
	alice, bob, carol, dave pbx.User
	inSingle                store.InboundRule
}

const monday10 = "2026-11-23 10:00" // a Monday, within every office hours below

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: &countingStore{DB: db}, trunks: &fakeTrunks{names: map[pbx.ID]string{}, disabled: map[pbx.ID]bool{}}}
	f.now = at(t, monday10)

	f.a = pbx.Tenant{Name: "a", Domain: "a.test", Enabled: true, Timezone: "America/New_York", Currency: "USD", Region: "US", MaxExtensions: 100,
		Settings: mustJSON(t, obj{
			"e164": obj{"enabled": true, "international_code": "011", "country": "1", "area_code": "212", "national_code": "1", "prefix": nil,
				"remove_special_chars": true, "remove_duplicate_countries": true, "remove_duplicate_area_codes": true},
			"office_hours": weekdays("", "08:00-12:00"),
		})}
	f.b = pbx.Tenant{Name: "b", Domain: "b.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 100}
	must(t, db.CreateTenant(ctx, &f.a))
	must(t, db.CreateTenant(ctx, &f.b))

	for i, id := range []*pbx.ID{&f.p1, &f.p2, &f.p3} {
		p := store.Provider{Name: []string{"p1", "p2", "p3"}[i], Enabled: true, Hostname: "carrier.test", Port: 5060}
		must(t, db.CreateProvider(ctx, &p))
		*id = p.ID
		f.trunks.names[p.ID] = p.Name
		must(t, db.AssignProvider(ctx, store.ProviderAssignee{Provider: p.ID, Tenant: f.a.ID, DIDNumbers: "1000-1099;2000", Concurrency: 10}))
	}
	must(t, db.AssignProvider(ctx, store.ProviderAssignee{Provider: f.p1, Tenant: f.b.ID, DIDNumbers: "3000-3099", Concurrency: 10}))

	must(t, db.CreateRole(ctx, f.a.ID, &store.Role{Name: "Intl", Permissions: mustJSON(t, obj{"policies": obj{"international_calls": true}})}))
	must(t, db.CreateRole(ctx, f.a.ID, &store.Role{Name: "Local", Permissions: mustJSON(t, obj{"policies": obj{"domestic_calls": true}})}))
	f.alice = user(t, db, f.a.ID, "101", pbx.RoleStandardUser, obj{"outbound_caller_ids": []obj{
		{"provider_id": "", "caller_id": "2125550100"},
		{"provider_id": f.p2.String(), "caller_id": "2125550102", "preferred": true},
	}})
	f.bob = user(t, db, f.a.ID, "102", pbx.RoleStandardInternationalUser, obj{})
	f.carol = user(t, db, f.a.ID, "103", "Intl", obj{})
	f.dave = user(t, db, f.a.ID, "104", "Local", obj{})
	user(t, db, f.b.ID, "101", pbx.RoleStandardUser, obj{})

	sales, intl := store.Group{Name: "sales"}, store.Group{Name: "intl"}
	must(t, db.CreateGroup(ctx, f.a.ID, &sales))
	must(t, db.CreateGroup(ctx, f.a.ID, &intl))
	must(t, db.AddGroupMember(ctx, f.a.ID, sales.ID, "101"))
	must(t, db.AddGroupMember(ctx, f.a.ID, intl.ID, "102"))
	must(t, db.AddGroupMember(ctx, f.a.ID, intl.ID, "103"))

	xmas := store.Holiday{Name: "xmas", Spec: mustJSON(t, obj{"consecutive": false, "every_year": true, "month_start": 12, "month_end": 12,
		"day_start": 25, "day_end": 25, "hour_start": 0, "hour_end": 0, "minute_start": 0, "minute_end": 0})}
	must(t, db.CreateHoliday(ctx, f.a.ID, &xmas))

	// Outbound rules of tenant a.
	outRule(t, db, f.a.ID, "prioritized", 10, "9", "", "PRIORITIZED", nil, nil,
		route(f.p1, 1, "", "5550001"), route(f.p2, 1, "0", ""))
	outRule(t, db, f.a.ID, "random", 10, "6", "", "RANDOMLY", nil, nil,
		route(f.p1, 0, "", ""), route(f.p2, 0, "", ""), route(f.p3, 0, "", ""))
	grp := outRule(t, db, f.a.ID, "sales only", 1, "7", "", "PRIORITIZED", nil, nil, route(f.p1, 0, "", ""))
	must(t, db.ApplyOutboundRule(ctx, f.a.ID, grp.ID, sales.ID))
	outRule(t, db, f.a.ID, "everyone 7", 2, "7", "", "PRIORITIZED", nil, nil, route(f.p2, 0, "", ""))
	outRule(t, db, f.a.ID, "day", 1, "8", "", "PRIORITIZED", weekdays("CUSTOM", "09:00-17:00"), nil, route(f.p1, 0, "", ""))
	outRule(t, db, f.a.ID, "night", 2, "8", "", "PRIORITIZED", nil, nil, route(f.p2, 0, "", ""))
	outRule(t, db, f.a.ID, "company hours", 1, "3", "", "PRIORITIZED", obj{"mode": "GLOBAL"}, nil, route(f.p1, 0, "", ""))
	outRule(t, db, f.a.ID, "after company hours", 2, "3", "", "PRIORITIZED", nil, nil, route(f.p2, 0, "", ""))
	outRule(t, db, f.a.ID, "local", 20, "", "7", "PRIORITIZED", nil, nil, route(f.p3, 0, "", ""))
	intlRule := outRule(t, db, f.a.ID, "international", 20, "011", "", "PRIORITIZED", weekdays("CUSTOM", "09:00-17:00"), nil,
		route(f.p3, 3, "+", ""))
	must(t, db.ApplyOutboundRule(ctx, f.a.ID, intlRule.ID, intl.ID))
	off := store.OutboundRule{Name: "disabled", Enabled: false, Priority: 1, NumberPrefix: "4", RoutingStrategy: "PRIORITIZED",
		Settings: mustJSON(t, obj{"routes": []obj{route(f.p1, 0, "", "")}})}
	must(t, db.CreateOutboundRule(ctx, f.a.ID, &off))

	for _, n := range []struct {
		list store.NumberList
		num  string
		exp  time.Time
	}{
		{store.DisallowedCodes, "0119", time.Time{}},
		{store.DisallowedCodes, "1900", time.Time{}},
		{store.EmergencyNumbers, "011999", time.Time{}},
		{store.BlacklistedNumbers, "+12125550666", time.Time{}},
		{store.BlacklistedNumbers, "2125550777", f.now.Add(-time.Hour)}, // expired
	} {
		must(t, db.CreateNumber(ctx, n.list, f.a.ID, &store.NumberEntry{Number: n.num, ExpireAt: n.exp}))
	}

	// Inbound rules on the shared trunk p1.
	f.inSingle = inRule(t, db, f.a.ID, "single", f.p1, "2000", "", weekdays("CUSTOM", "09:00-17:00"), []string{xmas.ID.String()},
		forward("FORWARD_TO_NUMBER", "101"), forward("FORWARD_TO_NUMBER", "102"), forward("HANGUP", ""))
	inRule(t, db, f.a.ID, "range", f.p1, "1000-1049", "", nil, []string{}, forward("FORWARD_TO_NUMBER", "103"), nil, nil)
	inRule(t, db, f.a.ID, "uk callers", f.p1, "1000-1049", "0044**********", nil, []string{}, forward("FORWARD_TO_NUMBER", "9555"), nil, nil)
	inRule(t, db, f.a.ID, "list", f.p1, "1050,1051", "", nil, []string{}, forward("FORWARD_TO_VOICEMAIL", "101"), nil, nil)
	inRule(t, db, f.a.ID, "company hours", f.p1, "1060", "", obj{"mode": "GLOBAL"}, []string{},
		forward("FORWARD_TO_NUMBER", "101"), forward("FORWARD_TO_NUMBER", "104"), nil)
	inRule(t, db, f.b.ID, "b", f.p1, "3000-3099", "", nil, []string{}, forward("FORWARD_TO_NUMBER", "101"), nil, nil)
	// Tenant b's assignment does not give it DID 2000: a rule it holds
	// for that DID (the API refuses it; the store does not) must never
	// take a's calls.
	inRule(t, db, f.b.ID, "b steals", f.p1, "2000", "", nil, []string{}, forward("FORWARD_TO_NUMBER", "101"), nil, nil)

	f.router = routing.New(routing.Deps{Store: f.db, Trunks: f.trunks, Now: func() time.Time { return f.now },
		Shuffle: func(n int, swap func(i, j int)) { // reverse: deterministic and unlike the configured order
			for i := 0; i < n/2; i++ {
				swap(i, n-1-i)
			}
		}})
	return f
}

// dial routes a call from the extension user of tenant a to number.
func (f *fixture) dial(t testing.TB, u pbx.User, number string, headers ...string) call.Plan {
	t.Helper()
	p, err := f.router.Route(context.Background(), call.Origin{Tenant: f.a, User: u}, invite(t, number, "a.test", u.ExtensionNumber, u.DisplayName, headers...))
	if err != nil {
		t.Fatalf("Route(%s dials %s): %v", u.ExtensionNumber, number, err)
	}
	return p
}

// arrive routes a call from caller to did arriving on trunk.
func (f *fixture) arrive(t testing.TB, trunk pbx.ID, caller, did string) call.Plan {
	t.Helper()
	p, err := f.router.Route(context.Background(), call.Origin{Trunk: trunk}, invite(t, did, "carrier.test", caller, "Caller "+caller))
	if err != nil {
		t.Fatalf("Route(%s calls DID %s): %v", caller, did, err)
	}
	return p
}

func TestExtensionCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.dial(t, f.alice, "102")
		want := call.Plan{Tenant: p.Tenant, Direction: call.ExtensionCall, Extension: "102", Target: "102"}
		if diff := cmp.Diff(want, p, cmpopts.IgnoreFields(call.Plan{}, "Unanswered")); diff != "" || p.Tenant.ID != f.a.ID {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
		// Without voicemail, an unanswered call ends with its status.
		if got := unanswered(p); got != "- - -" {
			t.Errorf("unanswered without voicemail: %s", got)
		}
		if got := f.trunks.lastCalls(); len(got) != 0 {
			t.Errorf("an extension call asked trunks: %+v", got)
		}
	})
}

func TestOutbound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, tc := range []struct {
			name   string
			caller pbx.User
			when   string // New York time; empty is monday10
			number string
			trunks []string
			reject int
		}{
			{name: "prioritized in order with strip and prepend", caller: f.alice, number: "9123", trunks: []string{"p1:123", "p2:0123"}},
			{name: "randomly in shuffled order", caller: f.alice, number: "6123", trunks: []string{"p3:6123", "p2:6123", "p1:6123"}},
			{name: "group rule for a member", caller: f.alice, number: "7123", trunks: []string{"p1:7123"}},
			{name: "group rule skipped for a non-member", caller: f.bob, number: "7123", trunks: []string{"p2:7123"}},
			{name: "office hours", caller: f.alice, number: "8123", trunks: []string{"p1:8123"}},
			{name: "outside office hours in the tenant's zone", caller: f.alice, when: "2026-11-23 17:30", number: "8123", trunks: []string{"p2:8123"}},
			{name: "weekend", caller: f.alice, when: "2026-11-28 10:00", number: "8123", trunks: []string{"p2:8123"}},
			{name: "tenant office hours for a GLOBAL rule", caller: f.alice, number: "3123", trunks: []string{"p1:3123"}},
			{name: "after tenant office hours", caller: f.alice, when: "2026-11-23 13:00", number: "3123", trunks: []string{"p2:3123"}},
			{name: "E.164 same country and area", caller: f.alice, number: "+1(212)555-1234", trunks: []string{"p3:5551234"}},
			{name: "E.164 international, permitted by built-in role", caller: f.bob, number: "+442071234567", trunks: []string{"p3:+442071234567"}},
			{name: "international, permitted by custom role", caller: f.carol, number: "011442071234567", trunks: []string{"p3:+442071234567"}},
			{name: "international, standard user", caller: f.alice, number: "+442071234567", reject: 403},
			{name: "international, custom role without it", caller: f.dave, number: "+442071234567", reject: 403},
			{name: "disallowed code as dialled", caller: f.alice, number: "19005550000", reject: 403},
			{name: "disallowed code after normalisation", caller: f.bob, number: "+9123", reject: 403},
			{name: "emergency bypasses role, disallowed code, groups and hours", caller: f.alice, when: "2026-11-28 23:00", number: "011999",
				trunks: []string{"p3:+999"}},
			{name: "disabled rule", caller: f.alice, number: "4123", reject: 404},
			{name: "no rule", caller: f.alice, number: "2123", reject: 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f.now = at(t, monday10)
				if tc.when != "" {
					f.now = at(t, tc.when)
				}
				p := f.dial(t, tc.caller, tc.number)
				if p.Reject != tc.reject {
					t.Fatalf("Reject = %d (%s), want %d", p.Reject, p.Reason, tc.reject)
				}
				if diff := cmp.Diff(tc.trunks, trunkNames(p)); diff != "" {
					t.Errorf("trunks (-want +got):\n%s", diff)
				}
				if p.Tenant.ID != f.a.ID {
					t.Errorf("Tenant = %v, want %v", p.Tenant.ID, f.a.ID)
				}
				if tc.reject == 0 && (p.Direction != call.OutboundCall || p.Callee != tc.number) {
					t.Errorf("Direction, Callee = %s, %q", p.Direction, p.Callee)
				}
			})
		}
	})
}

func TestOutboundCallerIDAndAnonymous(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.dial(t, f.alice, "9123")
		if p.OutboundCallerID != "5550001" {
			t.Errorf("plan OutboundCallerID = %q, want the first route's", p.OutboundCallerID)
		}
		want := []call.TrunkCall{
			{CallerNum: "101", CallerName: "User 101", CalledNum: "123", OutboundCallerID: "5550001", Domain: "a.test"},
			{CallerNum: "101", CallerName: "User 101", CalledNum: "0123", OutboundCallerID: "2125550102", Domain: "a.test"},
		}
		if diff := cmp.Diff(want, f.trunks.lastCalls()); diff != "" {
			t.Errorf("trunk calls (-want +got):\n%s", diff)
		}
		f.dial(t, f.alice, "6123") // p3 has no caller ID of alice's own; the one for any trunk applies
		if got := f.trunks.lastCalls(); got[0].OutboundCallerID != "2125550100" || got[1].OutboundCallerID != "2125550102" {
			t.Errorf("caller IDs = %q, %q", got[0].OutboundCallerID, got[1].OutboundCallerID)
		}

		f.dial(t, f.bob, "9123", "Privacy: id")
		if got := f.trunks.lastCalls(); !got[0].Anonymous {
			t.Errorf("Privacy: id did not make the call anonymous: %+v", got[0])
		}
		f.dial(t, f.bob, "9123")
		if got := f.trunks.lastCalls(); got[0].Anonymous {
			t.Errorf("plain call is anonymous: %+v", got[0])
		}
		hidden := user(t, f.db.DB, f.a.ID, "106", pbx.RoleStandardUser, obj{"delivery_outbound_cid": false})
		f.dial(t, hidden, "9123")
		if got := f.trunks.lastCalls(); !got[0].Anonymous {
			t.Errorf("delivery_outbound_cid false did not withhold the caller ID: %+v", got[0])
		}

		f.trunks.disabled[f.p1] = true
		if got := trunkNames(f.dial(t, f.alice, "9123")); len(got) != 1 || got[0] != "p2:0123" {
			t.Errorf("with p1 down: %v", got)
		}
		f.trunks.disabled[f.p2] = true
		if p := f.dial(t, f.alice, "9123"); p.Reject != 503 {
			t.Errorf("with every trunk down: Reject = %d, want 503", p.Reject)
		}
	})
}

func TestInbound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, tc := range []struct {
			name      string
			when      string // New York time; empty is monday10
			trunk     pbx.ID
			caller    string
			did       string
			tenant    pbx.TenantID
			extension string
			trunks    []string
			reject    int
		}{
			{name: "single DID in office hours", caller: "5551000", did: "2000", tenant: f.a.ID, extension: "101"},
			{name: "single DID with a plus", caller: "5551000", did: "+2000", tenant: f.a.ID, extension: "101"},
			// 16:30 in New York is 21:30 UTC: office hours only in the tenant's zone.
			{name: "office hours in the tenant's zone", when: "2026-11-23 16:30", caller: "5551000", did: "2000", tenant: f.a.ID, extension: "101"},
			{name: "outside office hours", when: "2026-11-23 17:30", caller: "5551000", did: "2000", tenant: f.a.ID, extension: "102"},
			// 22:00 on 25 December in New York is already the 26th in UTC.
			{name: "holiday in the tenant's zone", when: "2026-12-25 22:00", caller: "5551000", did: "2000", tenant: f.a.ID, reject: 603},
			{name: "range", caller: "5551000", did: "1042", tenant: f.a.ID, extension: "103"},
			{name: "range, CID mask forwards out", caller: "00442071234567", did: "1042", tenant: f.a.ID, trunks: []string{"p1:555", "p2:0555"}},
			{name: "list to voicemail", caller: "5551000", did: "1051", tenant: f.a.ID, reject: 480},
			{name: "tenant office hours", caller: "5551000", did: "1060", tenant: f.a.ID, extension: "101"},
			{name: "after tenant office hours", when: "2026-11-23 12:30", caller: "5551000", did: "1060", tenant: f.a.ID, extension: "104"},
			{name: "holiday falls back to outside hours", when: "2026-12-25 10:00", caller: "5551000", did: "1060", tenant: f.a.ID, extension: "104"},
			{name: "blacklisted caller", caller: "+12125550666", did: "1042", tenant: f.a.ID, reject: 603},
			{name: "blacklisted caller in another form", caller: "5550666", did: "1042", tenant: f.a.ID, reject: 603},
			{name: "blacklist entry expired", caller: "2125550777", did: "1042", tenant: f.a.ID, extension: "103"},
			{name: "other tenant's DID on the shared trunk", caller: "5551000", did: "3010", tenant: f.b.ID, extension: "101"},
			{name: "DID without a rule", caller: "5551000", did: "1500", reject: 404},
			{name: "DID on a trunk without the rule", trunk: -2, caller: "5551000", did: "2000", reject: 404},
			{name: "unknown trunk", trunk: -1, caller: "5551000", did: "2000", reject: 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f.now = at(t, monday10)
				if tc.when != "" {
					f.now = at(t, tc.when)
				}
				trunk := f.p1
				switch tc.trunk {
				case -1:
					trunk = 999
				case -2:
					trunk = f.p2
				}
				p := f.arrive(t, trunk, tc.caller, tc.did)
				if p.Reject != tc.reject {
					t.Fatalf("Reject = %d (%s), want %d", p.Reject, p.Reason, tc.reject)
				}
				if p.Tenant.ID != tc.tenant {
					t.Fatalf("Tenant = %v, want %v", p.Tenant.ID, tc.tenant)
				}
				if p.Extension != tc.extension {
					t.Errorf("Extension = %q, want %q", p.Extension, tc.extension)
				}
				if diff := cmp.Diff(tc.trunks, trunkNames(p)); diff != "" {
					t.Errorf("trunks (-want +got):\n%s", diff)
				}
				if tc.reject != 0 || tc.tenant == 0 {
					return
				}
				want := call.InboundCall
				if tc.extension == "" {
					want = call.InboundOutboundCall
				}
				if p.Direction != want || p.Caller != tc.caller || p.CallerName != "Caller "+tc.caller || p.Callee != tc.did || p.DIDCID != tc.did ||
					p.Trunk != "p1" {
					t.Errorf("plan = %+v", p)
				}
			})
		}
		f.now = at(t, monday10)
		f.arrive(t, f.p1, "00442071234567", "1042")
		want := []call.TrunkCall{
			{CallerNum: "00442071234567", CallerName: "Caller 00442071234567", CalledNum: "555", OutboundCallerID: "5550001",
				OriginatorCallerID: "00442071234567", Domain: "a.test"},
			{CallerNum: "00442071234567", CallerName: "Caller 00442071234567", CalledNum: "0555",
				OriginatorCallerID: "00442071234567", Domain: "a.test"},
		}
		f.trunks.lastCalls()
		f.arrive(t, f.p1, "00442071234567", "1042")
		if diff := cmp.Diff(want, f.trunks.lastCalls()); diff != "" {
			t.Errorf("forwarded trunk calls (-want +got):\n%s", diff)
		}
	})
}

// TestSharedDIDRefused checks that a DID two tenants' assignments both list
// reaches neither, rather than whichever is asked first.
func TestSharedDIDRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		must(t, db.AssignProvider(ctx, store.ProviderAssignee{Provider: f.p1, Tenant: f.b.ID, DIDNumbers: "3000-3099;2000", Concurrency: 10}))
		f.router.Changed(0)
		if p := f.arrive(t, f.p1, "5551000", "2000"); p.Reject != 404 || p.Tenant.ID != 0 {
			t.Errorf("DID claimed twice: Reject = %d, Tenant = %v", p.Reject, p.Tenant.ID)
		}
		// A tenant whose assignment leaves the DID list empty takes every
		// DID, but one that lists the DID comes first.
		must(t, db.AssignProvider(ctx, store.ProviderAssignee{Provider: f.p1, Tenant: f.b.ID, DIDNumbers: "", Concurrency: 10}))
		f.router.Changed(0)
		if p := f.arrive(t, f.p1, "5551000", "2000"); p.Tenant.ID != f.a.ID || p.Extension != "101" {
			t.Errorf("listed tenant did not win: %+v", p)
		}
	})
}

func TestChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if p := f.arrive(t, f.p1, "5551000", "2000"); p.Extension != "101" {
			t.Fatalf("before: %+v", p)
		}
		if got := f.db.configs.Load(); got != 2 {
			t.Errorf("RoutingConfig read %d times for a trunk shared by 2 tenants, want 2", got)
		}
		r := f.inSingle
		r.Settings = mustJSON(t, obj{"office_hours_forward_rule": forward("FORWARD_TO_NUMBER", "103")})
		must(t, db.UpdateInboundRule(ctx, f.a.ID, &r))
		if p := f.arrive(t, f.p1, "5551000", "2000"); p.Extension != "101" {
			t.Errorf("cached snapshot not used: %+v", p)
		}
		f.router.Changed(f.b.ID)
		if p := f.arrive(t, f.p1, "5551000", "2000"); p.Extension != "101" {
			t.Errorf("a change of tenant b dropped a's snapshot: %+v", p)
		}
		f.router.Changed(f.a.ID)
		if p := f.arrive(t, f.p1, "5551000", "2000"); p.Extension != "103" {
			t.Errorf("after Changed: %+v", p)
		}

		// Unassigning a trunk (Changed(0)) takes its DIDs and routes away.
		must(t, db.UnassignProvider(ctx, f.p1, f.a.ID))
		f.router.Changed(0)
		if p := f.arrive(t, f.p1, "5551000", "2000"); p.Reject != 404 {
			t.Errorf("unassigned trunk still routes in: %+v", p)
		}
		if got := trunkNames(f.dial(t, f.alice, "9123")); len(got) != 1 || got[0] != "p2:0123" {
			t.Errorf("unassigned trunk still routes out: %v", got)
		}
	})
}

// TestQueriesPerCall checks that a call on a cached tenant costs one store
// query (the extension lookup), and one more when the caller's role is a
// custom one whose policies must be read.
func TestQueriesPerCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.dial(t, f.alice, "9123")
		f.arrive(t, f.p1, "5551000", "2000")
		configs := f.db.configs.Load()
		for _, c := range []struct {
			name string
			fn   func()
			want int64
		}{
			{"outbound", func() { f.dial(t, f.alice, "9123") }, 1},
			{"international, built-in role", func() { f.dial(t, f.bob, "+442071234567") }, 1},
			{"international, custom role", func() { f.dial(t, f.carol, "+442071234567") }, 2},
			{"extension", func() { f.dial(t, f.alice, "102") }, 1},
			{"inbound", func() { f.arrive(t, f.p1, "5551000", "2000") }, 1},
		} {
			before := f.db.lookups.Load()
			c.fn()
			if got := f.db.lookups.Load() - before; got != c.want {
				t.Errorf("%s call: %d queries, want %d", c.name, got, c.want)
			}
		}
		if got := f.db.configs.Load(); got != configs {
			t.Errorf("RoutingConfig read again on cached tenants: %d, want %d", got, configs)
		}
	})
}

func BenchmarkRoute(b *testing.B) {
	f := newFixture(b, storetest.OpenSQLite(b))
	ctx := context.Background()
	o := call.Origin{Tenant: f.a, User: f.alice}
	req := invite(b, "9123", "a.test", "101", "Alice")
	if _, err := f.router.Route(ctx, o, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := f.router.Route(ctx, o, req)
		if err != nil || len(p.Trunks) != 2 {
			b.Fatalf("Route = %+v, %v", p, err)
		}
		f.trunks.lastCalls()
	}
}

// TestConcurrentChanged routes calls on several goroutines while the
// configuration changes under them; run with -race. Every plan must come
// from one whole snapshot: the old destination or the new one.
func TestConcurrentChanged(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	ctx := context.Background()
	done := make(chan struct{})
	var wg sync.WaitGroup
	bad := make([]string, 4) // what each goroutine saw wrong, if anything
	for i := range bad {
		req := invite(t, "2000", "carrier.test", "5551000", "x") // one per goroutine: a request is not shared between calls
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				p, err := f.router.Route(ctx, call.Origin{Trunk: f.p1}, req)
				if err != nil || (p.Extension != "101" && p.Extension != "103") {
					bad[i] = fmt.Sprintf("plan %+v, %v", p, err)
					return
				}
			}
		})
	}
	r := f.inSingle
	r.Settings = mustJSON(t, obj{"office_hours_forward_rule": forward("FORWARD_TO_NUMBER", "103")})
	must(t, f.db.UpdateInboundRule(ctx, f.a.ID, &r))
	for i := range 50 {
		if i%2 == 0 {
			f.router.Changed(f.a.ID)
		} else {
			f.router.Changed(0)
		}
		time.Sleep(time.Millisecond)
	}
	close(done)
	wg.Wait()
	for _, e := range bad {
		if e != "" {
			t.Error(e)
		}
	}
	f.router.Changed(f.a.ID)
	if p := f.arrive(t, f.p1, "5551000", "2000"); p.Extension != "103" {
		t.Errorf("after the last Changed: %+v", p)
	}
}

// TestAnonymousCallers checks that a caller who withholds its identity is
// hidden from the phones rung, from an extension and from a trunk.
func TestAnonymousCallers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.now = at(t, monday10)
		if p := f.dial(t, f.alice, "102", "Privacy: id"); !p.Anonymous || p.Extension != "102" {
			t.Errorf("extension call with Privacy: id: %+v", p)
		}
		if p := f.dial(t, f.alice, "102"); p.Anonymous {
			t.Errorf("extension call without privacy is anonymous: %+v", p)
		}
		if p := f.arrive(t, f.p1, "anonymous", "2000"); !p.Anonymous || p.Extension != "101" {
			t.Errorf("anonymous call from a trunk: %+v", p)
		}
	})
}

// TestCallPolicies checks the role policies internal_calls and
// domestic_calls of custom roles, and the tenant's allowed country codes.
func TestCallPolicies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.now = at(t, "2026-11-23 10:00")
		// dave's role allows domestic calls only, carol's international
		// calls only.
		if p := f.dial(t, f.dave, "101"); p.Reject != 403 {
			t.Errorf("extension call without internal_calls: %+v", p)
		}
		if p := f.dial(t, f.dave, "9123"); p.Reject != 0 || len(p.Trunks) == 0 {
			t.Errorf("domestic call with domestic_calls: %+v", p)
		}
		if p := f.dial(t, f.carol, "9123"); p.Reject != 403 {
			t.Errorf("domestic call without domestic_calls: %+v", p)
		}
		if p := f.dial(t, f.dave, "011999"); p.Reject != 0 {
			t.Errorf("emergency call refused by policy: %+v", p)
		}
		// Allowed country codes: only the UK.
		tn, err := db.Tenant(ctx, f.a.ID)
		must(t, err)
		var settings map[string]any
		must(t, json.Unmarshal(tn.Settings, &settings))
		settings["allowed_country_codes"] = []string{"+44"}
		tn.Settings = mustJSON(t, settings)
		must(t, db.UpdateTenant(ctx, &tn))
		f.router.Changed(f.a.ID)
		if p := f.dial(t, f.bob, "+442071234567"); p.Reject != 0 {
			t.Errorf("call to an allowed country: %+v", p)
		}
		if p := f.dial(t, f.bob, "+33142685300"); p.Reject != 403 || p.Reason != "country code not allowed" {
			t.Errorf("call to a country not allowed: %+v", p)
		}
	})
}

// fakeVoicemail is routing.Voicemail with apps that say which they are.
type fakeVoicemail struct{}

type namedApp string

func (namedApp) Serve(context.Context, *call.AppCall) error { return nil }

func (fakeVoicemail) Deposit() call.App { return namedApp("deposit") }
func (fakeVoicemail) Mailbox() call.App { return namedApp("mailbox") }

// TestVoicemailRouting checks the voicemail service number, the
// unanswered-call fallback by the callee's forward rule, and inbound rules
// forwarding to voicemail.
func TestVoicemailRouting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.router = routing.New(routing.Deps{Store: f.db, Trunks: f.trunks, Now: func() time.Time { return f.now }, Voicemail: fakeVoicemail{}})
		f.now = at(t, monday10)
		if p := f.dial(t, f.alice, "777"); p.App != namedApp("mailbox") || p.Target != "101" || p.Extension != "" {
			t.Errorf("777: %+v", p)
		}
		if p := f.dial(t, f.alice, "102"); unanswered(p) != "deposit deposit deposit" || p.Target != "102" || p.Extension != "102" {
			t.Errorf("extension call without forward rules: %+v", p)
		}
		user(t, db, f.a.ID, "105", pbx.RoleStandardUser, obj{"available_no_answer_forward_rule": obj{"action": "HANGUP"}})
		f.router.Changed(f.a.ID)
		if p := f.dial(t, f.alice, "105"); unanswered(p) != "- deposit deposit" {
			t.Errorf("a callee whose no-answer rule hangs up: %+v", p)
		}
		if p := f.arrive(t, f.p1, "5551000", "1051"); p.App != namedApp("deposit") || p.Reject != 0 || p.Target == "" {
			t.Errorf("inbound rule to voicemail: %+v", p)
		}
	})
}

// unanswered says which App a plan gives each outcome of an unanswered
// call, in the order no answer, busy, offline: "deposit", "forward" (an
// App that puts the call through elsewhere) or "-" (none: the call ends).
func unanswered(p call.Plan) string {
	if p.Unanswered == nil {
		return "no Unanswered"
	}
	var out []string
	for _, why := range []call.Outcome{call.NoAnswer, call.Busy, call.Offline} {
		switch a := p.Unanswered(why).(type) {
		case nil:
			out = append(out, "-")
		case namedApp:
			out = append(out, string(a))
		default:
			out = append(out, "forward")
		}
	}
	return strings.Join(out, " ")
}

// TestUserForwardRules checks how a callee's forward rules route calls to
// its extension: do-not-disturb, forwards at once by the hour, the
// no-answer, busy and offline rules, the ring timeout, and forward loops.
func TestUserForwardRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.router = routing.New(routing.Deps{Store: f.db, Trunks: f.trunks, Now: func() time.Time { return f.now }, Voicemail: fakeVoicemail{}})
		f.now = at(t, monday10)
		fwd := func(action, number string) obj { return obj{"action": action, "number": number} }
		nights := weekdays("SPECIFIC", "18:00-23:00") // 10:00 on Monday is outside them
		user(t, db, f.a.ID, "201", pbx.RoleStandardUser, obj{"enable_dnd": true})
		user(t, db, f.a.ID, "202", pbx.RoleStandardUser, obj{"enable_dnd": true, "dnd_office_hours_forward_rule": fwd("FORWARD_TO_NUMBER", "102")})
		user(t, db, f.a.ID, "203", pbx.RoleStandardUser, obj{"enable_dnd": true, "dnd_office_hours_forward_rule": fwd("HANGUP", "")})
		user(t, db, f.a.ID, "204", pbx.RoleStandardUser, obj{"available_office_hours_forward_rule": fwd("FORWARD_TO_VOICEMAIL", "")})
		user(t, db, f.a.ID, "205", pbx.RoleStandardUser, obj{"available_office_hours_forward_rule": fwd("RING_ANYWAY", ""),
			"available_non_office_hours_forward_rule": fwd("HANGUP", "")})
		user(t, db, f.a.ID, "206", pbx.RoleStandardUser, obj{"office_hours": nights,
			"available_office_hours_forward_rule": fwd("RING_ANYWAY", ""), "available_non_office_hours_forward_rule": fwd("HANGUP", "")})
		user(t, db, f.a.ID, "207", pbx.RoleStandardUser, obj{"available_no_answer_forward_rule": obj{"action": "FORWARD_TO_NUMBER", "number": "102", "timeout": 20},
			"busy_office_hours_forward_rule": fwd("HANGUP", ""), "offline_office_hours_forward_rule": fwd("FORWARD_TO_VOICEMAIL", "")})
		user(t, db, f.a.ID, "208", pbx.RoleStandardUser, obj{"busy_office_hours_forward_rule": fwd("RING_ANYWAY", ""),
			"busy_no_answer_forward_rule": fwd("FORWARD_TO_NUMBER", "102"), "office_hours": nights,
			"offline_office_hours_forward_rule": fwd("HANGUP", ""), "offline_non_office_hours_forward_rule": fwd("HANGUP", "")})
		user(t, db, f.a.ID, "209", pbx.RoleStandardUser, obj{"available_office_hours_forward_rule": fwd("FORWARD_TO_NUMBER", "210")})
		user(t, db, f.a.ID, "210", pbx.RoleStandardUser, obj{"available_office_hours_forward_rule": fwd("FORWARD_TO_NUMBER", "209")})
		user(t, db, f.a.ID, "211", pbx.RoleStandardUser, obj{"available_office_hours_forward_rule": fwd("FORWARD_TO_NUMBER", "201")})
		f.router.Changed(f.a.ID)

		tests := []struct {
			number, what string
			check        func(p call.Plan) bool
		}{
			{"201", "DND without a rule: voicemail at once", func(p call.Plan) bool { return p.App == namedApp("deposit") && p.Target == "201" && p.Extension == "" }},
			{"202", "DND forwarding to 102: 102 rings, with 102's rules", func(p call.Plan) bool {
				return p.Extension == "102" && p.Target == "102" && unanswered(p) == "deposit deposit deposit"
			}},
			{"203", "DND hanging up: busy", func(p call.Plan) bool { return p.Reject == 486 }},
			{"204", "available forwarding to voicemail: at once", func(p call.Plan) bool { return p.App == namedApp("deposit") && p.Target == "204" }},
			{"205", "in the tenant's (always open) hours: RING_ANYWAY rings", func(p call.Plan) bool { return p.Extension == "205" && p.Reject == 0 }},
			{"206", "outside the user's own hours: the non-office rule hangs up", func(p call.Plan) bool { return p.Reject == 486 }},
			{"207", "no answer forwards to 102 after 20 s, busy hangs up, offline goes to voicemail", func(p call.Plan) bool {
				return p.Extension == "207" && p.RingTimeout == 20*time.Second && unanswered(p) == "forward - deposit"
			}},
			{"208", "busy RING_ANYWAY leads to busy_no_answer; offline outside hours hangs up", func(p call.Plan) bool {
				return p.Extension == "208" && p.RingTimeout == 0 && unanswered(p) == "deposit forward -"
			}},
			{"209", "209 and 210 forward to each other: loop detected", func(p call.Plan) bool { return p.Reject == 482 }},
			{"211", "a forward to a user on DND follows that user's rule", func(p call.Plan) bool { return p.App == namedApp("deposit") && p.Target == "201" }},
		}
		for _, tt := range tests {
			if p := f.dial(t, f.alice, tt.number); !tt.check(p) {
				t.Errorf("%s (%s): %+v, unanswered %q", tt.number, tt.what, p, unanswered(p))
			}
		}
		// The rules hold for calls from trunks too.
		inRule(t, db, f.a.ID, "to 201", f.p1, "1090", "", nil, []string{}, fwd("FORWARD_TO_NUMBER", "201"), nil, nil)
		f.router.Changed(f.a.ID)
		if p := f.arrive(t, f.p1, "5551234", "1090"); p.App != namedApp("deposit") || p.Target != "201" {
			t.Errorf("a DID to a user on DND: %+v", p)
		}
	})
}
