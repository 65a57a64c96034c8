package trunk

import (
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
)

// Binding is the registration of an ACCEPT_REGISTER trunk's device (a
// gateway, a carrier's SBC) at the PBX: where it registered from and the
// Contact it gave. The Registry keeps one per trunk, in memory only: a
// device refreshes its registration often, and after a restart it is
// unknown until it does, exactly as before it first registered.
type Binding struct {
	// Contact is the Contact URI the device registered; outbound calls
	// through the trunk use it as their Request-URI, with the called number
	// as user.
	Contact sip.Uri
	// Source is the address the REGISTER came from. Requests to the trunk
	// are sent there rather than to the Contact, so that a device behind
	// NAT is reached on its own flow; its IP also identifies the trunk's
	// requests (Registry.Identify).
	Source netip.AddrPort
	// Transport is UDP, TCP or TLS.
	Transport string
	// ExpiresAt is when the registration ends unless refreshed; from then
	// on the trunk counts as unregistered.
	ExpiresAt time.Time
}

// accepts reports whether c takes registrations from its device: an
// enabled ACCEPT_REGISTER trunk.
func (c Config) accepts() bool {
	return c.SIP() && c.AuthMode == AcceptRegister
}

// Account returns the enabled ACCEPT_REGISTER trunk whose auth_id or
// username is user (case-sensitive, as SIP user parts are). When several
// trunks share the name, the oldest (lowest ID) wins, so that the answer
// does not depend on map order; the API should not let that happen.
func (r *Registry) Account(user string) (Config, bool) {
	if user == "" {
		return Config{}, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	var found Config
	ok := false
	for _, c := range r.configs {
		if !c.accepts() || (c.AuthID != user && c.Username != user) {
			continue
		}
		if !ok || c.ID < found.ID {
			found, ok = c, true
		}
	}
	return found, ok
}

// Accept stores b as the registration of trunk id, replacing the one it
// had: a trunk has one device, and its latest REGISTER says where it is.
// The caller has authenticated the device with the trunk's credentials.
// Accept returns false, storing nothing, when id is not an enabled
// ACCEPT_REGISTER trunk (it may have been disabled since Account) or b has
// expired already. A new registration, not a refresh, is logged and
// reported to OnEvent as registered.
func (r *Registry) Accept(id pbx.ID, b Binding) bool {
	now := r.d.Now()
	if !b.ExpiresAt.After(now) || !b.Source.IsValid() {
		return false
	}
	b.Source = netip.AddrPortFrom(b.Source.Addr().Unmap(), b.Source.Port())
	b.Transport = strings.ToUpper(b.Transport)
	r.mu.Lock()
	c, ok := r.configs[id]
	if !ok || !c.accepts() {
		r.mu.Unlock()
		return false
	}
	old, had := r.accepts[id]
	r.accepts[id] = b
	r.mu.Unlock()
	if !had || !old.ExpiresAt.After(now) || old.Source != b.Source {
		r.log.Info("trunk registered", "trunk", c.Name, "trunk_id", id, "source", b.Source.String(),
			"transport", b.Transport, "expires", b.ExpiresAt.Sub(now).Round(time.Second))
		if r.d.OnEvent != nil {
			r.d.OnEvent(Event{Trunk: id, Name: c.Name, Kind: EventRegistered, Detail: b.Source.String(), At: now})
		}
	}
	return true
}

// Release removes the registration of trunk id whose Contact is contact
// (same user, host and port), or whatever registration it has when contact
// is the wildcard "*": the device unregistered (Expires: 0). A contact that
// is not the registered one changes nothing, so that a stale device cannot
// unregister the one that replaced it. Release returns whether a
// registration was removed.
func (r *Registry) Release(id pbx.ID, contact sip.Uri) bool {
	r.mu.Lock()
	b, ok := r.accepts[id]
	if !ok || (!contact.Wildcard && !sameContact(b.Contact, contact)) {
		r.mu.Unlock()
		return false
	}
	delete(r.accepts, id)
	c := r.configs[id]
	r.mu.Unlock()
	r.log.Info("trunk unregistered", "trunk", c.Name, "trunk_id", id, "source", b.Source.String())
	return true
}

// Registration returns the live registration of trunk id, if it has one.
func (r *Registry) Registration(id pbx.ID) (Binding, bool) {
	now := r.d.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.liveBindingLocked(id, now)
}

// liveBindingLocked is the registration of trunk id unless it has expired
// or the trunk no longer accepts one; r.mu is held.
func (r *Registry) liveBindingLocked(id pbx.ID, now time.Time) (Binding, bool) {
	b, ok := r.accepts[id]
	if !ok || !b.ExpiresAt.After(now) || !r.configs[id].accepts() {
		return Binding{}, false
	}
	return b, true
}

// acceptedAtLocked is the ACCEPT_REGISTER trunk with a live registration
// from src (the lowest ID when several); r.mu is held.
func (r *Registry) acceptedAtLocked(src netip.Addr, now time.Time) (Config, bool) {
	var found Config
	ok := false
	for id, b := range r.accepts {
		if b.Source.Addr() != src || !b.ExpiresAt.After(now) {
			continue
		}
		c, known := r.configs[id]
		if !known || !c.accepts() {
			continue
		}
		if !ok || id < found.ID {
			found, ok = c, true
		}
	}
	return found, ok
}

// keepAccepted drops the registrations that a reload invalidates: the
// trunk was deleted, disabled, moved to another mode, or its account or
// password changed (the device must prove the new credentials). r.mu is
// held; old are the configs before the reload.
func (r *Registry) keepAccepted(old, cfgs map[pbx.ID]Config) {
	for id := range r.accepts {
		c, ok := cfgs[id]
		o := old[id]
		if !ok || !c.accepts() || c.AuthID != o.AuthID || c.Username != o.Username || c.Password != o.Password {
			delete(r.accepts, id)
		}
	}
}

// acceptRoute points rt at the registered device: the INVITE goes to
// where the REGISTER came from, over its transport, and its Request-URI is
// the registered Contact (host, port and parameters) with the called
// number as user, unless the trunk's request_line_uri_host_part says
// otherwise.
func (c Config) acceptRoute(rt call.TrunkRoute, b Binding) call.TrunkRoute {
	rt.Dest, rt.Transport = b.Source.String(), b.Transport
	if c.Outbound.RequestURIHost.isSet() {
		return rt
	}
	rt.RequestURI.Host, rt.RequestURI.Port = b.Contact.Host, b.Contact.Port
	rt.RequestURI.UriParams = nil
	if b.Contact.UriParams != nil {
		rt.RequestURI.UriParams = b.Contact.UriParams.Clone()
	}
	return rt
}

// sameContact reports whether two Contact URIs name the same device.
func sameContact(a, b sip.Uri) bool {
	return a.User == b.User && strings.EqualFold(a.Host, b.Host) && a.Port == b.Port
}
