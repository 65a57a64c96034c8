// Package routing decides where each new call goes: it implements
// call.Router on top of the pure tables of package dialplan and the
// configuration the API writes into the store (PortSIP PBX v22 inbound and
// outbound rules, trunks and their assignees, holidays, the tenant's e164
// and office hours, blacklisted numbers, disallowed codes and emergency
// numbers).
//
// A Router compiles each tenant's configuration once, on the first call that
// needs it, into an immutable snapshot (outbound table, emergency table,
// inbound table, E.164 settings, time zone, number lists, who is in which
// applied group) and keeps it until Changed drops it. A call then costs one
// store query (is the dialled number an extension?) and, for an
// international number, a second one (the caller's current role).
//
// Where PortSIP leaves a rule open, the function that implements it says
// which interpretation this package chose. The ones that shape behaviour
// most:
//
//   - A dialled number that is an extension of the caller's tenant is always
//     an extension call; outbound rules are for everything else.
//   - Emergency numbers match exactly (after E.164 processing), never as
//     prefixes, so that "911" does not swallow "9115551234". They bypass
//     the role's permissions and the disallowed codes, and route through
//     the outbound rules as if every rule applied to every group at every
//     hour.
//   - A disallowed code is a prefix of the number as dialled or as
//     normalised; an inbound rule forwarding out is checked against it too,
//     but not against a role, as no user placed the call.
//   - A call from a trunk goes to the one tenant, among those the trunk is
//     assigned to, whose enabled inbound rule matches the DID and whose
//     assignment allows that DID. If several tenants claim it, the call is
//     refused rather than given to any of them.
//   - The blacklist refuses callers arriving from trunks (603), comparing
//     the number as sent and as normalised; an entry past its expire_at no
//     longer counts. It does not restrict what users dial: that is what
//     disallowed codes are for.
//   - A trunk's caller ID is the route's outbound_caller_id, else the
//     caller's own for that trunk (preferred first; an entry naming no
//     trunk fits any). A call is anonymous when the user's
//     anonymous_outbound_calls is on, its From is anonymous or it carries
//     Privacy: id or user.
//   - An inbound rule's missing holiday destination falls back to its
//     outside-hours destination, and that to its office-hours one.
//   - Office hours that enable no weekday are read as never configured
//     (always open) for the tenant, since that is what a new tenant holds.
package routing
