package signaling

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
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
