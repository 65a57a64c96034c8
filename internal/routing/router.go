package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// Store is what the Router reads: a tenant's whole routing configuration
// when it compiles it, and per call the extension namespace and the
// caller's role. *store.DB implements it.
type Store interface {
	RoutingConfig(ctx context.Context, tenant pbx.TenantID) (store.RoutingConfig, error)
	UserByExtension(ctx context.Context, tenant pbx.TenantID, number string) (pbx.User, error)
	UserRole(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (pbx.Role, json.RawMessage, error)
	Provider(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (store.Provider, error)
	ProviderAssignees(ctx context.Context, id pbx.ID) ([]store.ProviderAssignee, error)
	// Setting reads a stored setting: the tenant's voicemail server
	// ("voicemail:<tenant id>", written by the API) gives its service
	// number.
	Setting(ctx context.Context, name string, v any) error
}

// Trunks knows each trunk's SIP parameters: how to build an outgoing
// INVITE for a call (Route) and how to read the caller and the DID out of
// an incoming one (Incoming). Both report false for an unknown or disabled
// trunk. cmd/gopbx adapts the trunk registry to it.
type Trunks interface {
	Route(id pbx.ID, tc call.TrunkCall) (call.TrunkRoute, bool)
	Incoming(id pbx.ID, req *sip.Request) (callerNum, callerName, calledNum string, anonymous bool, ok bool)
}

// Deps are what a Router needs. Store and Trunks are required.
type Deps struct {
	Store  Store
	Trunks Trunks
	// Now is the clock that office hours and holidays are checked against;
	// nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Shuffle orders the routes of RANDOMLY outbound rules; nil means
	// math/rand/v2's. Tests pass a deterministic one.
	Shuffle func(n int, swap func(i, j int))
	// Voicemail is the voicemail application; nil leaves calls without
	// voicemail (forwards to it are refused with 480).
	Voicemail Voicemail
	// IVRs are the virtual receptionists; nil leaves their numbers
	// unrouted.
	IVRs IVRs
}

// Voicemail is what routing needs of the voicemail application: the App
// that takes a message (its call's Target is the box), and the App of the
// voicemail service number.
type Voicemail interface {
	Deposit() call.App
	Mailbox() call.App
}

// VoicemailNumber is the voicemail service number where the tenant chose
// none, PortSIP's default (/voicemail extension_number).
const VoicemailNumber = "777"

// Router implements call.Router. It is safe for concurrent use; Route may
// run on any number of goroutines while Changed is called.
type Router struct {
	d         Deps
	log       *slog.Logger
	tenants   cache[pbx.TenantID, *tenantConfig]
	providers cache[pbx.ID, *providerConfig]
	shares    shares
}

var _ call.Router = (*Router)(nil)

// New returns a Router with an empty cache: each tenant is compiled on its
// first call.
func New(d Deps) *Router {
	if d.Now == nil {
		d.Now = time.Now
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{d: d, log: log}
}

// Route decides where the call req from o goes. A call from an extension
// (o.Trunk is zero) rings an extension of o.Tenant or goes out through the
// tenant's outbound rules; a call from a trunk goes to the tenant whose
// inbound rule takes its DID. Refusals (no rule, not permitted, blacklisted)
// are a Plan with Reject set, not errors; the error is for a store that
// cannot answer.
func (r *Router) Route(ctx context.Context, o call.Origin, req *sip.Request) (call.Plan, error) {
	if o.Trunk != 0 {
		return r.fromTrunk(ctx, o, req)
	}
	return r.fromExtension(ctx, o, req)
}

// Changed tells the Router that the API wrote routing configuration of
// tenant: its rules, holidays, number lists, groups, or the tenant's e164,
// office hours or time zone. Tenant 0 means every tenant and every trunk,
// for changes to trunks and their assignees. The next call of the tenant
// compiles it again; a call routing meanwhile uses the snapshot it already
// holds, old or new, never a half-built one.
func (r *Router) Changed(tenant pbx.TenantID) {
	if tenant == pbx.SystemTenant {
		r.tenants.dropAll()
		r.providers.dropAll()
		return
	}
	r.tenants.drop(tenant)
}

// tenant returns the compiled configuration of id.
func (r *Router) tenant(ctx context.Context, id pbx.TenantID) (*tenantConfig, error) {
	return r.tenants.get(ctx, id, func(ctx context.Context) (*tenantConfig, error) {
		c, err := r.d.Store.RoutingConfig(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("compile routing of tenant %s: %w", id, err)
		}
		tc := compile(c, r.d.Shuffle, r.log.With("tenant", id))
		vm := struct {
			Number string `json:"extension_number"`
		}{Number: VoicemailNumber}
		if err := r.d.Store.Setting(ctx, "voicemail:"+id.String(), &vm); err != nil {
			return nil, fmt.Errorf("compile routing of tenant %s: %w", id, err)
		}
		tc.voicemailNumber = vm.Number
		if r.d.IVRs != nil {
			if tc.ivrs, err = r.d.IVRs.Numbers(ctx, id); err != nil {
				return nil, fmt.Errorf("compile routing of tenant %s: %w", id, err)
			}
		}
		return tc, nil
	})
}

// providerConfig is what a trunk's incoming calls need before a tenant is
// known: its name for the CDR and the tenants it is assigned to.
type providerConfig struct {
	name      string
	assignees []store.ProviderAssignee
}

// provider returns the cached assignees of trunk id; an unknown trunk has
// none.
func (r *Router) provider(ctx context.Context, id pbx.ID) (*providerConfig, error) {
	return r.providers.get(ctx, id, func(ctx context.Context) (*providerConfig, error) {
		p, err := r.d.Store.Provider(ctx, pbx.SystemTenant, id)
		if pbx.ErrorCode(err) == pbx.ENOTFOUND {
			return &providerConfig{}, nil
		} else if err != nil {
			return nil, fmt.Errorf("read trunk %s: %w", id, err)
		}
		as, err := r.d.Store.ProviderAssignees(ctx, id)
		if pbx.ErrorCode(err) == pbx.ENOTFOUND {
			return &providerConfig{}, nil
		} else if err != nil {
			return nil, fmt.Errorf("read assignees of trunk %s: %w", id, err)
		}
		return &providerConfig{name: p.Name, assignees: as}, nil
	})
}
