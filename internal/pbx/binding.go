package pbx

import "time"

// Binding is one registered contact of an extension (RFC 3261 section 10,
// RFC 5626 instance and reg-id). Source and Transport say where the REGISTER
// came from: requests to the contact go back there, over the same flow, so
// that phones behind NAT can be reached.
type Binding struct {
	ID         ID
	Tenant     TenantID
	User       ID
	Extension  string
	Contact    string // the Contact URI as the phone sent it
	InstanceID string // +sip.instance, without quotes or angle brackets
	RegID      int
	CallID     string
	CSeq       uint32
	Source     string // ip:port the REGISTER came from
	Transport  string // UDP, TCP, TLS, WS, WSS
	UserAgent  string
	ExpiresAt  time.Time
	CreatedAt  time.Time
}
