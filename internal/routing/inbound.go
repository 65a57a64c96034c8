package routing

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/pbx"
)

// inboundMatch is a tenant whose inbound rule takes a call.
type inboundMatch struct {
	tc   *tenantConfig
	dest dialplan.Destination
	// listed is true when the tenant's assignment names the DID, rather
	// than leaving its DID list empty (every DID of the trunk).
	listed bool
}

// fromTrunk routes a call arriving from trunk o.Trunk. Trunks reads the
// caller and the DID out of the INVITE by the trunk's inbound parameters;
// then every tenant the trunk is assigned to is asked for an enabled inbound
// rule matching the DID and caller at this moment in its own time zone.
//
// Only a tenant whose assignment allows the DID is asked (an empty DID list
// allows every DID, as the API reads it), so a DID is never routed by a
// tenant the trunk does not give it to. If more than one tenant has a
// matching rule, a tenant whose assignment lists the DID wins over one whose
// list is empty; if that still leaves several, the call is refused (404) and
// a warning logged, since handing it to any of them could leak one tenant's
// calls to another.
//
// The DID is tried as the trunk gives it and, when it begins with '+',
// without the '+', because carriers differ on sending E.164 DIDs with it.
func (r *Router) fromTrunk(ctx context.Context, o call.Origin, req *sip.Request) (call.Plan, error) {
	caller, name, did, anon, ok := r.d.Trunks.Incoming(o.Trunk, req)
	if !ok {
		return call.Plan{Reject: sip.StatusNotFound, Reason: "unknown trunk"}, nil
	}
	pc, err := r.provider(ctx, o.Trunk)
	if err != nil {
		return call.Plan{}, err
	}
	now := r.d.Now()
	var found []inboundMatch
	for _, a := range pc.assignees {
		tc, err := r.tenant(ctx, a.Tenant)
		if pbx.ErrorCode(err) == pbx.ENOTFOUND {
			continue // deleted since the trunk's assignees were read
		} else if err != nil {
			return call.Plan{}, err
		}
		if !tc.tenant.Enabled {
			continue
		}
		asg, ok := tc.providers[o.Trunk]
		if !ok {
			continue
		}
		for _, d := range didForms(did) {
			if !didAllowed(d, asg.DIDNumbers) {
				continue
			}
			if dest, ok := tc.inbound.Match(o.Trunk, d, caller, now, tc.tz, nil); ok {
				found = append(found, inboundMatch{tc: tc, dest: dest, listed: strings.TrimSpace(asg.DIDNumbers) != ""})
				break
			}
		}
	}
	m, ok := r.pickTenant(found, o.Trunk, did)
	if !ok {
		return call.Plan{Reject: sip.StatusNotFound, Reason: "no inbound rule", Trunk: pc.name, Callee: did, DIDCID: did}, nil
	}
	tc := m.tc
	p := call.Plan{Tenant: tc.tenant, Direction: call.InboundCall, Caller: caller, CallerName: name, Callee: did, DIDCID: did, Trunk: pc.name,
		Anonymous: anon}
	if tc.blacklisted(caller, now) {
		return reject(p, sip.StatusGlobalDecline, "blacklisted caller"), nil
	}
	switch m.dest.Action {
	case dialplan.Hangup:
		return reject(p, sip.StatusGlobalDecline, "inbound rule hangs up"), nil
	case dialplan.ForwardToVoicemail:
		return r.toVoicemail(p, m.dest.Number), nil
	}
	number := m.dest.Number
	if number == "" {
		return reject(p, sip.StatusNotFound, "inbound rule has no number"), nil
	}
	if ip, ok := r.toIVR(tc, p, number); ok {
		return ip, nil
	}
	if callee, ok, err := r.extension(ctx, tc, number); err != nil {
		return call.Plan{}, err
	} else if ok {
		return r.toUser(ctx, tc, p, callee, 0)
	}
	return r.forwardOut(tc, p, number, caller, name, anon), nil
}

// pickTenant chooses among the tenants that would take a call; see
// fromTrunk.
func (r *Router) pickTenant(found []inboundMatch, trunk pbx.ID, did string) (inboundMatch, bool) {
	if len(found) > 1 {
		var listed []inboundMatch
		for _, m := range found {
			if m.listed {
				listed = append(listed, m)
			}
		}
		if len(listed) > 0 {
			found = listed
		}
	}
	switch len(found) {
	case 0:
		return inboundMatch{}, false
	case 1:
		return found[0], true
	}
	ids := make([]string, len(found))
	for i, m := range found {
		ids[i] = m.tc.tenant.ID.String()
	}
	r.log.Warn("DID claimed by several tenants, call refused", "provider_id", trunk, "did", did, "tenants", strings.Join(ids, ","))
	return inboundMatch{}, false
}

// forwardOut sends a call from a trunk out again through the tenant's
// outbound rules, as an inbound rule forwarding to an external number asks.
// No user placed the call, so only rules applied to no group match, the
// role permission is not checked, and no user caller ID applies; the
// tenant's disallowed codes still hold, as they protect the tenant's bill
// whoever configured the forward. The original caller is both the caller
// and the originator caller ID.
func (r *Router) forwardOut(tc *tenantConfig, p call.Plan, number, caller, name string, anon bool) call.Plan {
	p.Direction = call.InboundOutboundCall
	n := dialplan.Normalize(tc.e164, number)
	if code, ok := tc.disallowedCode(number, n); ok {
		return reject(p, sip.StatusForbidden, "disallowed code "+code)
	}
	return r.placeOut(outCall{
		tc: tc, table: tc.outbound, normalized: n,
		base: call.TrunkCall{CallerNum: caller, CallerName: name, OriginatorCallerID: caller, Anonymous: anon, Domain: tc.tenant.Domain},
		plan: p,
	})
}

// toVoicemail sends a call to box's voicemail: the voicemail App answers
// it and records a message. Without voicemail the call is refused with 480
// (Temporarily Unavailable), the status a caller's carrier treats as "try
// later".
func (r *Router) toVoicemail(p call.Plan, box string) call.Plan {
	if r.d.Voicemail == nil || box == "" {
		return reject(p, sip.StatusTemporarilyUnavailable, "no voicemail")
	}
	p.App, p.Target, p.Extension = r.d.Voicemail.Deposit(), box, ""
	return p
}

// blacklisted reports whether caller is on the tenant's blacklist at now,
// comparing the number as it came and as the tenant's E.164 rules
// normalise it. An entry whose expire_at has passed no longer counts.
func (tc *tenantConfig) blacklisted(caller string, now time.Time) bool {
	for _, k := range numberForms(tc.e164, caller) {
		if exp, ok := tc.blacklist[k]; ok && (exp.IsZero() || now.Before(exp)) {
			return true
		}
	}
	return false
}

// didForms returns the DID as given and, for one with a leading '+',
// without it.
func didForms(did string) []string {
	if rest, ok := strings.CutPrefix(did, "+"); ok && rest != "" {
		return []string{did, rest}
	}
	return []string{did}
}

// didAllowed reports whether did is within an assignment's DID list: one of
// its numbers or ranges (the API's numbersWithin). An empty list allows
// every DID. A leading '+' is ignored on both sides, and a range holds the
// DIDs of digits whose length lies between its ends' and whose value lies
// between them.
func didAllowed(did, list string) bool {
	if strings.TrimSpace(list) == "" {
		return true
	}
	d := strings.TrimPrefix(did, "+")
	for _, e := range strings.FieldsFunc(list, func(c rune) bool { return c == ',' || c == ';' }) {
		e = strings.TrimSpace(e)
		lo, hi, isRange := strings.Cut(e, "-")
		lo, hi = strings.TrimPrefix(strings.TrimSpace(lo), "+"), strings.TrimPrefix(strings.TrimSpace(hi), "+")
		if !isRange {
			if d == lo {
				return true
			}
			continue
		}
		if allDigits(d) && len(d) >= len(lo) && len(d) <= len(hi) && numLE(lo, d) && numLE(d, hi) {
			return true
		}
	}
	return false
}

// numLE compares two digit strings as numbers.
func numLE(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a <= b
}
