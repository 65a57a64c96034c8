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
