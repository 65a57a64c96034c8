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
// of checks is: an extension of the tenant; an emergency number; a
// disallowed code (403); an international number the caller's role may not
// call (403); the outbound rules (404 when none applies).
func (r *Router) fromExtension(ctx context.Context, o call.Origin, req *sip.Request) (call.Plan, error) {
	number := req.Recipient.User
	tc, err := r.tenant(ctx, o.Tenant.ID)
	if err != nil {
		return call.Plan{}, err
	}
	if ok, err := r.isExtension(ctx, tc, number); err != nil {
		return call.Plan{}, err
	} else if ok {
		return call.Plan{Tenant: tc.tenant, Direction: call.ExtensionCall, Extension: number, Anonymous: anonymous(req)}, nil
	}

	n := dialplan.Normalize(tc.e164, number)
	us := userSettingsOf(o.User)
	out := outCall{
		tc:         tc,
		table:      tc.outbound,
		normalized: n,
		groups:     tc.userGroups[o.User.ID],
		base: call.TrunkCall{CallerNum: o.User.ExtensionNumber, CallerName: o.User.DisplayName, Domain: tc.tenant.Domain,
			Anonymous: us.AnonymousOutboundCalls || anonymous(req)},
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
	if dialplan.IsInternational(tc.e164, n) {
		ok, err := r.mayCallInternational(ctx, tc.tenant.ID, o.User)
		if err != nil {
			return call.Plan{}, err
		}
		if !ok {
			return reject(out.plan, sip.StatusForbidden, "international calls not permitted"), nil
		}
	}
	return r.placeOut(out), nil
}

// isExtension reports whether number is the extension of a user of the
// tenant. Only users are looked up: ring groups, queues and the other
// owners of the extension namespace have no call handling yet.
func (r *Router) isExtension(ctx context.Context, tc *tenantConfig, number string) (bool, error) {
	if number == "" {
		return false, nil
	}
	_, err := r.d.Store.UserByExtension(ctx, tc.tenant.ID, number)
	switch pbx.ErrorCode(err) {
	case "":
		return true, nil
	case pbx.ENOTFOUND:
		return false, nil
	}
	return false, fmt.Errorf("look up extension %s of tenant %s: %w", number, tc.tenant.ID, err)
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

// mayCallInternational reports whether the user's current role grants
// international_calls. The built-in roles grant it to Admin and
// StandardInternationalUser only (internal/api/roles.go); a custom role
// grants it when its permissions JSON has policies.international_calls.
// The role is read from the store on each international call, not taken
// from the origin, so that a changed role counts at once.
func (r *Router) mayCallInternational(ctx context.Context, tenant pbx.TenantID, u pbx.User) (bool, error) {
	role, perms := u.Role, json.RawMessage(nil)
	if u.ID != 0 {
		var err error
		role, perms, err = r.d.Store.UserRole(ctx, tenant, u.ID)
		if pbx.ErrorCode(err) == pbx.ENOTFOUND {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("read role of user %s: %w", u.ID, err)
		}
	}
	if perms == nil {
		return strings.EqualFold(string(role), string(pbx.RoleAdmin)) ||
			strings.EqualFold(string(role), string(pbx.RoleStandardInternationalUser)), nil
	}
	var p struct {
		Policies struct {
			InternationalCalls bool `json:"international_calls"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(perms, &p); err != nil {
		r.log.Warn("role permissions unreadable", "tenant", tenant, "role", role, "error", err)
		return false, nil
	}
	return p.Policies.InternationalCalls, nil
}

// userSettings are the fields of a user's settings (internal/api/users.go)
// that outbound routing reads.
type userSettings struct {
	AnonymousOutboundCalls bool `json:"anonymous_outbound_calls"`
	OutboundCallerIDs      []struct {
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
