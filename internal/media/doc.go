// Package media anchors calls' media in the PBX. A PortPool hands out
// pairs of UDP sockets (RTP on an even port, RTCP on the next) from a
// configured range and rests freed ports before reuse, so that a new call
// never receives the tail of an old one. A Relay bridges one media stream
// of two call legs packet by packet, without decoding, with symmetric RTP
// latching (packets go to where the other side's packets come from, which
// is what makes phones behind NAT work; another source takes over only
// after the latched one fell silent, so nobody can hijack a call) and a
// media timeout.
package media
