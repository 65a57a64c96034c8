package routing

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	// The embedded time zone database lets a host without tzdata load the
	// tenants' zones, as the API that accepted them does.
	_ "time/tzdata"

	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// errBuildPanicked is what callers waiting on a cache build see when the
// build panicked instead of returning.
var errBuildPanicked = errors.New("routing: configuration build panicked")

// tenantConfig is one tenant's compiled routing configuration. It is
// immutable once compile returns, so any number of calls read it at once.
type tenantConfig struct {
	tenant pbx.Tenant
	e164   dialplan.E164Config
	tz     *time.Location
	// outbound holds the enabled outbound rules; emergency the same rules
	// with their groups, office hours and holidays removed.
	outbound, emergency *dialplan.OutboundTable
	inbound             *dialplan.InboundTable
	userGroups          map[pbx.ID][]pbx.ID
	providers           map[pbx.ID]store.ProviderAssignee
	blacklist           map[string]time.Time // number → expiry, zero for never
	disallowed          []string
	emergencyNumbers    map[string]bool
	// countries are the country calling codes international calls may
	// reach; empty allows every country.
	countries []string
	// voicemailNumber is the tenant's voicemail service number.
	voicemailNumber string
	// ivrs are the tenant's virtual receptionists: extension number to ID.
	ivrs map[string]string
	// hours are the tenant's office hours (nil: always open), which users
	// whose office_hours mode is GLOBAL follow.
	hours *dialplan.OfficeHours
}

// The JSON shapes below are the ones internal/api writes into the store
// (tenant_types.go, rules.go, numbers.go, users.go). Only the fields routing
// reads are declared.

type e164JSON struct {
	Enabled                  bool   `json:"enabled"`
	InternationalCode        string `json:"international_code"`
	Country                  string `json:"country"`
	AreaCode                 string `json:"area_code"`
	NationalCode             string `json:"national_code"`
	Prefix                   string `json:"prefix"`
	RemoveSpecialChars       bool   `json:"remove_special_chars"`
	RemoveDuplicateCountries *bool  `json:"remove_duplicate_countries"`
	RemoveDuplicateAreaCodes *bool  `json:"remove_duplicate_area_codes"`
}

type tenantJSON struct {
	E164        *e164JSON             `json:"e164"`
	OfficeHours *dialplan.StoredHours `json:"office_hours"`
	// AllowedCountryCodes is /api/allowed_country_codes.
	AllowedCountryCodes []string `json:"allowed_country_codes"`
}

type forwardJSON struct {
	Action string `json:"action"`
	Number string `json:"number"`
}

type inboundJSON struct {
	CIDNumberMask  string                `json:"cid_number_mask"`
	OfficeHours    *forwardJSON          `json:"office_hours_forward_rule"`
	NonOfficeHours *forwardJSON          `json:"non_office_hours_forward_rule"`
	Holiday        *forwardJSON          `json:"holiday_forward_rule"`
	Hours          *dialplan.StoredHours `json:"office_hours"`
	HolidayIDs     []string              `json:"holiday_ids"`
}

type routeJSON struct {
	Enabled          *bool  `json:"enabled"`
	ProviderID       string `json:"provider_id"`
	StripDigits      int    `json:"strip_digits"`
	Prepend          string `json:"prepend"`
	OutboundCallerID string `json:"outbound_caller_id"`
}

type outboundJSON struct {
	NumberMask string                `json:"number_mask"`
	Hours      *dialplan.StoredHours `json:"office_hours"`
	HolidayIDs []string              `json:"holiday_ids"`
	Routes     []routeJSON           `json:"routes"`
}

// compile turns a tenant's stored configuration into its tables. It never
// fails: a rule that cannot be compiled (a malformed DID range or number
// length, which the API refuses but an older row may hold) is left out with
// a warning, so that one bad rule does not stop the tenant's other calls.
func compile(c store.RoutingConfig, shuffle func(n int, swap func(i, j int)), log *slog.Logger) *tenantConfig {
	tc := &tenantConfig{
		tenant:           c.Tenant,
		userGroups:       c.UserGroups,
		providers:        make(map[pbx.ID]store.ProviderAssignee, len(c.Providers)),
		blacklist:        make(map[string]time.Time),
		emergencyNumbers: make(map[string]bool),
	}
	var ts tenantJSON
	if len(c.Tenant.Settings) > 0 {
		if err := json.Unmarshal(c.Tenant.Settings, &ts); err != nil {
			log.Warn("tenant settings unreadable", "error", err)
		}
	}
	tc.e164 = e164Config(ts.E164, log)
	for _, c := range ts.AllowedCountryCodes {
		if c = strings.TrimPrefix(strings.TrimSpace(c), "+"); c != "" {
			tc.countries = append(tc.countries, c)
		}
	}
	tc.tz = loadZone(c.Tenant.Timezone, log)
	tenantHours := officeHours(ts.OfficeHours, log)
	if tenantHours != nil && !tenantHours.AnyDay() {
		tenantHours = nil
	}
	tc.hours = tenantHours
	for _, a := range c.Providers {
		tc.providers[a.Provider] = a
	}

	holidays := make(map[string]dialplan.Holiday, len(c.Holidays))
	all := make([]dialplan.Holiday, 0, len(c.Holidays))
	for _, h := range c.Holidays {
		var d dialplan.Holiday
		if err := json.Unmarshal(h.Spec, &d); err != nil {
			log.Warn("holiday unreadable", "holiday_id", h.ID, "error", err)
			continue
		}
		holidays[h.ID.String()] = d
		all = append(all, d)
	}
	named := func(ids []string) []dialplan.Holiday {
		var out []dialplan.Holiday
		for _, id := range ids {
			if h, ok := holidays[id]; ok {
				out = append(out, h)
			}
		}
		return out
	}
	ruleHours := func(h *dialplan.StoredHours) *dialplan.OfficeHours {
		if h != nil && h.Mode == "GLOBAL" {
			return tenantHours
		}
		return officeHours(h, log)
	}

	// An inbound rule that names no hours follows the tenant's (PortSIP's
	// default mode is GLOBAL): its outside-hours destination works once
	// the tenant sets office hours. An outbound rule without hours applies
	// at any time, so that calls out never stop at closing time unless a
	// rule says so.
	inboundHours := func(h *dialplan.StoredHours) *dialplan.OfficeHours {
		if h == nil {
			return tenantHours
		}
		return ruleHours(h)
	}
	tc.outbound, tc.emergency = compileOutbound(c, tc.providers, ruleHours, named, shuffle, log)
	tc.inbound = compileInbound(c, tc.providers, inboundHours, named, all, log)

	for _, n := range c.Blacklist {
		for _, k := range numberForms(tc.e164, n.Number) {
			tc.blacklist[k] = n.ExpireAt
		}
	}
	for _, n := range c.DisallowedCodes {
		tc.disallowed = append(tc.disallowed, n.Number)
	}
	for _, n := range c.EmergencyNumbers {
		for _, k := range numberForms(tc.e164, n.Number) {
			tc.emergencyNumbers[k] = true
		}
	}
	return tc
}

// compileOutbound builds the outbound table from the enabled rules and their
// enabled routes, and the emergency table from the same rules without
// groups, office hours or holidays. A route to a trunk no longer assigned to
// the tenant is left out: the assignment is what lets a tenant use a trunk.
func compileOutbound(c store.RoutingConfig, providers map[pbx.ID]store.ProviderAssignee, hours func(*dialplan.StoredHours) *dialplan.OfficeHours,
	named func([]string) []dialplan.Holiday, shuffle func(int, func(i, j int)), log *slog.Logger) (outbound, emergency *dialplan.OutboundTable) {
	var rules, open []dialplan.OutboundRule
	for _, r := range c.OutboundRules {
		if !r.Enabled {
			continue
		}
		var oj outboundJSON
		if err := json.Unmarshal(r.Settings, &oj); err != nil {
			log.Warn("outbound rule unreadable", "rule_id", r.ID, "error", err)
			continue
		}
		strategy, err := dialplan.ParseStrategy(r.RoutingStrategy)
		if err != nil {
			log.Warn("outbound rule strategy unknown, routing in order", "rule_id", r.ID, "error", err)
		}
		dr := dialplan.OutboundRule{ID: r.ID, Priority: r.Priority, NumberPrefix: r.NumberPrefix, NumberLength: r.NumberLength,
			NumberMask: oj.NumberMask, Groups: c.RuleGroups[r.ID], OfficeHours: hours(oj.Hours), Holidays: named(oj.HolidayIDs),
			Strategy: strategy}
		for _, rt := range oj.Routes {
			if rt.Enabled != nil && !*rt.Enabled {
				continue
			}
			id, err := pbx.ParseID(rt.ProviderID)
			if err != nil {
				continue
			}
			if _, ok := providers[id]; !ok {
				log.Warn("outbound route to a trunk not assigned to the tenant", "rule_id", r.ID, "provider_id", id)
				continue
			}
			dr.Routes = append(dr.Routes, dialplan.Route{ProviderID: id, StripDigits: rt.StripDigits, Prepend: rt.Prepend,
				OutboundCallerID: rt.OutboundCallerID})
		}
		if _, err := dialplan.NewOutboundTable([]dialplan.OutboundRule{dr}, shuffle); err != nil {
			log.Warn("outbound rule left out", "rule_id", r.ID, "error", err)
			continue
		}
		rules = append(rules, dr)
		er := dr
		er.Groups, er.OfficeHours, er.Holidays = nil, nil, nil
		open = append(open, er)
	}
	// Each rule compiled on its own above, so these cannot fail.
	outbound, _ = dialplan.NewOutboundTable(rules, shuffle)
	emergency, _ = dialplan.NewOutboundTable(open, shuffle)
	return outbound, emergency
}

// compileInbound builds the inbound table from the enabled rules on trunks
// assigned to the tenant. A rule that names holidays is closed on those; a
// rule that names none follows every holiday of the tenant, as holidays are
// the tenant's days off and a rule has no other way to see them.
func compileInbound(c store.RoutingConfig, providers map[pbx.ID]store.ProviderAssignee, hours func(*dialplan.StoredHours) *dialplan.OfficeHours,
	named func([]string) []dialplan.Holiday, all []dialplan.Holiday, log *slog.Logger) *dialplan.InboundTable {
	var rules []dialplan.InboundRule
	for _, r := range c.InboundRules {
		if !r.Enabled {
			continue
		}
		if _, ok := providers[r.Provider]; !ok {
			continue
		}
		var ij inboundJSON
		if err := json.Unmarshal(r.Settings, &ij); err != nil {
			log.Warn("inbound rule unreadable", "rule_id", r.ID, "error", err)
			continue
		}
		dr := dialplan.InboundRule{ID: r.ID, ProviderID: r.Provider, DIDNumbers: r.DIDNumbers, CIDNumberMask: ij.CIDNumberMask,
			OfficeHours: hours(ij.Hours), Holidays: named(ij.HolidayIDs)}
		if len(ij.HolidayIDs) == 0 {
			dr.Holidays = all
		}
		dr.OfficeHoursDest, dr.OutsideHoursDest, dr.HolidayDest = forwards(ij, log.With("rule_id", r.ID))
		if _, err := dialplan.NewInboundTable([]dialplan.InboundRule{dr}); err != nil {
			log.Warn("inbound rule left out", "rule_id", r.ID, "error", err)
			continue
		}
		rules = append(rules, dr)
	}
	t, _ := dialplan.NewInboundTable(rules)
	return t
}

// forwards returns an inbound rule's three destinations. PortSIP's API
// makes none of them required, so a missing one falls back: the holiday
// destination to the outside-hours one, and that to the office-hours one. A
// rule with none at all hangs up, as there is nowhere to send the call.
func forwards(ij inboundJSON, log *slog.Logger) (office, outside, holiday dialplan.Forward) {
	conv := func(f *forwardJSON) (dialplan.Forward, bool) {
		if f == nil || f.Action == "" {
			return dialplan.Forward{}, false
		}
		a, err := dialplan.ParseAction(f.Action)
		if err != nil {
			log.Warn("inbound forward action unknown", "error", err)
			return dialplan.Forward{}, false
		}
		return dialplan.Forward{Action: a, Number: f.Number}, true
	}
	office, ok := conv(ij.OfficeHours)
	if !ok {
		office = dialplan.Forward{Action: dialplan.Hangup}
	}
	if outside, ok = conv(ij.NonOfficeHours); !ok {
		outside = office
	}
	if holiday, ok = conv(ij.Holiday); !ok {
		holiday = outside
	}
	return office, outside, holiday
}

// e164Config converts the tenant's e164 object. remove_duplicate_* default
// to true, as the API does. The country is the calling code in digits
// (an optional '+' is dropped); anything else cannot be compared with a
// number, so it is ignored with a warning and every '+' number counts as
// international.
func e164Config(j *e164JSON, log *slog.Logger) dialplan.E164Config {
	if j == nil {
		return dialplan.E164Config{RemoveDuplicateCountries: true, RemoveDuplicateAreaCodes: true}
	}
	country := strings.TrimPrefix(strings.TrimSpace(j.Country), "+")
	if !allDigits(country) {
		log.Warn("e164 country is not a calling code, ignored", "country", j.Country)
		country = ""
	}
	return dialplan.E164Config{
		Enabled:                  j.Enabled,
		InternationalCode:        j.InternationalCode,
		Country:                  country,
		AreaCode:                 j.AreaCode,
		NationalCode:             j.NationalCode,
		Prefix:                   j.Prefix,
		RemoveSpecialChars:       j.RemoveSpecialChars,
		RemoveDuplicateCountries: j.RemoveDuplicateCountries == nil || *j.RemoveDuplicateCountries,
		RemoveDuplicateAreaCodes: j.RemoveDuplicateAreaCodes == nil || *j.RemoveDuplicateAreaCodes,
	}
}

// officeHours converts an office_hours object; nil stays nil (always open).
// A weekday left out is closed. A range that does not parse is dropped with
// a warning.
func officeHours(h *dialplan.StoredHours, log *slog.Logger) *dialplan.OfficeHours {
	o, err := h.OfficeHours()
	if err != nil {
		log.Warn("office hours range unreadable", "error", err)
	}
	return o
}

// loadZone loads the tenant's IANA zone; an empty or unknown one is UTC.
func loadZone(name string, log *slog.Logger) *time.Location {
	if name == "" {
		return time.UTC
	}
	tz, err := time.LoadLocation(name)
	if err != nil {
		log.Warn("tenant time zone unknown, using UTC", "timezone", name, "error", err)
		return time.UTC
	}
	return tz
}

// numberForms returns a number as written and as the tenant's E.164 rules
// normalise it, so that a list entry written "+4420..." matches a caller
// who arrives as "004420..." and the other way round.
func numberForms(cfg dialplan.E164Config, n string) []string {
	n = strings.TrimSpace(n)
	if m := dialplan.Normalize(cfg, n); m != n {
		return []string{n, m}
	}
	return []string{n}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
