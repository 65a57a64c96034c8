package call

import (
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Direction says where a call came from and went, as PortSIP names it.
type Direction string

// Directions.
const (
	ExtensionCall       Direction = "EXTENSION_CALL"
	InboundCall         Direction = "INBOUND_CALL"
	OutboundCall        Direction = "OUTBOUND_CALL"
	InboundOutboundCall Direction = "INBOUND_OUTBOUND_CALL"
)

// EndReason says how a call ended, as PortSIP names it. The empty value is
// a call that failed before anyone hung up (see StatusCode).
type EndReason string

// End reasons.
const (
	EndCallerDisconnected       EndReason = "CALLER_DISCONNECTED"
	EndCalleeDisconnected       EndReason = "CALLEE_DISCONNECTED"
	EndBlindTransferCompleted   EndReason = "BLIND_TRANSFER_COMPLETED"
	EndConsultTransferCompleted EndReason = "CONSULT_TRANSFER_COMPLETED"
	EndReplaced                 EndReason = "REPLACED"
	EndReferred                 EndReason = "REFERRED"
	EndRedirected               EndReason = "REDIRECTED"
	EndCancelled                EndReason = "CANCELLED"
)

// CDR is one call detail record: PortSIP's CDR fields, as GET /api/cdrs
// shows them. The Manager writes one at the end of every call, answered or
// not, through its CDRWriter (store.DB). Times are zero when the call never got
// there (RangAt of a call that never rang, AnsweredAt of an unanswered
// call).
type CDR struct {
	ID                pbx.ID
	Tenant            pbx.TenantID
	SessionID         pbx.ID
	CallID            string // the caller's Call-ID
	Caller            string // extension number or SIP user
	CallerDomain      string
	CallerDisplayName string
	Callee            string
	CalleeDomain      string
	CalleeDisplayName string
	StartedAt         time.Time
	RangAt            time.Time
	AnsweredAt        time.Time
	EndedAt           time.Time
	Direction         Direction
	EndReason         EndReason
	RerouteReason     string
	// StatusCode is the SIP final status of the call: 0 when answered, as
	// PortSIP does, else the code the caller got (486, 480, 487...).
	StatusCode       int
	Destination      string // the contact that answered, or the dialled URI
	OutboundCallerID string
	DIDCID           string
	Trunk            string
	Duration         int // seconds talked (answered to ended)
	ServiceNumber    string
	UserData         string
}
