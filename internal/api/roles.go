package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// PortSIP's permission booleans of a role. Absent fields are false, and
// answers show every field.
type rolePermissions struct {
	General        permGeneral   `json:"general" required:"false"`
	System         permSystem    `json:"system" required:"false"`
	Trunk          permAccess    `json:"trunk" required:"false"`
	Company        permAccess    `json:"company" required:"false"`
	CompanyCallLog permCallLog   `json:"company_call_log" required:"false"`
	PhoneSystem    permAccess    `json:"phone_system" required:"false"`
	UserManagement permUsers     `json:"user_management" required:"false"`
	UserCallLog    permCallLog   `json:"user_call_log" required:"false"`
	Policies       permPolicies  `json:"policies" required:"false"`
	Analytics      permAnalytics `json:"analytics" required:"false"`
	Billing        permAccess    `json:"billing" required:"false"`
}

type permGeneral struct {
	VoicemailViewOnly   bool `json:"voicemail_view_only" required:"false" default:"false"`
	VoicemailFullAccess bool `json:"voicemail_full_access" required:"false" default:"false"`
	Meeting             bool `json:"meeting" required:"false" default:"false"`
}

type permSystem struct {
	Information bool `json:"information" required:"false" default:"false"`
	Dealer      bool `json:"dealer" required:"false" default:"false"`
	Tenant      bool `json:"tenant" required:"false" default:"false"`
}

type permAccess struct {
	ViewOnly   bool `json:"view_only" required:"false" default:"false"`
	FullAccess bool `json:"full_access" required:"false" default:"false"`
}

type permCallLog struct {
	CallLogViewOnly         bool `json:"call_log_view_only" required:"false" default:"false"`
	CallLogFullAccess       bool `json:"call_log_full_access" required:"false" default:"false"`
	CallRecordingViewOnly   bool `json:"call_recording_view_only" required:"false" default:"false"`
	CallRecordingFullAccess bool `json:"call_recording_full_access" required:"false" default:"false"`
}

type permUsers struct {
	Roles bool `json:"roles" required:"false" default:"false"`
	Users bool `json:"users" required:"false" default:"false"`
}

type permPolicies struct {
	DomesticCalls      bool `json:"domestic_calls" required:"false" default:"false"`
	InternalCalls      bool `json:"internal_calls" required:"false" default:"false"`
	InternationalCalls bool `json:"international_calls" required:"false" default:"false"`
}

type permAnalytics struct {
	CallReportViewOnly   bool `json:"call_report_view_only" required:"false" default:"false"`
	CallReportFullAccess bool `json:"call_report_full_access" required:"false" default:"false"`
}

// builtinRole is one of the roles every tenant has; nobody may change it.
type builtinRole struct {
	name        pbx.Role
	description string
	perms       rolePermissions
}

// builtinRoles returns the built-in tenant roles in PortSIP's order.
func builtinRoles() []builtinRole {
	full := permAccess{ViewOnly: true, FullAccess: true}
	fullLog := permCallLog{CallLogViewOnly: true, CallLogFullAccess: true, CallRecordingViewOnly: true, CallRecordingFullAccess: true}
	viewLog := permCallLog{CallLogViewOnly: true, CallRecordingViewOnly: true}
	general := permGeneral{VoicemailViewOnly: true, VoicemailFullAccess: true, Meeting: true}
	national := permPolicies{DomesticCalls: true, InternalCalls: true}
	all := permPolicies{DomesticCalls: true, InternalCalls: true, InternationalCalls: true}
	return []builtinRole{
		{pbx.RoleAdmin, "Tenant administrator: full access to the tenant's users, phone system, call logs, reports and billing",
			rolePermissions{General: general, Trunk: full, Company: full, CompanyCallLog: fullLog, PhoneSystem: full,
				UserManagement: permUsers{Roles: true, Users: true}, UserCallLog: fullLog, Policies: all,
				Analytics: permAnalytics{CallReportViewOnly: true, CallReportFullAccess: true}, Billing: full}},
		{pbx.RoleQueueManager, "Queue supervisor: sees the tenant's call logs, recordings and reports, and manages call queue agents",
			rolePermissions{General: general, Company: permAccess{ViewOnly: true}, CompanyCallLog: viewLog, UserCallLog: fullLog, Policies: national,
				Analytics: permAnalytics{CallReportViewOnly: true}}},
		{pbx.RoleStandardUser, "Standard user: own voicemail, meetings and call logs; internal and domestic calls",
			rolePermissions{General: general, UserCallLog: fullLog, Policies: national}},
		{pbx.RoleStandardInternationalUser, "Standard user who may also place international calls",
			rolePermissions{General: general, UserCallLog: fullLog, Policies: all}},
	}
}

func findBuiltinRole(name string) (builtinRole, bool) {
	for _, r := range builtinRoles() {
		if strings.EqualFold(string(r.name), name) {
			return r, true
		}
	}
	return builtinRole{}, false
}

// permissionSet is the granted permissions of a role as "group.flag" names
// ("user_management.users"), the way the access table names them. The
// system.* flags are left out: they describe system administrator roles,
// and a tenant role never grants anything outside its tenant.
type permissionSet map[string]bool

// set returns the names of r's true flags.
func (r rolePermissions) set() permissionSet {
	var groups map[string]map[string]bool
	b, _ := json.Marshal(r)
	json.Unmarshal(b, &groups)
	out := permissionSet{}
	for g, flags := range groups {
		if g == "system" {
			continue
		}
		for f, on := range flags {
			if on {
				out[g+"."+f] = true
			}
		}
	}
	return out
}

// hasAny reports whether ps grants at least one of names.
func (ps permissionSet) hasAny(names ...string) bool {
	for _, n := range names {
		if ps[n] {
			return true
		}
	}
	return false
}

// isPersonal reports whether a permission group is about a user's own
// voicemail, meetings, call log and calling rights, reaching nobody else's
// data.
func isPersonal(group string) bool {
	switch group {
	case "general", "user_call_log", "policies":
		return true
	}
	return false
}

// covers reports whether ps grants every tenant-wide permission of other:
// those of groups that are not personal, which open other users' data or
// the tenant's configuration.
func (ps permissionSet) covers(other permissionSet) bool {
	for n := range other {
		group, _, _ := strings.Cut(n, ".")
		if !ps[n] && !isPersonal(group) {
			return false
		}
	}
	return true
}

// roleGrants returns the permissions of role: a built-in role's from code,
// a custom role's from custom, its stored JSON (which may be nil or
// malformed, granting nothing).
func roleGrants(role pbx.Role, custom json.RawMessage) permissionSet {
	if b, ok := findBuiltinRole(string(role)); ok {
		return b.perms.set()
	}
	var perms rolePermissions
	if len(custom) > 0 {
		json.Unmarshal(custom, &perms)
	}
	return perms.set()
}

// tenantRoleGrants returns the permissions of a role of tenant. An unknown
// role grants nothing.
func (s *Server) tenantRoleGrants(ctx context.Context, tenant pbx.TenantID, role pbx.Role) (permissionSet, error) {
	if _, ok := findBuiltinRole(string(role)); ok {
		return roleGrants(role, nil), nil
	}
	r, err := s.db.CustomRole(ctx, tenant, role)
	if err != nil {
		if pbx.ErrorCode(err) == pbx.ENOTFOUND {
			return permissionSet{}, nil
		}
		return nil, err
	}
	return roleGrants(role, r.Permissions), nil
}

// RoleItem is a role in PortSIP's list of roles.
type RoleItem struct {
	Name        string  `json:"name" maxLength:"64"`
	Description *string `json:"description" maxLength:"1024"`
}

type roleDetail struct {
	RoleItem
	Permissions rolePermissions `json:"permissions"`
}

func newRoleDetail(r store.Role) roleDetail {
	d := roleDetail{RoleItem: RoleItem{Name: string(r.Name), Description: strOrNil(r.Description)}}
	json.Unmarshal(r.Permissions, &d.Permissions)
	return d
}

type createRoleInput struct {
	Body struct {
		Name        string          `json:"name" maxLength:"64"`
		Permissions rolePermissions `json:"permissions"`
		Description *string         `json:"description,omitempty" maxLength:"1024"`
	}
}

type roleNameInput struct {
	Name string `path:"name" maxLength:"64"`
}

type updateRoleInput struct {
	Name string `path:"name" maxLength:"64"`
	Body struct {
		Name        *string          `json:"name,omitempty" maxLength:"64"`
		Permissions *rolePermissions `json:"permissions,omitempty"`
		Description *string          `json:"description,omitempty" maxLength:"1024"`
	}
}

// checkRoleName accepts letters, digits, _ - and . : a role name is a path
// segment. Built-in names (in any case) are taken.
func checkRoleName(name string) error {
	if name == "" {
		return pbx.FieldErrorf("name", "name must not be empty")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.", r)) {
			return pbx.FieldErrorf("name", "name may hold only letters, digits and _ - .")
		}
	}
	for _, r := range []pbx.Role{pbx.RoleSystemAdmin, pbx.RoleDealer} {
		if strings.EqualFold(string(r), name) {
			return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "name of a built-in role"}
		}
	}
	if _, ok := findBuiltinRole(name); ok {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "name of a built-in role"}
	}
	return nil
}

var errBuiltinRole = pbx.Errorf(pbx.EFORBIDDEN, "built-in roles cannot be changed")

// registerRoles serves /roles: the built-in tenant roles and the tenant's
// custom roles.
func (s *Server) registerRoles() {
	tags := []string{"User"}
	handle(s, huma.Operation{OperationID: "list_roles", Method: http.MethodGet, Path: "/roles", Tags: tags, Summary: "List roles"},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[RoleItem], error) {
			opts, err := in.options()
			if err != nil {
				return nil, err
			}
			var builtins []store.Role
			for _, b := range builtinRoles() {
				builtins = append(builtins, store.Role{Name: b.name, Description: b.description, Builtin: true})
			}
			roles, n, err := s.db.ListRoles(ctx, p.scope, builtins, opts)
			if err != nil {
				return nil, err
			}
			items := make([]RoleItem, 0, len(roles))
			for _, r := range roles {
				items = append(items, RoleItem{Name: string(r.Name), Description: strOrNil(r.Description)})
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "create_role", Method: http.MethodPost, Path: "/roles", Tags: tags, Summary: "Create a role",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *createRoleInput) (*struct {
			Body struct {
				Name string `json:"name"`
			}
		}, error) {
			b := &in.Body
			if err := checkRoleName(b.Name); err != nil {
				return nil, err
			}
			perms, err := json.Marshal(b.Permissions)
			if err != nil {
				return nil, err
			}
			r := store.Role{Name: pbx.Role(b.Name), Permissions: perms}
			if b.Description != nil {
				r.Description = *b.Description
			}
			if err := s.db.CreateRole(ctx, p.scope, &r); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "ROLE", b.Name, nil, newRoleDetail(r))
			out := &struct {
				Body struct {
					Name string `json:"name"`
				}
			}{}
			out.Body.Name = b.Name
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "get_role", Method: http.MethodGet, Path: "/roles/{name}", Tags: tags, Summary: "Retrieve a role"},
		tenantAdmin, func(ctx context.Context, p *principal, in *roleNameInput) (*struct{ Body roleDetail }, error) {
			if b, ok := findBuiltinRole(in.Name); ok {
				d := roleDetail{RoleItem: RoleItem{Name: string(b.name), Description: strOrNil(b.description)}, Permissions: b.perms}
				return &struct{ Body roleDetail }{Body: d}, nil
			}
			r, err := s.db.CustomRole(ctx, p.scope, pbx.Role(in.Name))
			if err != nil {
				return nil, err
			}
			return &struct{ Body roleDetail }{Body: newRoleDetail(r)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_role", Method: http.MethodPost, Path: "/roles/{name}", Tags: tags, Summary: "Update a role",
		Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *updateRoleInput) (*noContent, error) {
			if _, ok := findBuiltinRole(in.Name); ok {
				return nil, errBuiltinRole
			}
			r, err := s.db.CustomRole(ctx, p.scope, pbx.Role(in.Name))
			if err != nil {
				return nil, err
			}
			old := r
			b := &in.Body
			if b.Name != nil && *b.Name != string(r.Name) {
				if err := checkRoleName(*b.Name); err != nil {
					return nil, err
				}
				r.Name = pbx.Role(*b.Name)
			}
			if b.Description != nil {
				r.Description = *b.Description
			}
			if b.Permissions != nil {
				if r.Permissions, err = json.Marshal(*b.Permissions); err != nil {
					return nil, err
				}
			}
			if err := s.db.UpdateRole(ctx, p.scope, old.Name, &r); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "ROLE", string(r.Name), newRoleDetail(old), newRoleDetail(r))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_role", Method: http.MethodPost, Path: "/roles/{name}/destroy", Tags: tags, Summary: "Delete a role",
		Errors: []int{http.StatusConflict}},
		tenantAdmin, func(ctx context.Context, p *principal, in *roleNameInput) (*noContent, error) {
			if _, ok := findBuiltinRole(in.Name); ok {
				return nil, errBuiltinRole
			}
			r, err := s.db.CustomRole(ctx, p.scope, pbx.Role(in.Name))
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteRole(ctx, p.scope, r.Name); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "ROLE", string(r.Name), newRoleDetail(r), nil)
			return &noContent{}, nil
		})
}
