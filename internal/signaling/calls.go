package signaling

import (
	"context"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
)

// CallHandler takes the calls that signalling has authenticated. The B2BUA
// (call.Manager) implements it; signalling owns transports, authentication
// and flood control, and never looks inside a dialog.
type CallHandler interface {
	// Invite handles a dialog-creating INVITE from origin. It owns tx and must
	// answer it; ctx ends when the server shuts down.
	Invite(ctx context.Context, origin call.Origin, req *sip.Request, tx sip.ServerTransaction)
	// InDialog handles a request that belongs to an existing dialog or
	// transaction of the handler (ACK, BYE, CANCEL, re-INVITE, UPDATE, INFO,
	// PRACK, REFER, NOTIFY). It returns false when it knows no such dialog, and
	// signalling then answers 481.
	InDialog(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) bool
}

// Trunks tells carriers' requests apart by their source address: an INVITE
// from a trunk's address is a call from that trunk, taken without digest
// authentication (IP_AUTH and REGISTER_AUTH carriers do not answer
// challenges, and an ACCEPT_REGISTER trunk's device proved its password
// when it registered from that address; see TrunkAccounts). Everything
// else must authenticate as an extension.
type Trunks interface {
	TrunkAt(src netip.Addr) (pbx.ID, bool)
}

type trunksBox struct{ t Trunks }

// SetTrunks sets (or, with nil, removes) the trunks whose calls the server
// takes. It may be called at any time.
func (s *Server) SetTrunks(t Trunks) { s.trunks.Store(&trunksBox{t}) }

// trunkAt is the trunk req came from, if any.
func (s *Server) trunkAt(req *sip.Request) (pbx.ID, bool) {
	b := s.trunks.Load()
	if b == nil || b.t == nil {
		return 0, false
	}
	return b.t.TrunkAt(sourceIP(req))
}
