// Package load is gopbx's SIP load generator. Run registers a callee
// extension that answers every call, and places calls through the PBX
// (INVITE, ACK, BYE): from a caller extension with digest authentication,
// or, playing a carrier on an IP-authenticated trunk, without credentials
// to a DID that the PBX's inbound rule routes to the callee. G.711 RTP
// flows both ways while each call is up; it reports call setup rate and
// latency and how much of the RTP came through, and, over a steady window
// with every call up, the loss and the CPU time and memory of watched
// server processes. Calls can also go, without a callee, to a number the
// PBX answers itself (an IVR, voicemail boxes), send RFC 4733 keys at set
// offsets and count the PBX's hang-ups that follow, and report each call's
// largest gap between two RTP packets from the PBX; the audio sent carries
// a frame counter, so RecordingGaps finds what a recording of it lacks
// (bench/apps/run.sh). RunRegister registers many distinct extensions with
// digest authentication and reports the rate and latency. Both speak plain
// SIP over UDP, so the same generator drives gopbx and the anchors it is
// compared with (bench/sip/run.sh: Kamailio, rtpengine). cmd/sipbench is
// its command line; the tests here boot an in-process PBX.
package load
