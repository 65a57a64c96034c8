// Package sdp parses and rewrites Session Description Protocol bodies
// (RFC 4566) as the B2BUA needs them: it reads where each media stream wants
// to receive RTP and RTCP and in which direction, and rewrites the
// connection addresses and ports so that media flows through the PBX's
// relay. Everything else (codecs, attributes, order of lines) is kept as
// the phone wrote it. The package is pure: no I/O, no clocks.
package sdp
