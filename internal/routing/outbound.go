package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/pbx"
)

// fromExtension routes a call placed by an extension of o.Tenant. The order
// of checks is: the voicemail service number; a virtual receptionist; an
// extension of the tenant; an emergency number; a
// disallowed code (403); an international number the caller's role may not
// call (403); the outbound rules (404 when none applies).
func (r *Router) fromExtension(ctx context.Context, o call.Origin, req *sip.Request) (call.Plan, error) {
	number := req.Recipient.User
	tc, err := r.tenant(ctx, o.Tenant.ID)
	if err != nil {
		return call.Plan{}, err
	}
	if number == tc.voicemailNumber && r.d.Voicemail != nil {
		return call.Plan{Tenant: tc.tenant, Direction: call.ExtensionCall, App: r.d.Voicemail.Mailbox(), Target: o.User.ExtensionNumber,
			Callee: number}, nil
	}
	if p, ok := r.toIVR(tc, call.Plan{Tenant: tc.tenant, Direction: call.ExtensionCall, Anonymous: anonymous(req)}, number); ok {
		return p, nil
	}
	if callee, ok, err := r.extension(ctx, tc, number); err != nil {
		return call.Plan{}, err
	} else if ok {
		p := call.Plan{Tenant: tc.tenant, Direction: call.ExtensionCall, Anonymous: anonymous(req)}
		pol, err := r.policy(ctx, tc.tenant.ID, o.User)
		if err != nil {
			return call.Plan{}, err
		}
		if !pol.Internal {
			return reject(p, sip.StatusForbidden, "internal calls not permitted"), nil
		}
		return r.toUser(ctx, tc, p, callee, 0)
	}

	n := dialplan.Normalize(tc.e164, number)
	us := userSettingsOf(o.User)
	out := outCall{
		tc:         tc,
		table:      tc.outbound,
		normalized: n,
		groups:     tc.userGroups[o.User.ID],
		base: call.TrunkCall{CallerNum: o.User.ExtensionNumber, CallerName: o.User.DisplayName, Domain: tc.tenant.Domain,
			Anonymous: us.AnonymousOutboundCalls || (us.DeliveryOutboundCID != nil && !*us.DeliveryOutboundCID) || anonymous(req)},
		callerID: us.callerID,
		plan:     call.Plan{Tenant: tc.tenant, Direction: call.OutboundCall, Callee: number},
	}
	if tc.emergencyNumbers[number] || tc.emergencyNumbers[n] {
		out.table, out.groups = tc.emergency, nil
		// The notification event of an emergency call: an administrator
		// must learn of it whatever the log level.
		r.log.Warn("emergency call", "event", "EMERGENCY_CALL", "tenant", tc.tenant.ID, "extension", o.User.ExtensionNumber, "number", number)
		return r.placeOut(out), nil
	}
	if code, ok := tc.disallowedCode(number, n); ok {
		return reject(out.plan, sip.StatusForbidden, "disallowed code "+code), nil
	}
	international := dialplan.IsInternational(tc.e164, n)
	pol, err := r.policy(ctx, tc.tenant.ID, o.User)
	if err != nil {
		return call.Plan{}, err
	}
	switch {
	case international && !pol.International:
		return reject(out.plan, sip.StatusForbidden, "international calls not permitted"), nil
	case international && !tc.countryAllowed(n):
		return reject(out.plan, sip.StatusForbidden, "country code not allowed"), nil
	case !international && !pol.Domestic:
		return reject(out.plan, sip.StatusForbidden, "domestic calls not permitted"), nil
	}
	return r.placeOut(out), nil
}

// countryAllowed reports whether an international number (normalised)
// calls a country of the tenant's allowed country codes. An empty list
// allows every country: the caller's international_calls permission is
// then the only gate, as before the administrator chose countries.
func (tc *tenantConfig) countryAllowed(normalized string) bool {
	if len(tc.countries) == 0 {
		return true
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(normalized, tc.e164.Prefix), tc.e164.InternationalCode)
	for _, c := range tc.countries {
		if strings.HasPrefix(digits, c) {
			return true
		}
	}
	return false
}

// extension returns the user whose extension number is number. Only users
// are looked up: ring groups, queues and the other owners of the extension
// namespace have no call handling yet.
func (r *Router) extension(ctx context.Context, tc *tenantConfig, number string) (pbx.User, bool, error) {
	if number == "" {
		return pbx.User{}, false, nil
	}
	u, err := r.d.Store.UserByExtension(ctx, tc.tenant.ID, number)
	switch pbx.ErrorCode(err) {
	case "":
		return u, true, nil
	case pbx.ENOTFOUND:
		return pbx.User{}, false, nil
	}
	return pbx.User{}, false, fmt.Errorf("look up extension %s of tenant %s: %w", number, tc.tenant.ID, err)
}

// outCall is an outbound call about to be matched against a table.
type outCall struct {
	tc    *tenantConfig
	table *dialplan.OutboundTable
	// normalized is the number after the tenant's E.164 rules, which is
	// what outbound rules match.
	normalized string
	groups     []pbx.ID
	base       call.TrunkCall
	// callerID is the caller's own outbound caller ID for a trunk, used
	// when the route sets none; nil for a call no user placed.
	callerID func(provider pbx.ID) string
	plan     call.Plan
}

// placeOut matches the normalised number and asks Trunks for an INVITE per
// candidate, in the order the rule gives. It rejects with 404 when no rule
// applies and with 503 when a rule applies but none of its trunks can take
// a call (unknown or disabled in the trunk registry). The plan's
// OutboundCallerID is the first route's, as that is the one tried first.
func (r *Router) placeOut(o outCall) call.Plan {
	cands := o.table.Match(o.normalized, o.groups, r.d.Now(), o.tc.tz)
	if len(cands) == 0 {
		return reject(o.plan, sip.StatusNotFound, "no outbound rule")
	}
	p := o.plan
	for _, c := range cands {
		tc := o.base
		tc.CalledNum = c.Number
		tc.OutboundCallerID = c.OutboundCallerID
		if tc.OutboundCallerID == "" && o.callerID != nil {
			tc.OutboundCallerID = o.callerID(c.ProviderID)
		}
		rt, ok := r.d.Trunks.Route(c.ProviderID, tc)
		if !ok {
			continue
		}
		rt.Acquire = r.shares.bind(o.tc.tenant.ID, c.ProviderID, o.tc.providers[c.ProviderID].Concurrency, rt.Acquire)
		if len(p.Trunks) == 0 {
			p.OutboundCallerID = tc.OutboundCallerID
		}
		p.Trunks = append(p.Trunks, rt)
	}
	if len(p.Trunks) == 0 {
		return reject(o.plan, sip.StatusServiceUnavailable, "no trunk available")
	}
	return p
}

// reject turns p into a refusal with a SIP status and a reason for the log,
// keeping the tenant and CDR facts it already holds.
func reject(p call.Plan, code int, reason string) call.Plan {
	p.Reject, p.Reason, p.Trunks = code, reason, nil
	return p
}

// disallowedCode returns the disallowed code that the number, as dialled or
// as normalised, begins with.
func (tc *tenantConfig) disallowedCode(dialled, normalized string) (string, bool) {
	for _, c := range tc.disallowed {
		if strings.HasPrefix(dialled, c) || strings.HasPrefix(normalized, c) {
			return c, true
		}
	}
	return "", false
}

// callPolicy is what a caller's role lets it call: PortSIP's role
// policies internal_calls, domestic_calls and international_calls.
type callPolicy struct {
	Internal      bool `json:"internal_calls"`
	Domestic      bool `json:"domestic_calls"`
	International bool `json:"international_calls"`
}

// policy returns the caller's call policy. The built-in roles need no
// query: they all call extensions and domestic numbers, and Admin and
// StandardInternationalUser call abroad (internal/api/roles.go). A custom
// role's policies are read from the store on each call, not taken from the
// origin, so that a changed role counts at once; an unreadable one permits
// nothing. A call placed by no user (o.User zero) is permitted all.
func (r *Router) policy(ctx context.Context, tenant pbx.TenantID, u pbx.User) (callPolicy, error) {
	if u.ID == 0 {
		return callPolicy{Internal: true, Domestic: true, International: true}, nil
	}
	if u.Role.IsBuiltin() {
		intl := strings.EqualFold(string(u.Role), string(pbx.RoleAdmin)) ||
			strings.EqualFold(string(u.Role), string(pbx.RoleStandardInternationalUser))
		return callPolicy{Internal: true, Domestic: true, International: intl}, nil
	}
	role, perms, err := r.d.Store.UserRole(ctx, tenant, u.ID)
	if pbx.ErrorCode(err) == pbx.ENOTFOUND {
		return callPolicy{}, nil
	} else if err != nil {
		return callPolicy{}, fmt.Errorf("read role of user %s: %w", u.ID, err)
	}
	if perms == nil {
		// The role became a built-in one since the user authenticated.
		u.Role = role
		if role.IsBuiltin() {
			return r.policy(ctx, tenant, u)
		}
		return callPolicy{}, nil
	}
	var p struct {
		Policies callPolicy `json:"policies"`
	}
	if err := json.Unmarshal(perms, &p); err != nil {
		r.log.Warn("role permissions unreadable", "tenant", tenant, "role", role, "error", err)
		return callPolicy{}, nil
	}
	return p.Policies, nil
}

// userSettings are the fields of a user's settings (internal/api/users.go)
// that outbound routing reads.
type userSettings struct {
	AnonymousOutboundCalls bool `json:"anonymous_outbound_calls"`
	// DeliveryOutboundCID false withholds the caller ID on outbound calls,
	// like anonymous_outbound_calls (PortSIP's default is true).
	DeliveryOutboundCID *bool `json:"delivery_outbound_cid"`
	OutboundCallerIDs   []struct {
		ProviderID string `json:"provider_id"`
		CallerID   string `json:"caller_id"`
		Preferred  bool   `json:"preferred"`
	} `json:"outbound_caller_ids"`
}

func userSettingsOf(u pbx.User) userSettings {
	var s userSettings
	if len(u.Settings) > 0 {
		json.Unmarshal(u.Settings, &s) // a user without readable settings has none of these
	}
	return s
}

// callerID returns the user's outbound caller ID for a trunk: among the
// entries for that trunk or for no trunk in particular, the preferred one,
// else the first. PortSIP lists caller IDs per provider; an entry without a
// provider is read as good for any trunk.
func (s userSettings) callerID(provider pbx.ID) string {
	best, bestPreferred := "", false
	want := provider.String()
	for _, c := range s.OutboundCallerIDs {
		if c.CallerID == "" || (c.ProviderID != "" && c.ProviderID != want) {
			continue
		}
		if best == "" || c.Preferred && !bestPreferred {
			best, bestPreferred = c.CallerID, c.Preferred
		}
	}
	return best
}

// anonymous reports whether the caller asked to withhold its identity: a
// From of "anonymous" or "anonymous.invalid" (RFC 3261, RFC 3323), or a
// Privacy header with id (RFC 3325) or user (RFC 3323).
func anonymous(req *sip.Request) bool {
	if f := req.From(); f != nil {
		if strings.EqualFold(f.Address.User, "anonymous") || strings.EqualFold(f.Address.Host, "anonymous.invalid") {
			return true
		}
	}
	for _, h := range req.GetHeaders("Privacy") {
		for _, tok := range strings.FieldsFunc(h.Value(), func(c rune) bool { return c == ';' || c == ',' || c == ' ' }) {
			if strings.EqualFold(tok, "id") || strings.EqualFold(tok, "user") {
				return true
			}
		}
	}
	return false
}
