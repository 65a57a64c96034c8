package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// AdminName is the system administrator's name on a new database.
const AdminName = "admin"

// Bootstrap makes sure a system administrator exists. On a new database it
// creates "admin" with password, or with a generated one when password is
// empty, and returns the password it used; on an existing database it
// changes nothing and returns "".
func Bootstrap(ctx context.Context, db *store.DB, password string, hp HashParams) (string, error) {
	n, err := db.AdminCount(ctx)
	if err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	if password == "" {
		password = GeneratePassword()
	}
	if hp == (HashParams{}) {
		hp = DefaultHashParams
	}
	h, err := hashPassword(hp, password)
	if err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	if err := db.CreateAdmin(ctx, &store.Admin{Name: AdminName, PasswordHash: h}); err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	return password, nil
}

type loginInput struct {
	Body struct {
		Username string `json:"username" maxLength:"64" minLength:"1"`
		Password string `json:"password" minLength:"1" maxLength:"128"`
		Domain   string `json:"domain,omitempty" maxLength:"280"`
	}
}

type tokenBody struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	ExpiresAt    string `json:"expires_at"`
	RefreshToken string `json:"refresh_token"`
	Role         string `json:"role"`
}

type tokenOutput struct {
	Body tokenBody
}

// authTokenOutput is the token shape of the /auth/* operations, which
// PortSIP documents without expires_at and role.
type authTokenOutput struct {
	Body struct {
		TokenType    string `json:"token_type"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
	}
}

func authToken(t *tokenOutput) *authTokenOutput {
	out := &authTokenOutput{}
	out.Body.TokenType, out.Body.AccessToken = t.Body.TokenType, t.Body.AccessToken
	out.Body.RefreshToken, out.Body.ExpiresIn = t.Body.RefreshToken, t.Body.ExpiresIn
	return out
}

type loginStatus struct {
	Body struct {
		AccessToken string `json:"access_token"`
		ExpiresAt   string `json:"expires_at"`
		ExpiresIn   int    `json:"expires_in"`
		Role        string `json:"role"`
	}
}

type refreshInput struct {
	Body struct {
		RefreshToken string `json:"refresh_token" minLength:"1"`
	}
}

type authUser struct {
	Body struct {
		Role               string `json:"role"`
		PasswordVerified   bool   `json:"password_verified"`
		PasswordForceReset bool   `json:"password_force_reset"`
	}
}

type switchInput struct {
	ID string `query:"id" required:"true"`
}

func (s *Server) registerAuth() {
	tags := []string{"Authentication"}
	handle(s, huma.Operation{OperationID: "login", Method: http.MethodPost, Path: "/login", Tags: tags, Summary: "Login into system"},
		public, func(ctx context.Context, _ *principal, in *loginInput) (*tokenOutput, error) {
			return s.login(ctx, in.Body.Username, in.Body.Password, in.Body.Domain)
		})
	handle(s, huma.Operation{OperationID: "sign_in", Method: http.MethodPost, Path: "/auth/sign_in", Tags: tags, Summary: "Sign in with credentials"},
		public, func(ctx context.Context, _ *principal, in *loginInput) (*authTokenOutput, error) {
			t, err := s.login(ctx, in.Body.Username, in.Body.Password, in.Body.Domain)
			if err != nil {
				return nil, err
			}
			return authToken(t), nil
		})
	handle(s, huma.Operation{OperationID: "get_login", Method: http.MethodGet, Path: "/login", Tags: tags, Summary: "Get login status of current session"},
		anyone, func(ctx context.Context, p *principal, _ *struct {
			Authorization string `header:"Authorization"`
		}) (*loginStatus, error) {
			out := &loginStatus{}
			out.Body.ExpiresAt = p.token.ExpiresAt.UTC().Format(time.RFC3339)
			out.Body.ExpiresIn = int(p.token.ExpiresAt.Sub(s.now()).Seconds())
			out.Body.Role = string(p.role)
			return out, nil
		})
	logout := func(ctx context.Context, p *principal, _ *struct{}) (*noContent, error) {
		if err := s.db.DeleteToken(ctx, p.token.ID); err != nil {
			return nil, err
		}
		s.audit(ctx, p, "LOGOUT", "LOGIN", "", nil, nil)
		return &noContent{}, nil
	}
	handle(s, huma.Operation{OperationID: "logout", Method: http.MethodPost, Path: "/logout", Tags: tags, Summary: "Log out from system"}, anyone, logout)
	handle(s, huma.Operation{OperationID: "sign_out", Method: http.MethodPost, Path: "/auth/sign_out", Tags: tags, Summary: "Sign out from system."}, anyone, logout)
	handle(s, huma.Operation{OperationID: "refresh_token", Method: http.MethodPost, Path: "/auth/refresh_token", Tags: tags, Summary: "Refresh the access token."},
		public, func(ctx context.Context, _ *principal, in *refreshInput) (*authTokenOutput, error) {
			t, err := s.db.TokenByRefresh(ctx, hashToken(in.Body.RefreshToken))
			if err != nil {
				return nil, pbx.Errorf(pbx.EUNAUTHORIZED, "invalid refresh token")
			}
			// A refresh token is used once: the old session goes, a new one comes.
			if err := s.db.DeleteToken(ctx, t.ID); err != nil {
				return nil, err
			}
			out, err := s.issue(ctx, t.Kind, t.Principal, t.Tenant, t.Scope, t.Role)
			if err != nil {
				return nil, err
			}
			return authToken(out), nil
		})
	handle(s, huma.Operation{OperationID: "auth_user", Method: http.MethodGet, Path: "/auth/user", Tags: tags, Summary: "Get the authentication information of the logged-in user."},
		anyone, func(ctx context.Context, p *principal, _ *struct{}) (*authUser, error) {
			out := &authUser{}
			out.Body.Role = string(p.role)
			out.Body.PasswordVerified = true
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "switch_tenant", Method: http.MethodPost, Path: "/tenants/switch", Tags: []string{"Tenant"}, Summary: "Switch between tenants"},
		systemOrDealer, func(ctx context.Context, p *principal, in *switchInput) (*noContent, error) {
			id, err := pbx.ParseTenantID(in.ID)
			if err != nil {
				return nil, pbx.Errorf(pbx.ENOTFOUND, "tenant not found")
			}
			if _, err := s.tenantVisible(ctx, p, id); err != nil {
				return nil, err
			}
			return &noContent{}, s.db.SetTokenScope(ctx, p.token.ID, id)
		})
}

// tenantVisible returns the tenant if p may see it: the system admin sees
// all, a dealer its own tenants, anyone else only its own tenant. Others are
// not found, so that tenants cannot probe each other.
func (s *Server) tenantVisible(ctx context.Context, p *principal, id pbx.TenantID) (pbx.Tenant, error) {
	t, err := s.db.Tenant(ctx, id)
	if err != nil {
		return t, err
	}
	switch {
	case p.isSystemAdmin():
		return t, nil
	case p.isDealer():
		if ok, err := s.db.DealerHasTenant(ctx, p.id, id); err == nil && ok {
			return t, nil
		}
	case p.tenant == id:
		return t, nil
	}
	return pbx.Tenant{}, pbx.Errorf(pbx.ENOTFOUND, "tenant not found")
}

// login checks credentials and opens a session. Every kind of failure
// (unknown domain, unknown user, wrong password, disabled account) answers
// the same, and counts against both the account and the address.
func (s *Server) login(ctx context.Context, username, password, domain string) (*tokenOutput, error) {
	ip := remoteFrom(ctx)
	userKey := "u:" + strings.ToLower(domain) + "\x00" + strings.ToLower(username)
	ipKey := "ip:" + ip
	if s.logins.blocked(userKey, ipKey) {
		return nil, pbx.Errorf(pbx.ETOOMANY, "too many failed logins, try again later")
	}
	fail := func() (*tokenOutput, error) {
		s.logins.fail(userKey, s.cfg.LoginFailLimit)
		s.logins.fail(ipKey, 4*s.cfg.LoginFailLimit)
		tenant := pbx.SystemTenant
		if t, err := s.db.TenantByDomain(ctx, domain); err == nil && domain != "" {
			tenant = t.ID
		}
		s.db.AddAuditLog(ctx, &store.AuditLog{Tenant: tenant, IP: ip, Source: "api", Action: "LOGIN", ObjectType: "LOGIN",
			UserName: username, NewState: "FAILED"})
		return nil, pbx.Errorf(pbx.EUNAUTHORIZED, "Login failed, authentication error")
	}
	var out *tokenOutput
	var err error
	if domain == "" {
		a, aerr := s.db.AdminByName(ctx, username)
		if aerr == nil {
			if !checkPassword(a.PasswordHash, password) {
				return fail()
			}
			out, err = s.issue(ctx, store.PrincipalAdmin, a.ID, pbx.SystemTenant, pbx.SystemTenant, pbx.RoleSystemAdmin)
		} else {
			d, derr := s.db.DealerByName(ctx, username)
			if derr != nil || !d.Enabled || !checkPassword(d.PasswordHash, password) {
				// Hash anyway so that unknown names take as long as known ones.
				if derr != nil {
					checkPassword(dummyHash, password)
				}
				return fail()
			}
			out, err = s.issue(ctx, store.PrincipalDealer, d.ID, pbx.SystemTenant, pbx.SystemTenant, pbx.RoleDealer)
		}
	} else {
		t, terr := s.db.TenantByDomain(ctx, domain)
		var u pbx.User
		uerr := terr
		if terr == nil {
			u, uerr = s.db.UserByName(ctx, t.ID, username)
			if uerr != nil {
				u, uerr = s.db.UserByExtension(ctx, t.ID, username)
			}
		}
		if uerr != nil {
			checkPassword(dummyHash, password)
			return fail()
		}
		if !t.Enabled || !u.Enabled || !checkPassword(u.PasswordHash, password) {
			return fail()
		}
		out, err = s.issue(ctx, store.PrincipalUser, u.ID, t.ID, t.ID, u.Role)
	}
	if err != nil {
		return nil, err
	}
	s.logins.succeed(userKey)
	tenant := pbx.SystemTenant
	if domain != "" {
		if t, err := s.db.TenantByDomain(ctx, domain); err == nil {
			tenant = t.ID
		}
	}
	s.db.AddAuditLog(ctx, &store.AuditLog{Tenant: tenant, IP: ip, Source: "api", Action: "LOGIN", ObjectType: "LOGIN",
		UserName: username, NewState: "SUCCEEDED"})
	return out, nil
}

// dummyHash is checked against when an account does not exist, so that a
// login for an unknown name costs as much as one for a known name.
var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3mVbUR+1wQx+UZhGcm8ZeDhQ4R3XvK6Cw0u5BXRpOj4"

// issue opens a session and returns its tokens.
func (s *Server) issue(ctx context.Context, kind store.PrincipalKind, id pbx.ID, tenant, scope pbx.TenantID, role pbx.Role) (*tokenOutput, error) {
	access, refresh := randomToken(32), randomToken(32)
	now := s.now()
	t := store.Token{
		AccessHash: hashToken(access), RefreshHash: hashToken(refresh),
		Kind: kind, Principal: id, Tenant: tenant, Scope: scope, Role: role,
		ExpiresAt: now.Add(s.cfg.TokenTTL), RefreshExpiresAt: now.Add(s.cfg.RefreshTTL),
	}
	if err := s.db.CreateToken(ctx, &t); err != nil {
		return nil, err
	}
	return &tokenOutput{Body: tokenBody{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.cfg.TokenTTL.Seconds()),
		ExpiresAt: t.ExpiresAt.UTC().Format(time.RFC3339), RefreshToken: refresh, Role: string(role),
	}}, nil
}
