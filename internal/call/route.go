package call

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Router decides where a new call goes: to an extension of a tenant, out
// through trunks, or nowhere. The Manager asks it for every new call; a
// Manager without a Router rings the dialled extension of the caller's
// tenant.
type Router interface {
	Route(ctx context.Context, origin Origin, req *sip.Request) (Plan, error)
}

// Outcome says why no phone answered an extension call.
type Outcome int

// The outcomes of an extension call that no phone answered.
const (
	// Busy: every phone answered busy (486 or 600).
	Busy Outcome = iota + 1
	// NoAnswer: the phones rang until the ring timeout, or failed
	// otherwise.
	NoAnswer
	// Offline: the callee has no phone registered.
	Offline
)

// String returns the outcome's name, for logs.
func (o Outcome) String() string {
	switch o {
	case Busy:
		return "busy"
	case NoAnswer:
		return "no answer"
	case Offline:
		return "offline"
	}
	return "unknown"
}

// AlwaysApp is a Plan.Unanswered that gives every outcome to app.
func AlwaysApp(app App) func(Outcome) App {
	return func(Outcome) App { return app }
}

// Plan is a Router's decision for one call.
type Plan struct {
	// Tenant is the tenant the call belongs to: the caller's, or for a call
	// from a trunk the tenant whose inbound rule took it.
	Tenant pbx.Tenant
	// Reject, when not zero, refuses the call with this SIP status
	// (blacklisted caller, disallowed code, no route, not permitted);
	// Reason says why, for the log.
	Reject int
	Reason string

	Direction Direction
	// Caller and CallerName are the caller as the CDR keeps it and the
	// callee sees it; empty means the origin's user or the From header.
	Caller, CallerName string
	// Callee is the dialled number as the CDR keeps it; empty means the
	// Request-URI's user.
	Callee string
	// Extension, when set, is the extension number of Tenant to ring.
	Extension string
	// App, when set, answers the call itself (voicemail, IVR); Target is
	// what it acts for (the voicemail box).
	App    App
	Target string
	// Unanswered, when set, chooses what takes an extension call that no
	// phone answers, by why (PortSIP's busy, no-answer and offline forward
	// rules): the App it returns answers the call (voicemail, or an App
	// that puts the caller through to another number), and nil lets the
	// call end with its status, as a HANGUP rule asks. Target is the
	// App's target too.
	Unanswered func(why Outcome) App
	// RingTimeout, when not zero, replaces the Manager's ring timeout for
	// this call: the callee's no-answer rule says how long its phones ring.
	RingTimeout time.Duration
	// Anonymous withholds the caller's identity from the phones rung (RFC
	// 3323: the PBX is the privacy service): their INVITE's From is
	// "Anonymous" <sip:anonymous@anonymous.invalid>. The CDR keeps the
	// caller. Trunk routes carry their own privacy headers.
	Anonymous bool
	// Trunks are tried one after another when Extension is empty: the next
	// is tried when one fails with a status that allows failover (see
	// Failover) or its concurrency limit is reached.
	Trunks []TrunkRoute
	// DIDCID and OutboundCallerID are CDR facts: the DID an inbound call
	// came to, the caller ID an outbound call showed.
	DIDCID           string
	OutboundCallerID string
	// Trunk is the name of the trunk an inbound call came from, for the
	// CDR; an outbound call's CDR names the trunk that took it.
	Trunk string
}

// TrunkRoute is one attempt to place a call through a trunk. The Router
// builds every header from the trunk's outbound parameters, so that the
// leg only sends what it is given.
type TrunkRoute struct {
	Trunk pbx.ID
	Name  string // for the CDR and logs
	// RequestURI, From and To are the INVITE's; FromName and ToName their
	// display names.
	RequestURI       sip.Uri
	From, To         sip.Uri
	FromName, ToName string
	// ContactUser is the user part of the PBX's Contact; empty leaves it
	// without one.
	ContactUser string
	// OutboundCallerID is the caller ID this route presents, for the CDR
	// of the call it carries.
	OutboundCallerID string
	// Headers are added to the INVITE as they are (P-Asserted-Identity,
	// Privacy, Remote-Party-ID...).
	Headers []sip.Header
	// Dest is the host:port the INVITE is sent to (the trunk's outbound
	// server or its host) over Transport (UDP, TCP or TLS).
	Dest      string
	Transport string
	// Username and Password answer the trunk's 401 and 407 challenges;
	// no Username means a challenge fails the route.
	Username, Password string
	// Acquire takes one of the trunk's concurrent calls. It returns false
	// when the trunk is at its limit; release is called when the leg
	// ends. Nil means no limit.
	Acquire func() (release func(), ok bool)
}

// Failover reports whether a trunk's final status lets the call try the
// next route: any 4xx, 5xx or 6xx except busy (486, 600) and a cancelled
// request (487), which are the callee's or caller's answer rather than the
// trunk's failure, and 603 Decline.
func Failover(code int) bool {
	switch code {
	case sip.StatusBusyHere, sip.StatusRequestTerminated, 600, 603:
		return false
	}
	return code >= 400
}

// TrunkCall is what a trunk's outbound parameters build an outgoing INVITE
// from: the facts of the call, before any header exists.
type TrunkCall struct {
	// CallerNum and CallerName are the calling extension (or, for a call
	// forwarded out from a trunk, the original caller).
	CallerNum, CallerName string
	// CalledNum is the number to send to the trunk, already stripped and
	// prepended by the outbound route.
	CalledNum string
	// OutboundCallerID is the caller ID the route or the user chose; empty
	// when none.
	OutboundCallerID string
	// OriginatorCallerID is the caller ID of the call's original caller
	// (an inbound call forwarded out), empty otherwise.
	OriginatorCallerID string
	// Anonymous asks for the caller's identity to be withheld (RFC 3323
	// Privacy: id, user).
	Anonymous bool
	// Domain is the tenant's SIP domain.
	Domain string
}
