// Package call is the B2BUA: a Session owns the legs of one call, relays
// provisional and final answers, re-INVITEs, UPDATEs, INFOs and BYEs between
// them, anchors their media through package media, and records the facts a
// CDR needs.
//
// Each of the PBX's two dialogs of a call is its own: reliable provisionals
// (RFC 3262, prack.go) and session timers (RFC 4028, timer.go toward the
// caller, refresh.go toward the callee) are run per dialog, not passed
// through; the PBX resends its own 2xx and reliable provisionals over UDP
// (clock.go, retransmit.go); requests toward a phone on TCP or TLS go over
// the connection the phone opened (flow.go); and a REFER from either phone
// is a blind transfer the PBX carries out itself (refer.go), or with
// Replaces an attended transfer that joins the phone's two other parties
// (replaces.go).
package call
