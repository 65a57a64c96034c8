// Package trunk is the SIP side of the PBX's trunks (PortSIP's providers):
// it reads a trunk's settings as the API stored them, builds the headers of
// an outgoing INVITE from the trunk's outbound parameters, reads the caller
// and called numbers of an incoming one from its inbound parameters, and
// runs what a trunk needs while the PBX is up: registration for
// REGISTER_AUTH trunks, OPTIONS keepalives, the table of source addresses
// that identifies IP_AUTH trunks, the registrations of ACCEPT_REGISTER
// trunks' devices (which register to the PBX as a phone does, and are then
// identified and reached by them), and each trunk's count of live calls.
//
// The pure parts (Config, Config.Route, Config.Incoming) need no I/O and are
// what the dialplan and the B2BUA call per call. The Registry is the one
// long-lived component: cmd/gopbx runs it beside the SIP edge and calls
// Reload when the API changes a provider.
package trunk
