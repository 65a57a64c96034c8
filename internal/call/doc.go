// Package call is the B2BUA: a Session owns the legs of one call, relays
// provisional and final answers, re-INVITEs, UPDATEs, INFOs and BYEs between
// them, anchors their media through package media, and records the facts a
// CDR needs.
package call
