// Package signaling is the SIP edge of gopbx, on sipgo. A Server owns the
// UDP, TCP and TLS listeners and those of SIP over WebSocket (RFC 7118, WS
// and WSS, for browsers: signalling only, no WebRTC media); finds the tenant of every request from its
// domain; authenticates extensions with stateless digest nonces (SHA-256
// and MD5); answers OPTIONS; hands REGISTER to package registrar and calls
// to a CallHandler (the B2BUA); takes the registrations of ACCEPT_REGISTER
// trunks' devices (TrunkAccounts) and the calls of trunks
// (Trunks); and defends itself: per-IP rate limits, a
// block after repeated failed authentications (persisted as IP filters),
// and answers that never tell a scanner which extensions exist.
//
// The B2BUA sends its own requests through Server.Client, on the same
// transports, so that requests reach phones behind NAT on the flow they
// registered from.
package signaling
