package api

import (
	"strings"
	"testing"
)

// ptRole creates a custom role of the tenant aTok administers.
func ptRole(e *env, aTok, name string, perms map[string]any) {
	e.t.Helper()
	if st := e.do("POST", "/api/roles", aTok, map[string]any{"name": name, "permissions": perms}, nil); st != 201 {
		e.t.Fatalf("create role %s: status %d", name, st)
	}
}

func TestCustomRolePermissions(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		var l utList
		e.do("GET", "/api/users", aTok, nil, &l)
		bossID := l.Items[0]["id"].(string)

		ptRole(e, aTok, "UserDesk", map[string]any{"user_management": map[string]any{"users": true}})
		ptRole(e, aTok, "Nothing", map[string]any{})
		ptRole(e, aTok, "Viewer", map[string]any{"company": map[string]any{"view_only": true}})
		utCreate(e, aTok, utUserBody("mgr", "101", "UserDesk"))
		nobodyID := utCreate(e, aTok, utUserBody("nobody", "102", "Nothing"))
		utCreate(e, aTok, utUserBody("viewer", "103", "Viewer"))
		mgr := e.login("mgr", "Secret#123", "a.test")
		nobody := e.login("nobody", "Secret#123", "a.test")
		viewer := e.login("viewer", "Secret#123", "a.test")

		// user_management.users manages users and groups, and may read the
		// roles it gives, but not change roles or the tenant.
		if st := e.do("GET", "/api/users", mgr, nil, &l); st != 200 || l.Count != 4 {
			t.Fatalf("UserDesk GET /users: %d %+v", st, l)
		}
		carl := utCreate(e, mgr, utUserBody("carl", "104", "StandardUser"))
		if st := e.do("POST", "/api/users/"+carl+"/password", mgr, map[string]any{"password": "Other#5791"}, nil); st/100 != 2 {
			t.Fatalf("UserDesk reset password: status %d", st)
		}
		if st := e.do("POST", "/api/groups", mgr, map[string]any{"name": "sales"}, nil); st != 201 {
			t.Fatalf("UserDesk create group: status %d", st)
		}
		if st := e.do("GET", "/api/roles", mgr, nil, nil); st != 200 {
			t.Fatalf("UserDesk GET /roles: status %d", st)
		}
		if st := e.do("GET", "/api/extension_numbers/101", mgr, nil, nil); st != 200 {
			t.Fatalf("UserDesk GET /extension_numbers: status %d", st)
		}
		e.wantError("POST", "/api/roles", mgr, map[string]any{"name": "Mine", "permissions": map[string]any{}}, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/roles/Nothing/destroy", mgr, nil, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/tenant", mgr, nil, 403, "FORBIDDEN", "")

		// Managing users does not escalate: no giving or touching a role
		// with permissions the manager lacks.
		e.wantError("POST", "/api/users", mgr, utUserBody("eve", "105", "Admin"), 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/users/"+carl+"/role", mgr, map[string]any{"role": "Admin"}, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/users/"+bossID+"/password", mgr, map[string]any{"password": "Taken#5791"}, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/users/"+bossID+"/destroy", mgr, nil, 403, "FORBIDDEN", "")

		// A role with nothing opens nothing.
		for _, path := range []string{"/api/users", "/api/groups", "/api/roles", "/api/tenant", "/api/users/" + nobodyID} {
			e.wantError("GET", path, nobody, nil, 403, "FORBIDDEN", "")
		}
		e.wantError("POST", "/api/users", nobody, utUserBody("fay", "106", "StandardUser"), 403, "FORBIDDEN", "")

		// company.view_only reads the tenant and changes nothing.
		if st := e.do("GET", "/api/tenant", viewer, nil, nil); st != 200 {
			t.Fatalf("Viewer GET /tenant: status %d", st)
		}
		if st := e.do("GET", "/api/tenant/password_policy", viewer, nil, nil); st != 200 {
			t.Fatalf("Viewer GET /tenant/password_policy: status %d", st)
		}
		e.wantError("POST", "/api/tenant/password_policy", viewer, map[string]any{"min_length": 8}, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/users", viewer, nil, 403, "FORBIDDEN", "")
		// Tenant roles never open system operations.
		e.wantError("GET", "/api/tenants", viewer, nil, 403, "FORBIDDEN", "")

		// A role change ends the user's sessions, and the next login has
		// the new role's permissions.
		if st := e.do("POST", "/api/users/"+nobodyID+"/role", aTok, map[string]any{"role": "UserDesk"}, nil); st/100 != 2 {
			t.Fatalf("change role: status %d", st)
		}
		e.wantError("GET", "/api/users", nobody, nil, 401, "UNAUTHORIZED", "")
		nobody = e.login("nobody", "Secret#123", "a.test")
		if st := e.do("GET", "/api/users", nobody, nil, nil); st != 200 {
			t.Fatalf("GET /users after role change: status %d", st)
		}

		// Editing a role's permissions applies at the next request.
		if st := e.do("POST", "/api/roles/UserDesk", aTok, map[string]any{"permissions": map[string]any{}}, nil); st/100 != 2 {
			t.Fatalf("update role: status %d", st)
		}
		e.wantError("GET", "/api/users", mgr, nil, 403, "FORBIDDEN", "")

		// The built-in Admin keeps everything.
		for _, path := range []string{"/api/users", "/api/groups", "/api/roles", "/api/tenant"} {
			if st := e.do("GET", path, aTok, nil, nil); st != 200 {
				t.Fatalf("Admin GET %s: status %d", path, st)
			}
		}
	})
}

func TestPermissionTable(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         []string // nil: no row
	}{
		{"GET", "/users", []string{"user_management.users"}},
		{"POST", "/users/{id}/password", []string{"user_management.users"}},
		{"POST", "/groups/{id}/members/{member}", []string{"user_management.users"}},
		{"GET", "/roles/{name}", []string{"user_management.roles", "user_management.users"}},
		{"POST", "/roles", []string{"user_management.roles"}},
		{"GET", "/tenant/password_policy", []string{"company.view_only", "company.full_access"}},
		{"POST", "/tenant", []string{"company.full_access"}},
		{"GET", "/cdrs", []string{"company_call_log.call_log_view_only", "company_call_log.call_log_full_access"}},
		{"POST", "/recordings/{id}/destroy", []string{"company_call_log.call_recording_full_access"}},
		{"GET", "/ivrs/{id}/action_urls", []string{"phone_system.view_only", "phone_system.full_access"}},
		{"POST", "/inbound_rules", []string{"phone_system.full_access"}},
		{"POST", "/moh_server/musics", []string{"phone_system.full_access"}},
		{"GET", "/voicemails", nil},
		{"POST", "/extension_numbers/{n}", nil},
		{"GET", "/user", nil},
		{"GET", "/tenants", nil},
		{"GET", "/usersx", nil},
	} {
		r, ok := permissionFor(c.method, c.path)
		if c.want == nil {
			if ok {
				t.Errorf("%s %s: row %+v, want none", c.method, c.path, r)
			}
			continue
		}
		if !ok || strings.Join(r.anyOf, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s %s: %v, want %v", c.method, c.path, r.anyOf, c.want)
		}
	}
}

// TestPhoneSystemPermissions has custom roles with phone_system view and
// full access read and change the tenant's call flow, and a role without
// either refused.
func TestPhoneSystemPermissions(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		ptRole(e, aTok, "FlowViewer", map[string]any{"phone_system": map[string]any{"view_only": true}})
		ptRole(e, aTok, "FlowAdmin", map[string]any{"phone_system": map[string]any{"full_access": true}})
		utCreate(e, aTok, utUserBody("viewer", "101", "FlowViewer"))
		utCreate(e, aTok, utUserBody("admin2", "102", "FlowAdmin"))
		utCreate(e, aTok, utUserBody("plain", "103", "StandardUser"))
		viewer, flow, plain := e.login("viewer", "Secret#123", "a.test"), e.login("admin2", "Secret#123", "a.test"), e.login("plain", "Secret#123", "a.test")
		body := map[string]any{"number_prefix": "1900", "description": "premium"}
		if st := e.do("POST", "/api/disallowed_codes", flow, body, nil); st/100 != 2 {
			t.Fatalf("phone_system.full_access adds a disallowed code: %d", st)
		}
		if st := e.do("GET", "/api/disallowed_codes", viewer, nil, nil); st != 200 {
			t.Fatalf("phone_system.view_only lists disallowed codes: %d", st)
		}
		e.wantError("POST", "/api/disallowed_codes", viewer, map[string]any{"number_prefix": "1976"}, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/disallowed_codes", plain, nil, 403, "FORBIDDEN", "")
		if st := e.do("GET", "/api/moh_server", viewer, nil, nil); st != 200 {
			t.Fatalf("phone_system.view_only reads the music-on-hold server: %d", st)
		}
	})
}
