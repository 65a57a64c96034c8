package main

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/api"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/trunk"
)

// trunks adapts the trunks' runtime to what signalling, routing and the API
// each declare they need of it.
type trunks struct{ r *trunk.Registry }

var (
	_ signaling.Trunks        = trunks{}
	_ signaling.TrunkAccounts = trunks{}
)

// TrunkAt is signaling.Trunks: the trunk a request's source address is.
func (t trunks) TrunkAt(src netip.Addr) (pbx.ID, bool) {
	c, ok := t.r.Identify(src)
	return c.ID, ok
}

// TrunkAccount is signaling.TrunkAccounts: the ACCEPT_REGISTER trunk
// whose account user is.
func (t trunks) TrunkAccount(user string) (signaling.TrunkAccount, bool) {
	c, ok := t.r.Account(user)
	return signaling.TrunkAccount{ID: c.ID, AuthID: c.AuthID, Username: c.Username, Password: c.Password}, ok
}

// BindTrunk is signaling.TrunkAccounts: a trunk's device registered.
func (t trunks) BindTrunk(id pbx.ID, b signaling.TrunkBinding) bool {
	return t.r.Accept(id, trunk.Binding{Contact: b.Contact, Source: b.Source, Transport: b.Transport, ExpiresAt: b.ExpiresAt})
}

// UnbindTrunk is signaling.TrunkAccounts: a trunk's device unregistered.
func (t trunks) UnbindTrunk(id pbx.ID, contact sip.Uri) { t.r.Release(id, contact) }

// Route is routing.Trunks: the INVITE of a call through trunk id.
func (t trunks) Route(id pbx.ID, tc call.TrunkCall) (call.TrunkRoute, bool) { return t.r.Route(id, tc) }

// Incoming is routing.Trunks: the caller and called numbers of a call from
// trunk id, read as its inbound parameters say.
func (t trunks) Incoming(id pbx.ID, req *sip.Request) (callerNum, callerName, calledNum string, anonymous, ok bool) {
	c, ok := t.r.Trunk(id)
	if !ok {
		return "", "", "", false, false
	}
	callerNum, callerName, calledNum, anonymous = c.Incoming(req)
	return callerNum, callerName, calledNum, anonymous, true
}

// TrunkStatus is api.Trunks: a trunk's live state.
func (t trunks) TrunkStatus(id pbx.ID) (api.TrunkStatus, bool) {
	if _, ok := t.r.Trunk(id); !ok {
		return api.TrunkStatus{}, false
	}
	st := t.r.Status(id)
	return api.TrunkStatus{Online: st.Up, Registration: st.State, LastError: st.LastError, LastStatusCode: st.LastStatusCode,
		ExpiresAt: st.ExpiresAt, LiveCalls: st.LiveCalls}, true
}
