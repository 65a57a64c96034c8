package call

import "github.com/gopbx/gopbx/internal/pbx"

// Origin is who placed a call, as signalling established it: the tenant
// found from the domain and, for an extension, the user that authenticated.
type Origin struct {
	Tenant    pbx.Tenant
	User      pbx.User
	Source    string // ip:port the INVITE came from
	Transport string // UDP, TCP, TLS
}
