package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// principal is the authenticated caller of a request.
type principal struct {
	token  store.Token
	kind   store.PrincipalKind
	id     pbx.ID
	role   pbx.Role
	tenant pbx.TenantID // the account's own tenant; 0 for system accounts
	scope  pbx.TenantID // the tenant it acts in; 0 until a system account switches
	// perms are the permissions of a user's current role, read when the
	// request is authenticated; empty for system accounts.
	perms permissionSet
}

func (p *principal) isSystemAdmin() bool { return p.kind == store.PrincipalAdmin }
func (p *principal) isDealer() bool      { return p.kind == store.PrincipalDealer }
func (p *principal) isUser() bool        { return p.kind == store.PrincipalUser }

// access decides whether a principal may call an operation. A nil principal
// (no or bad token) is let through only by public.
type access func(p *principal) bool

var (
	// public needs no token.
	public access = nil
	// system is the system administrator only.
	system access = func(p *principal) bool { return p.isSystemAdmin() }
	// systemOrDealer is the system administrator or a dealer.
	systemOrDealer access = func(p *principal) bool { return p.isSystemAdmin() || p.isDealer() }
	// dealerSelf is a dealer acting on its own account, in or out of a tenant.
	dealerSelf access = func(p *principal) bool { return p.isDealer() }
	// tenantAdmin manages a tenant: its Admin users, or a system admin or
	// dealer that has switched into it.
	tenantAdmin access = func(p *principal) bool {
		if p.scope == pbx.SystemTenant {
			return false
		}
		return p.isSystemAdmin() || p.isDealer() || (p.isUser() && p.role == pbx.RoleAdmin)
	}
	// tenantStaff reads tenant-wide data: tenant admins and queue managers.
	tenantStaff access = func(p *principal) bool {
		return tenantAdmin(p) || (p.isUser() && p.role == pbx.RoleQueueManager)
	}
	// anyUser is any extension user acting on itself.
	anyUser access = func(p *principal) bool { return p.isUser() }
	// anyone is any authenticated caller.
	anyone access = func(p *principal) bool { return true }
)

// permissionRule opens the tenant operations under a path to the tenant
// users whose role grants any of the permissions in anyOf.
type permissionRule struct {
	path   string   // an operation path, matching itself and every path below it
	method string   // the HTTP method; "" for any
	anyOf  []string // PortSIP permission flags, "group.flag"
}

// permissionTable is how PortSIP's role permission booleans open the
// tenant's management operations to users of a role other than Admin, such
// as custom roles. The first row that matches an operation's method and
// path decides; an operation no row matches keeps only the access rule it
// was registered with.
//
// A row only widens access: the operation stays open to whoever its own
// rule admits (the built-in Admin role, which has every permission, and a
// system admin or dealer switched into the tenant), and to nobody outside
// a tenant. No row names system.*: those flags are for system-scope roles,
// and a tenant role never grants them (permissionSet drops them).
//
//	path                method  permission
//	/users              any     user_management.users
//	/groups             any     user_management.users
//	/extension_numbers  GET     user_management.users   (number look-ups while adding users)
//	/roles              GET     user_management.roles or user_management.users (to pick a user's role)
//	/roles              any     user_management.roles
//	/tenant             GET     company.view_only or company.full_access
//	/tenant             any     company.full_access
//	/audit_logs         GET     company.full_access
//	/event_logs         GET     company.full_access
//	/cdrs               GET     company_call_log.call_log_view_only or call_log_full_access
//	/recordings         GET     company_call_log.call_recording_view_only or call_recording_full_access
//	/recordings         any     company_call_log.call_recording_full_access
//	phone system paths  GET     phone_system.view_only or phone_system.full_access
//	phone system paths  any     phone_system.full_access
//
// The phone system paths are the call flow a tenant configures: inbound and
// outbound rules, holidays, the number lists (blacklist, disallowed codes,
// emergency numbers, allowed country codes), virtual receptionists, the
// voicemail and music-on-hold servers, and the tenant's replacements of
// system prompts.
//
// The logs have no permission of their own in PortSIP (its document files
// them under maintenance). They record every change to the tenant's users,
// roles and configuration, old and new state, so they go with the right to
// make those changes: company.full_access, not view_only, which the built-in
// QueueManager holds and which would otherwise open them to it.
//
// Handlers that change users also refuse to give or touch a role with
// permissions the caller lacks (see Server.checkGrantable), so that
// user_management.users cannot be turned into Admin.
func permissionTable() []permissionRule {
	rows := []permissionRule{
		{"/users", "", []string{"user_management.users"}},
		{"/groups", "", []string{"user_management.users"}},
		{"/extension_numbers", http.MethodGet, []string{"user_management.users"}},
		{"/roles", http.MethodGet, []string{"user_management.roles", "user_management.users"}},
		{"/roles", "", []string{"user_management.roles"}},
		{"/tenant", http.MethodGet, []string{"company.view_only", "company.full_access"}},
		{"/tenant", "", []string{"company.full_access"}},
		{"/audit_logs", http.MethodGet, []string{"company.full_access"}},
		{"/event_logs", http.MethodGet, []string{"company.full_access"}},
		{"/cdrs", http.MethodGet, []string{"company_call_log.call_log_view_only", "company_call_log.call_log_full_access"}},
		{"/recordings", http.MethodGet, []string{"company_call_log.call_recording_view_only", "company_call_log.call_recording_full_access"}},
		{"/recordings", "", []string{"company_call_log.call_recording_full_access"}},
	}
	for _, path := range phoneSystemPaths {
		rows = append(rows,
			permissionRule{path, http.MethodGet, []string{"phone_system.view_only", "phone_system.full_access"}},
			permissionRule{path, "", []string{"phone_system.full_access"}})
	}
	return rows
}

// phoneSystemPaths are the tenant's call-flow configuration, which the
// phone_system permissions govern.
var phoneSystemPaths = []string{"/inbound_rules", "/outbound_rules", "/holidays", "/blacklisted_numbers", "/disallowed_codes",
	"/emergency_numbers", "/allowed_country_codes", "/ivrs", "/voicemail", "/moh_server", "/prompts"}

// permissionFor returns the row of permissionTable for an operation.
func permissionFor(method, path string) (permissionRule, bool) {
	for _, r := range permissionTable() {
		if (r.method == "" || r.method == method) && (path == r.path || strings.HasPrefix(path, r.path+"/")) {
			return r, true
		}
	}
	return permissionRule{}, false
}

// admits reports whether r opens its operations to p: a user acting in its
// own tenant whose role grants one of r's permissions.
func (r permissionRule) admits(p *principal) bool {
	return p.isUser() && p.scope != pbx.SystemTenant && p.perms.hasAny(r.anyOf...)
}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey).(*principal)
	return p
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// authenticate resolves the bearer token, if any, into a principal on the
// request context. It does not refuse anything: each operation's access
// rule does, so public operations work without a token.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	hctx := huma.WithValue(ctx, remoteKey, hostOnly(ctx.RemoteAddr()))
	h := ctx.Header("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		next(hctx)
		return
	}
	t, err := s.db.TokenByAccess(ctx.Context(), hashToken(strings.TrimSpace(tok)))
	if err != nil {
		next(hctx)
		return
	}
	p := &principal{token: t, kind: t.Kind, id: t.Principal, role: t.Role, tenant: t.Tenant, scope: t.Scope}
	if p.isUser() {
		// The user's current role, not the one the token was issued with:
		// a changed or renamed role, or edited permissions, apply at once.
		role, custom, err := s.db.UserRole(ctx.Context(), t.Tenant, t.Principal)
		switch {
		case pbx.ErrorCode(err) == pbx.ENOTFOUND:
			// The account is gone: its token authenticates nothing.
			next(hctx)
			return
		case err != nil:
			// Fall back to the token's role, so a database hiccup costs a
			// custom role its permissions for one request, not the session.
			s.log.Error("load user role", "err", err)
			p.perms = roleGrants(t.Role, nil)
		default:
			p.role, p.perms = role, roleGrants(role, custom)
		}
	}
	next(huma.WithValue(hctx, principalKey, p))
}

func hostOnly(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.HasSuffix(addr, "]") {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

// errUnauthorized and errForbidden are what access failures answer.
var (
	errUnauthorized = pbx.Errorf(pbx.EUNAUTHORIZED, "authentication required")
	errForbidden    = pbx.Errorf(pbx.EFORBIDDEN, "not allowed")
)

// handle registers an operation whose handler runs only when allow admits the
// caller. The handler gets the principal (nil for public operations) and
// returns errors of pbx kinds, which become PortSIP error bodies.
func handle[I, O any](s *Server, op huma.Operation, allow access, h func(ctx context.Context, p *principal, in *I) (*O, error)) {
	if allow != nil {
		op.Security = []map[string][]string{{"bearer": {}}}
	} else {
		op.Security = []map[string][]string{}
	}
	if op.DefaultStatus == 0 {
		op.DefaultStatus = http.StatusOK
	}
	// Document PortSIP's error body for the statuses an operation can answer.
	op.Errors = append(op.Errors, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound)
	if rule, ok := permissionFor(op.Method, op.Path); ok && allow != nil {
		own := allow
		allow = func(p *principal) bool { return own(p) || rule.admits(p) }
	}
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		p := principalFrom(ctx)
		if allow != nil {
			if p == nil {
				return nil, apiError(errUnauthorized)
			}
			if !allow(p) {
				return nil, apiError(errForbidden)
			}
		}
		out, err := h(ctx, p, in)
		if err != nil {
			body := apiError(err)
			if body.status >= 500 {
				s.log.Error("api operation failed", "operation", op.OperationID, "err", err)
			}
			return nil, body
		}
		return out, nil
	})
}

// noContent is the output of operations that answer with an empty body.
type noContent struct{}

// idBody answers a create with the new object's ID, as PortSIP does.
type idBody struct {
	Body struct {
		ID string `json:"id"`
	}
}

func created(id string) *idBody {
	out := &idBody{}
	out.Body.ID = id
	return out
}

// pathID is the input of operations addressed by /{id}.
type pathID struct {
	ID string `path:"id"`
}

// parseID parses a path ID; a malformed one is simply not found, since no
// object can have it.
func parseID(s, what string) (pbx.ID, error) {
	id, err := pbx.ParseID(s)
	if err != nil {
		return 0, pbx.Errorf(pbx.ENOTFOUND, "%s not found", what)
	}
	return id, nil
}
