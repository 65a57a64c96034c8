package api

import (
	"context"
	"time"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
)

// Registrations is what the API needs of the registrar: the live bindings of
// a user and the removal of one.
type Registrations interface {
	Bindings(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]pbx.Binding, error)
	Remove(ctx context.Context, tenant pbx.TenantID, user pbx.ID, instanceOrID string) error
}

// Calls is what the API needs of the B2BUA: the live calls of a tenant and
// hanging one up.
type Calls interface {
	Sessions(tenant pbx.TenantID) []call.SessionInfo
	Session(tenant pbx.TenantID, id pbx.ID) (call.SessionInfo, error)
	Hangup(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error
}

// SIP holds the SIP side's services the API reports on and controls. Any
// field may be nil: the API then answers as if nothing were registered or
// live.
type SIP struct {
	Registrations Registrations
	// ReloadIPFilters makes the SIP edge apply a changed /ip_filters at once.
	ReloadIPFilters func(context.Context) error
	Calls           Calls
	Trunks          Trunks
	// ConfigChanged tells routing that tenant's routing configuration
	// changed (tenant 0: every tenant's); trunks is true when trunks
	// themselves changed and must be reloaded (registrations, keep-alives).
	ConfigChanged func(tenant pbx.TenantID, trunks bool)
	// MailboxChanged tells the SIP side that user's mailbox changed (a
	// message read, unread or deleted), so that its message waiting
	// indication follows.
	MailboxChanged func(ctx context.Context, tenant pbx.TenantID, user pbx.ID)
}

// TrunkStatus is a trunk's live state as the SIP side knows it.
type TrunkStatus struct {
	// Online is true when the trunk answered its last registration or
	// keep-alive (or, for a trunk with neither, while it is enabled).
	Online bool
	// Registration is REGISTERED, UNREGISTERED, FAILED, DISABLED or
	// NOT_APPLICABLE (a trunk that does not register).
	Registration   string
	LastError      string
	LastStatusCode int
	ExpiresAt      time.Time
	LiveCalls      int
}

// Trunks is what the API needs of the trunks' runtime: their live state.
type Trunks interface {
	TrunkStatus(id pbx.ID) (TrunkStatus, bool)
}

// AttachSIP connects the SIP side. It may be called at any time, also while
// the API serves.
func (s *Server) AttachSIP(sip SIP) { s.sip.Store(&sip) }

func (s *Server) sipDeps() SIP {
	if p := s.sip.Load(); p != nil {
		return *p
	}
	return SIP{}
}

// dropRegistrations removes the live registrations of a deleted user, so
// that its phones no longer show as bound. A failure is logged: the user is
// gone either way, and its bindings expire by themselves.
func (s *Server) dropRegistrations(ctx context.Context, u pbx.User) {
	reg := s.sipDeps().Registrations
	if reg == nil {
		return
	}
	bs, err := reg.Bindings(ctx, u.Tenant, u.ID)
	if err != nil {
		s.log.Warn("registrations of deleted user not listed", "user", u.ID.String(), "err", err)
		return
	}
	for _, b := range bs {
		if err := reg.Remove(ctx, u.Tenant, u.ID, b.ID.String()); err != nil {
			s.log.Warn("registration of deleted user not removed", "user", u.ID.String(), "err", err)
		}
	}
}
