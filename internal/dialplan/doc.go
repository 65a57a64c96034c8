// Package dialplan holds the pure call-routing logic of a tenant: E.164
// number processing, outbound rules that choose trunks for a dialled number,
// and inbound rules that choose a destination for a call arriving on a DID.
//
// Everything here is a pure function of typed inputs. Nothing reads a store,
// a clock or a global random source: callers pass the time, the tenant's
// time zone, holidays and (for RANDOMLY routing) a shuffle function. The
// types mirror PortSIP PBX v22 objects (tenant e164, POST /outbound_rules,
// POST /inbound_rules, POST /holidays); the store layer converts its rows to
// these types and builds an OutboundTable and an InboundTable once per
// tenant configuration change. Tables are immutable after construction and
// safe for concurrent use by any number of goroutines.
//
// The order of processing for an outbound call is:
//
//	n := dialplan.Normalize(tenantE164, dialled) // chapter 18 rules
//	cands := outbound.Match(n, callerGroups, now, tenantTZ)
//	// try cands in order; each carries the number already stripped/prepended
//
// For an inbound call:
//
//	dest, ok := inbound.Match(providerID, did, callerID, now, tenantTZ, holidays)
//
// Where PortSIP's documentation leaves a rule open, the doc comment of the
// function that implements it says which interpretation this package chose.
package dialplan
