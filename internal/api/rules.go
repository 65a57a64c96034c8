package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// RuleForwardRule is where an inbound rule sends a call.
type RuleForwardRule struct {
	Action string `json:"action,omitempty" enum:"FORWARD_TO_NUMBER,FORWARD_TO_VOICEMAIL,HANGUP"`
	Number string `json:"number,omitempty"`
}

type ruleTimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type ruleDayHours struct {
	Enabled bool            `json:"enabled"`
	Ranges  []ruleTimeRange `json:"ranges,omitempty"`
}

// RuleOfficeHours are a rule's working hours: the tenant's (GLOBAL) or its own.
type RuleOfficeHours struct {
	Mode      string        `json:"mode,omitempty" enum:"GLOBAL,CUSTOM"`
	Monday    *ruleDayHours `json:"monday,omitempty"`
	Tuesday   *ruleDayHours `json:"tuesday,omitempty"`
	Wednesday *ruleDayHours `json:"wednesday,omitempty"`
	Thursday  *ruleDayHours `json:"thursday,omitempty"`
	Friday    *ruleDayHours `json:"friday,omitempty"`
	Saturday  *ruleDayHours `json:"saturday,omitempty"`
	Sunday    *ruleDayHours `json:"sunday,omitempty"`
}

// check validates the ranges, "HH:MM" with from before to.
func (o *RuleOfficeHours) check() error {
	if o == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		h    *ruleDayHours
	}{{"monday", o.Monday}, {"tuesday", o.Tuesday}, {"wednesday", o.Wednesday}, {"thursday", o.Thursday}, {"friday", o.Friday},
		{"saturday", o.Saturday}, {"sunday", o.Sunday}} {
		if d.h == nil {
			continue
		}
		for i, r := range d.h.Ranges {
			if !hhmm(r.From) || !hhmm(r.To) || r.From >= r.To {
				return pbx.FieldErrorf(fmt.Sprintf("office_hours.%s.ranges[%d]", d.name, i), "want from and to as HH:MM, from before to")
			}
		}
	}
	return nil
}

func hhmm(s string) bool {
	return len(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' && s[3] >= '0' && s[3] <= '5' &&
		s[4] >= '0' && s[4] <= '9' && s[:2] <= "23"
}

// ruleHoliday is a holiday as a rule shows it.
type ruleHoliday struct {
	ID   string `json:"id"`
	Name string `json:"name" maxLength:"64"`
	HolidaySpec
}

// ruleHolidays renders the holidays a rule names; ones deleted since are
// left out.
func (s *Server) ruleHolidays(ctx context.Context, tenant pbx.TenantID, ids []string) []ruleHoliday {
	out := []ruleHoliday{}
	for _, raw := range ids {
		id, err := pbx.ParseID(raw)
		if err != nil {
			continue
		}
		h, err := s.db.Holiday(ctx, tenant, id)
		if err != nil {
			continue
		}
		it := newHolidayItem(h)
		out = append(out, ruleHoliday{ID: it.ID, Name: it.Name, HolidaySpec: it.HolidaySpec})
	}
	return out
}

// checkHolidays checks that every ID names a holiday of the tenant.
func (s *Server) checkHolidays(ctx context.Context, tenant pbx.TenantID, ids []string) error {
	for i, raw := range ids {
		id, err := pbx.ParseID(raw)
		if err == nil {
			_, err = s.db.Holiday(ctx, tenant, id)
		}
		if err != nil {
			return pbx.FieldErrorf(fmt.Sprintf("holidays[%d]", i), "no holiday %q in this tenant", raw)
		}
	}
	return nil
}

// checkProviderRef checks that raw names a provider assigned to tenant and
// returns its ID; errors name field.
func (s *Server) checkProviderRef(ctx context.Context, tenant pbx.TenantID, raw, field string) (pbx.ID, error) {
	id, err := pbx.ParseID(raw)
	if err == nil {
		_, err = s.db.Provider(ctx, tenant, id)
	}
	if err != nil {
		return 0, pbx.FieldErrorf(field, "no provider %q is assigned to this tenant", raw)
	}
	return id, nil
}

// numbersWithin reports whether every number or range of list lies within
// one of the numbers or ranges of allowed, and if not which one does not.
// An empty allowed list allows everything.
func numbersWithin(list, allowed string) (string, bool) {
	span := func(e string) (string, string) {
		lo, hi, ok := strings.Cut(e, "-")
		if !ok {
			hi = lo
		}
		return strings.TrimPrefix(lo, "+"), strings.TrimPrefix(hi, "+")
	}
	var spans [][2]string
	for _, e := range splitList(allowed) {
		lo, hi := span(e)
		spans = append(spans, [2]string{lo, hi})
	}
	if len(spans) == 0 {
		return "", true
	}
	for _, e := range splitList(list) {
		lo, hi := span(e)
		ok := false
		for _, a := range spans {
			// Equal-length digit strings compare as numbers.
			if len(lo) == len(a[0]) && len(hi) == len(a[1]) && a[0] <= lo && hi <= a[1] {
				ok = true
				break
			}
		}
		if !ok {
			return e, false
		}
	}
	return "", true
}

// InboundSettings are an inbound rule's settings kept as JSON.
type InboundSettings struct {
	CIDNumberMask             string           `json:"cid_number_mask"`
	OfficeHoursForwardRule    *RuleForwardRule `json:"office_hours_forward_rule"`
	NonOfficeHoursForwardRule *RuleForwardRule `json:"non_office_hours_forward_rule"`
	HolidayForwardRule        *RuleForwardRule `json:"holiday_forward_rule"`
	OfficeHours               *RuleOfficeHours `json:"office_hours"`
	EnableAdvancedRouting     bool             `json:"enable_advanced_routing"`
	AdvancedRouting           string           `json:"advanced_routing"`
	PlayRecordingDisclaimer   bool             `json:"play_recording_disclaimer"`
}

type storedInbound struct {
	InboundSettings
	HolidayIDs []string `json:"holiday_ids"`
}

type inboundRuleItem struct {
	ID         string        `json:"id"`
	Name       string        `json:"name" maxLength:"64"`
	Enabled    bool          `json:"enabled"`
	DIDNumbers string        `json:"did_numbers"`
	ProviderID string        `json:"provider_id"`
	Holidays   []ruleHoliday `json:"holidays"`
	InboundSettings
}

func decodeInbound(r store.InboundRule) storedInbound {
	var st storedInbound
	json.Unmarshal(r.Settings, &st)
	return st
}

func (s *Server) inboundView(ctx context.Context, r store.InboundRule) inboundRuleItem {
	st := decodeInbound(r)
	return inboundRuleItem{ID: r.ID.String(), Name: r.Name, Enabled: r.Enabled, DIDNumbers: r.DIDNumbers, ProviderID: r.Provider.String(),
		Holidays: s.ruleHolidays(ctx, r.Tenant, st.HolidayIDs), InboundSettings: st.InboundSettings}
}

// InboundRuleFields are the fields of an inbound rule a create or update sets.
type InboundRuleFields struct {
	Name                      *string          `json:"name,omitempty" maxLength:"64"`
	Enabled                   *bool            `json:"enabled,omitempty"`
	CIDNumberMask             *string          `json:"cid_number_mask,omitempty"`
	DIDNumbers                *string          `json:"did_numbers,omitempty"`
	OfficeHoursForwardRule    *RuleForwardRule `json:"office_hours_forward_rule,omitempty"`
	NonOfficeHoursForwardRule *RuleForwardRule `json:"non_office_hours_forward_rule,omitempty"`
	HolidayForwardRule        *RuleForwardRule `json:"holiday_forward_rule,omitempty"`
	OfficeHours               *RuleOfficeHours `json:"office_hours,omitempty"`
	Holidays                  *[]string        `json:"holidays,omitempty"`
	ProviderID                *string          `json:"provider_id,omitempty"`
	EnableAdvancedRouting     *bool            `json:"enable_advanced_routing,omitempty"`
	AdvancedRouting           *string          `json:"advanced_routing,omitempty"`
	PlayRecordingDisclaimer   *bool            `json:"play_recording_disclaimer,omitempty"`
}

// apply writes the given fields over r after checking them against the
// tenant's providers and holidays.
func (s *Server) applyInbound(ctx context.Context, tenant pbx.TenantID, f *InboundRuleFields, r *store.InboundRule) error {
	st := decodeInbound(*r)
	if f.Name != nil {
		r.Name = strings.TrimSpace(*f.Name)
	}
	setIf(&r.Enabled, f.Enabled)
	if f.DIDNumbers != nil {
		r.DIDNumbers = strings.TrimSpace(*f.DIDNumbers)
		if len(splitList(r.DIDNumbers)) == 0 {
			return pbx.FieldErrorf("did_numbers", "did_numbers is required")
		}
		for _, n := range splitList(r.DIDNumbers) {
			if !numberish(n, true) {
				return pbx.FieldErrorf("did_numbers", "%q is not a number or range of numbers", n)
			}
		}
	}
	if f.ProviderID != nil {
		id, err := s.checkProviderRef(ctx, tenant, *f.ProviderID, "provider_id")
		if err != nil {
			return err
		}
		r.Provider = id
	}
	for _, fr := range []struct {
		name string
		src  *RuleForwardRule
		dst  **RuleForwardRule
	}{{"office_hours_forward_rule", f.OfficeHoursForwardRule, &st.OfficeHoursForwardRule},
		{"non_office_hours_forward_rule", f.NonOfficeHoursForwardRule, &st.NonOfficeHoursForwardRule},
		{"holiday_forward_rule", f.HolidayForwardRule, &st.HolidayForwardRule}} {
		if fr.src == nil {
			continue
		}
		if fr.src.Action == "FORWARD_TO_NUMBER" && !numberish(fr.src.Number, false) {
			return pbx.FieldErrorf(fr.name+".number", "FORWARD_TO_NUMBER needs a number")
		}
		*fr.dst = fr.src
	}
	if f.OfficeHours != nil {
		if err := f.OfficeHours.check(); err != nil {
			return err
		}
		st.OfficeHours = f.OfficeHours
	}
	if f.Holidays != nil {
		if err := s.checkHolidays(ctx, tenant, *f.Holidays); err != nil {
			return err
		}
		st.HolidayIDs = *f.Holidays
	}
	if f.DIDNumbers != nil || f.ProviderID != nil {
		a, err := s.db.ProviderAssignee(ctx, r.Provider, tenant)
		if err != nil {
			return pbx.FieldErrorf("provider_id", "the provider is not assigned to this tenant")
		}
		if n, ok := numbersWithin(r.DIDNumbers, a.DIDNumbers); !ok {
			return pbx.FieldErrorf("did_numbers", "%q is not among the DID numbers the provider gives this tenant", n)
		}
	}
	setIf(&st.CIDNumberMask, f.CIDNumberMask)
	setIf(&st.EnableAdvancedRouting, f.EnableAdvancedRouting)
	setIf(&st.AdvancedRouting, f.AdvancedRouting)
	setIf(&st.PlayRecordingDisclaimer, f.PlayRecordingDisclaimer)
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	r.Settings = b
	return nil
}

// registerInboundRules serves /inbound_rules, how calls to the tenant's DID
// numbers are routed.
func (s *Server) registerInboundRules() {
	view := s.inboundView
	resource[store.InboundRule, InboundRuleFields, inboundRuleItem, inboundRuleItem]{
		path: "/inbound_rules", op: "inbound_rule", what: "inbound rule", object: "INBOUND_RULE", tags: []string{"Call Routing"},
		summaries: [5]string{"List inbound rules", "Create an inbound rule", "Retrieve an inbound rule", "Update an inbound rule", "Delete an inbound rule"},
		list:      s.db.ListInboundRules, get: s.db.InboundRule, create: s.db.CreateInboundRule, update: s.db.UpdateInboundRule, delete: s.db.DeleteInboundRule,
		fresh: func(tenant pbx.TenantID, b *InboundRuleFields) (store.InboundRule, error) {
			return store.InboundRule{Enabled: true, Tenant: tenant},
				required(need{"name", b.Name == nil}, need{"did_numbers", b.DIDNumbers == nil}, need{"provider_id", b.ProviderID == nil})
		},
		apply: s.applyInbound, item: view, detail: view,
		key: func(r store.InboundRule) (pbx.ID, string) { return r.ID, r.Name },
	}.register(s)
}

// OutboundRoute is one trunk an outbound rule may send a call to, and how
// the number is changed for it.
type OutboundRoute struct {
	Enabled          bool   `json:"enabled"`
	ProviderID       string `json:"provider_id"`
	StripDigits      int    `json:"strip_digits" minimum:"0"`
	Prepend          string `json:"prepend"`
	OutboundCallerID string `json:"outbound_caller_id" maxLength:"64"`
}

// outboundRouteInput is a route as a create or update gives it; a route is
// enabled unless it says otherwise.
type outboundRouteInput struct {
	Enabled          *bool  `json:"enabled,omitempty"`
	ProviderID       string `json:"provider_id"`
	StripDigits      int    `json:"strip_digits,omitempty" minimum:"0"`
	Prepend          string `json:"prepend,omitempty"`
	OutboundCallerID string `json:"outbound_caller_id,omitempty" maxLength:"64"`
}

type storedOutbound struct {
	NumberMask  string           `json:"number_mask"`
	OfficeHours *RuleOfficeHours `json:"office_hours"`
	HolidayIDs  []string         `json:"holiday_ids"`
	Routes      []OutboundRoute  `json:"routes"`
}

// OutboundRuleItem is an outbound rule in PortSIP's list.
type OutboundRuleItem struct {
	ID              string           `json:"id"`
	Name            string           `json:"name" maxLength:"64"`
	NumberPrefix    string           `json:"number_prefix" maxLength:"64"`
	NumberLength    string           `json:"number_length" maxLength:"64"`
	NumberMask      string           `json:"number_mask"`
	Enabled         bool             `json:"enabled"`
	Priority        int              `json:"priority" minimum:"0"`
	OfficeHours     *RuleOfficeHours `json:"office_hours"`
	Holidays        []ruleHoliday    `json:"holidays"`
	RoutingStrategy string           `json:"routing_strategy" enum:"PRIORITIZED,RANDOMLY"`
}

type outboundRuleDetail struct {
	OutboundRuleItem
	Routes []OutboundRoute `json:"routes"`
}

func decodeOutbound(r store.OutboundRule) storedOutbound {
	var st storedOutbound
	json.Unmarshal(r.Settings, &st)
	return st
}

func (s *Server) outboundView(ctx context.Context, r store.OutboundRule) outboundRuleDetail {
	st := decodeOutbound(r)
	d := outboundRuleDetail{OutboundRuleItem: OutboundRuleItem{ID: r.ID.String(), Name: r.Name, NumberPrefix: r.NumberPrefix, NumberLength: r.NumberLength,
		NumberMask: st.NumberMask, Enabled: r.Enabled, Priority: r.Priority, OfficeHours: st.OfficeHours,
		Holidays: s.ruleHolidays(ctx, r.Tenant, st.HolidayIDs), RoutingStrategy: r.RoutingStrategy}, Routes: st.Routes}
	if d.Routes == nil {
		d.Routes = []OutboundRoute{}
	}
	return d
}

// OutboundRuleFields are the fields of an outbound rule a create or update
// sets.
type OutboundRuleFields struct {
	Name            *string               `json:"name,omitempty" maxLength:"64"`
	NumberPrefix    *string               `json:"number_prefix,omitempty" maxLength:"64"`
	NumberLength    *string               `json:"number_length,omitempty" maxLength:"64"`
	NumberMask      *string               `json:"number_mask,omitempty"`
	Enabled         *bool                 `json:"enabled,omitempty"`
	Priority        *int                  `json:"priority,omitempty" minimum:"0"`
	OfficeHours     *RuleOfficeHours      `json:"office_hours,omitempty"`
	Holidays        *[]string             `json:"holidays,omitempty"`
	RoutingStrategy *string               `json:"routing_strategy,omitempty" enum:"PRIORITIZED,RANDOMLY"`
	Routes          *[]outboundRouteInput `json:"routes,omitempty"`
}

func (s *Server) applyOutbound(ctx context.Context, tenant pbx.TenantID, f *OutboundRuleFields, r *store.OutboundRule) error {
	st := decodeOutbound(*r)
	if f.Name != nil {
		r.Name = strings.TrimSpace(*f.Name)
	}
	if f.NumberPrefix != nil {
		v := strings.TrimSpace(*f.NumberPrefix)
		for _, n := range splitList(v) {
			if !numberish(n, false) {
				return pbx.FieldErrorf("number_prefix", "%q is not a number prefix", n)
			}
		}
		r.NumberPrefix = v
	}
	if f.NumberLength != nil {
		v := strings.TrimSpace(*f.NumberLength)
		for _, n := range splitList(v) {
			if !numberish(n, true) || strings.ContainsAny(n, "+*#") {
				return pbx.FieldErrorf("number_length", "%q is not a length or range of lengths", n)
			}
		}
		r.NumberLength = v
	}
	setIf(&r.Enabled, f.Enabled)
	setIf(&r.Priority, f.Priority)
	setIf(&r.RoutingStrategy, f.RoutingStrategy)
	setIf(&st.NumberMask, f.NumberMask)
	if f.OfficeHours != nil {
		if err := f.OfficeHours.check(); err != nil {
			return err
		}
		st.OfficeHours = f.OfficeHours
	}
	if f.Holidays != nil {
		if err := s.checkHolidays(ctx, tenant, *f.Holidays); err != nil {
			return err
		}
		st.HolidayIDs = *f.Holidays
	}
	if f.Routes != nil {
		routes := make([]OutboundRoute, 0, len(*f.Routes))
		for i, rt := range *f.Routes {
			field := fmt.Sprintf("routes[%d].", i)
			if _, err := s.checkProviderRef(ctx, tenant, rt.ProviderID, field+"provider_id"); err != nil {
				return err
			}
			if rt.Prepend != "" && !numberish(rt.Prepend, false) {
				return pbx.FieldErrorf(field+"prepend", "want digits")
			}
			if rt.OutboundCallerID != "" && !numberish(rt.OutboundCallerID, false) {
				return pbx.FieldErrorf(field+"outbound_caller_id", "want a phone number")
			}
			route := OutboundRoute{Enabled: true, ProviderID: rt.ProviderID, StripDigits: rt.StripDigits, Prepend: rt.Prepend, OutboundCallerID: rt.OutboundCallerID}
			setIf(&route.Enabled, rt.Enabled)
			routes = append(routes, route)
		}
		st.Routes = routes
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	r.Settings = b
	return nil
}

type appliedGroupInput struct {
	ID    string `path:"id"`
	Group string `path:"group_id"`
}

// registerOutboundRules serves /outbound_rules, how the numbers the tenant's
// users dial are routed to trunks, and the user groups each rule applies to.
func (s *Server) registerOutboundRules() {
	tags := []string{"Call Routing"}
	resource[store.OutboundRule, OutboundRuleFields, OutboundRuleItem, outboundRuleDetail]{
		path: "/outbound_rules", op: "outbound_rule", what: "outbound rule", object: "OUTBOUND_RULE", tags: tags,
		summaries: [5]string{"List outbound rules", "Create an outbound rule", "Retrieve an outbound rule", "Update an outbound rule", "Delete an outbound rule"},
		list:      s.db.ListOutboundRules, get: s.db.OutboundRule, create: s.db.CreateOutboundRule, update: s.db.UpdateOutboundRule, delete: s.db.DeleteOutboundRule,
		fresh: func(tenant pbx.TenantID, b *OutboundRuleFields) (store.OutboundRule, error) {
			return store.OutboundRule{Enabled: true, Priority: 1000, RoutingStrategy: "PRIORITIZED", Tenant: tenant}, required(need{"name", b.Name == nil})
		},
		apply: s.applyOutbound,
		item: func(ctx context.Context, r store.OutboundRule) OutboundRuleItem {
			return s.outboundView(ctx, r).OutboundRuleItem
		},
		detail: s.outboundView,
		key:    func(r store.OutboundRule) (pbx.ID, string) { return r.ID, r.Name },
	}.register(s)
	handle(s, huma.Operation{OperationID: "list_outbound_rule_applied_groups", Method: http.MethodGet, Path: "/outbound_rules/{id}/applied_groups", Tags: tags,
		Summary: "List applied groups of outbound rule"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct {
			Body struct {
				Items []GroupItem `json:"items"`
			}
		}, error) {
			id, err := parseID(in.ID, "outbound rule")
			if err != nil {
				return nil, err
			}
			gs, err := s.db.OutboundRuleGroups(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Items []GroupItem `json:"items"`
				}
			}{}
			out.Body.Items = make([]GroupItem, 0, len(gs))
			for _, g := range gs {
				out.Body.Items = append(out.Body.Items, newGroupDetail(g).GroupItem)
			}
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "get_outbound_rule_applied_group", Method: http.MethodGet, Path: "/outbound_rules/{id}/applied_groups/{group_id}", Tags: tags,
		Summary: "Check if a group has outbound rule applied"},
		tenantAdmin, func(ctx context.Context, p *principal, in *appliedGroupInput) (*struct{ Body GroupItem }, error) {
			id, gid, err := parseAppliedGroup(in)
			if err != nil {
				return nil, err
			}
			g, err := s.db.OutboundRuleGroup(ctx, p.scope, id, gid)
			if err != nil {
				return nil, err
			}
			return &struct{ Body GroupItem }{Body: newGroupDetail(g).GroupItem}, nil
		})
	handle(s, huma.Operation{OperationID: "apply_outbound_rule_group", Method: http.MethodPost, Path: "/outbound_rules/{id}/applied_groups/{group_id}", Tags: tags,
		Summary: "Apply group to outbound rule", Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *appliedGroupInput) (*noContent, error) {
			r, gid, err := s.appliedGroupRule(ctx, p, in)
			if err != nil {
				return nil, err
			}
			if err := s.db.ApplyOutboundRule(ctx, p.scope, r.ID, gid); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "OUTBOUND_RULE", r.Name, nil, map[string]string{"applied_group": gid.String()})
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_outbound_rule_applied_group", Method: http.MethodPost, Path: "/outbound_rules/{id}/applied_groups/{group_id}/destroy",
		Tags: tags, Summary: "Cancel group applied outbound rule"},
		tenantAdmin, func(ctx context.Context, p *principal, in *appliedGroupInput) (*noContent, error) {
			r, gid, err := s.appliedGroupRule(ctx, p, in)
			if err != nil {
				return nil, err
			}
			if err := s.db.UnapplyOutboundRule(ctx, p.scope, r.ID, gid); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "OUTBOUND_RULE", r.Name, nil, map[string]string{"unapplied_group": gid.String()})
			return &noContent{}, nil
		})
}

func parseAppliedGroup(in *appliedGroupInput) (pbx.ID, pbx.ID, error) {
	id, err := parseID(in.ID, "outbound rule")
	if err != nil {
		return 0, 0, err
	}
	gid, err := parseID(in.Group, "group")
	if err != nil {
		return 0, 0, err
	}
	return id, gid, nil
}

func (s *Server) appliedGroupRule(ctx context.Context, p *principal, in *appliedGroupInput) (store.OutboundRule, pbx.ID, error) {
	id, gid, err := parseAppliedGroup(in)
	if err != nil {
		return store.OutboundRule{}, 0, err
	}
	r, err := s.db.OutboundRule(ctx, p.scope, id)
	return r, gid, err
}
