package registrar

import (
	"context"
	"slices"
	"strings"

	"github.com/gopbx/gopbx/internal/pbx"
)

// flowKey names a connection-oriented flow (RFC 5626 section 3): the
// transport and the phone's ip:port as the REGISTER's Source gives it.
type flowKey struct {
	transport string
	source    string
}

// reliable reports whether transport keeps a connection whose loss ends
// the flow: TCP, TLS, WS and WSS. UDP has no connection to lose.
func reliable(transport string) bool {
	switch strings.ToUpper(transport) {
	case "TCP", "TLS", "WS", "WSS":
		return true
	}
	return false
}

// indexFlowLocked records that b's user has a binding over b's flow. The
// caller holds the user's lock.
func (r *Registrar) indexFlowLocked(b pbx.Binding) {
	if !reliable(b.Transport) {
		return
	}
	k := flowKey{strings.ToUpper(b.Transport), b.Source}
	r.flowMu.Lock()
	if !slices.Contains(r.flows[k], b.User) {
		r.flows[k] = append(r.flows[k], b.User)
	}
	r.flowMu.Unlock()
}

// RemoveFlow deletes, at once, every binding registered over the
// connection that transport ("TCP", "TLS", "WS" or "WSS", any case) and
// source (the phone's "ip:port") name, and says how many. Signalling calls
// it when that connection closes (RFC 5626 section 4.4 flow failure): a
// phone behind NAT cannot be reached over a new connection, so calls must
// stop forking to it. Bindings over UDP are never touched. Lookups stop
// seeing the bindings at once; the database at the next flush. It is safe
// for concurrent use.
func (r *Registrar) RemoveFlow(ctx context.Context, transport, source string) int {
	if !reliable(transport) {
		return 0
	}
	k := flowKey{strings.ToUpper(transport), source}
	r.flowMu.Lock()
	users := r.flows[k]
	delete(r.flows, k)
	r.flowMu.Unlock()
	n := 0
	for _, u := range users {
		ub := r.lock(u)
		keep := slices.DeleteFunc(slices.Clone(ub.bs), func(b pbx.Binding) bool {
			return b.Source == k.source && strings.EqualFold(b.Transport, k.transport)
		})
		if gone := len(ub.bs) - len(keep); gone > 0 {
			for _, b := range ub.bs {
				if b.Source == k.source && strings.EqualFold(b.Transport, k.transport) {
					r.log.Info("contact removed: connection closed", "tenant", b.Tenant, "extension", b.Extension,
						"contact", b.Contact, "transport", b.Transport, "source", b.Source)
				}
			}
			n += gone
			r.setDeletesLocked(ub, keep)
		}
		ub.mu.Unlock()
	}
	return n
}
