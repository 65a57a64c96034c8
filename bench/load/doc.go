// Package load is gopbx's SIP load generator: it registers a callee
// extension that answers every call, and places calls from a caller
// extension through the PBX (INVITE with digest authentication, ACK, BYE),
// with G.711 RTP flowing both ways while each call is up. It reports call
// setup rate and latency and how much of the RTP came through.
// cmd/sipbench is its command line; the tests here boot an in-process PBX.
package load
