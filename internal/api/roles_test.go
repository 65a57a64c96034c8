package api

import (
	"testing"
)

func TestRoles(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		_, _, bSys := utTenantAdmin(e, "b.test")

		var l utList
		if st := e.do("GET", "/api/roles", aTok, nil, &l); st != 200 || l.Count != 4 {
			t.Fatalf("list roles: %d %+v", st, l)
		}
		if got, want := utNames(l, "name"), "Admin,QueueManager,StandardUser,StandardInternationalUser"; got != want {
			t.Fatalf("built-in roles = %s, want %s", got, want)
		}
		var admin map[string]any
		if st := e.do("GET", "/api/roles/Admin", aTok, nil, &admin); st != 200 {
			t.Fatalf("get Admin: status %d", st)
		}
		if um, _ := admin["permissions"].(map[string]any)["user_management"].(map[string]any); um["users"] != true {
			t.Fatalf("Admin permissions = %v", admin["permissions"])
		}

		perms := map[string]any{"general": map[string]any{"voicemail_full_access": true}, "user_management": map[string]any{"users": true}}
		var created map[string]any
		if st := e.do("POST", "/api/roles", aTok, map[string]any{"name": "Helpdesk", "description": "First line", "permissions": perms}, &created); st != 201 || created["name"] != "Helpdesk" {
			t.Fatalf("create role: %d %v", st, created)
		}
		e.wantError("POST", "/api/roles", aTok, map[string]any{"name": "Helpdesk", "permissions": perms}, 409, "CONFLICT", "name")
		e.wantError("POST", "/api/roles", aTok, map[string]any{"name": "admin", "permissions": perms}, 409, "CONFLICT", "name")
		e.wantError("POST", "/api/roles", aTok, map[string]any{"name": "no perms"}, 400, "VALIDATE_FAILED", "permissions")
		e.wantError("POST", "/api/roles", aTok, map[string]any{"name": "a/b", "permissions": perms}, 400, "VALIDATE_FAILED", "name")
		e.wantError("POST", "/api/roles", aTok, map[string]any{"name": "X", "permissions": map[string]any{"trunk": map[string]any{"view_only": "yes"}}},
			400, "VALIDATE_FAILED", "permissions.trunk.view_only")

		var r map[string]any
		if st := e.do("GET", "/api/roles/Helpdesk", aTok, nil, &r); st != 200 || r["description"] != "First line" {
			t.Fatalf("get role: %d %v", st, r)
		}
		p := r["permissions"].(map[string]any)
		if p["general"].(map[string]any)["voicemail_full_access"] != true || p["billing"].(map[string]any)["full_access"] != false {
			t.Fatalf("permissions = %v", p)
		}
		if st := e.do("GET", "/api/roles?filter=name%20eq%20'Helpdesk'", aTok, nil, &l); st != 200 || l.Count != 1 {
			t.Fatalf("filter roles: %d %+v", st, l)
		}
		if st := e.do("GET", "/api/roles", aTok, nil, &l); l.Count != 5 {
			t.Fatalf("list after create: %d %+v", st, l)
		}
		// Tenant b does not see tenant a's custom role, and cannot give it.
		e.wantError("GET", "/api/roles/Helpdesk", bSys, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/users", bSys, utUserBody("carl", "105", "Helpdesk"), 400, "VALIDATE_FAILED", "role")

		// A user with the role pins it; a rename carries the user along.
		uid := utCreate(e, aTok, utUserBody("alice", "101", "Helpdesk"))
		e.wantError("POST", "/api/roles/Helpdesk/destroy", aTok, nil, 409, "CONFLICT", "")
		if st := e.do("POST", "/api/roles/Helpdesk", aTok, map[string]any{"name": "Support", "permissions": map[string]any{}}, nil); st/100 != 2 {
			t.Fatalf("update role: status %d", st)
		}
		var u map[string]any
		if e.do("GET", "/api/users/"+uid, aTok, nil, &u); u["role"] != "Support" {
			t.Fatalf("user role after rename = %v", u["role"])
		}
		e.do("GET", "/api/roles/Support", aTok, nil, &r)
		if r["description"] != "First line" || r["permissions"].(map[string]any)["general"].(map[string]any)["voicemail_full_access"] != false {
			t.Fatalf("after update: %v", r)
		}
		e.wantError("GET", "/api/roles/Helpdesk", aTok, nil, 404, "NOT_FOUND", "")
		if st := e.do("POST", "/api/users/"+uid+"/role", aTok, map[string]any{"role": "StandardUser"}, nil); st/100 != 2 {
			t.Fatalf("change role: status %d", st)
		}
		if st := e.do("POST", "/api/roles/Support/destroy", aTok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy role: status %d", st)
		}
		e.wantError("GET", "/api/roles/Support", aTok, nil, 404, "NOT_FOUND", "")

		// Built-in roles cannot be changed.
		e.wantError("POST", "/api/roles/Admin", aTok, map[string]any{"description": "mine"}, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/roles/StandardUser/destroy", aTok, nil, 403, "FORBIDDEN", "")
		var audit utList
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'ROLE'", aTok, nil, &audit)
		if audit.Count != 3 {
			t.Fatalf("role audit entries = %d, want 3", audit.Count)
		}
	})
}
