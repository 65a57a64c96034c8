package call

import "github.com/gopbx/gopbx/internal/pbx"

// Origin is who placed a call, as signalling established it: the tenant
// found from the domain and, for an extension, the user that authenticated;
// or, for a call from a carrier, the trunk its source address belongs to
// (the tenant is then the Router's to find, from the DID).
type Origin struct {
	Tenant    pbx.Tenant
	User      pbx.User
	Trunk     pbx.ID
	Source    string // ip:port the INVITE came from
	Transport string // UDP, TCP, TLS
}
