package api

import (
	"testing"
)

func TestUserSelf(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))
		tok := e.login("alice", "Secret#123", "a.test")

		var me map[string]any
		if st := e.do("GET", "/api/user", tok, nil, &me); st != 200 || me["name"] != "alice" || me["extension_number"] != "101" {
			t.Fatalf("GET /user: %d %v", st, me)
		}
		if _, ok := me["password"]; ok {
			t.Fatal("GET /user answers the password")
		}
		body := map[string]any{"display_name": "Alice A", "department": "Sales", "enable_dnd": true,
			"dnd_office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_VOICEMAIL"}}
		if st := e.do("POST", "/api/user", tok, body, nil); st/100 != 2 {
			t.Fatalf("POST /user: status %d", st)
		}
		// Privileged fields are not part of the self-service body.
		for _, k := range []string{"role", "enabled", "extension_number"} {
			var v any = "Admin"
			if k == "enabled" {
				v = false
			} else if k == "extension_number" {
				v = "999"
			}
			e.wantError("POST", "/api/user", tok, map[string]any{k: v}, 400, "VALIDATE_FAILED", k)
		}
		e.do("GET", "/api/user", tok, nil, &me)
		if me["display_name"] != "Alice A" || me["department"] != "Sales" || me["enable_dnd"] != true || me["role"] != "StandardUser" || me["enabled"] != true {
			t.Fatalf("after POST /user: %v", me)
		}
		var status map[string]any
		if st := e.do("GET", "/api/user/status", tok, nil, &status); st != 200 || status["enable_dnd"] != true {
			t.Fatalf("GET /user/status: %d %v", st, status)
		}
		if st := e.do("POST", "/api/user/profile", tok, nil, nil); st/100 != 2 {
			t.Fatalf("POST /user/profile: status %d", st)
		}

		// The SIP password needs the old one.
		e.wantError("POST", "/api/user/extension_password", tok, map[string]any{"old_password": "wrong", "new_password": "NewSip#999"}, 400, "VALIDATE_FAILED", "old_password")
		if st := e.do("POST", "/api/user/extension_password", tok, map[string]any{"old_password": "SipPass#123", "new_password": "NewSip#999"}, nil); st/100 != 2 {
			t.Fatalf("extension password: status %d", st)
		}

		// The web password needs the old one, and ends every session.
		other := e.login("alice", "Secret#123", "a.test")
		e.wantError("POST", "/api/user/password", tok, map[string]any{"new_password": "Fresh#4680"}, 400, "VALIDATE_FAILED", "old_password")
		e.wantError("POST", "/api/user/password", tok, map[string]any{"old_password": "nope", "new_password": "Fresh#4680"}, 400, "VALIDATE_FAILED", "old_password")
		e.wantError("POST", "/api/user/password", tok, map[string]any{"old_password": "Secret#123", "new_password": "1"}, 400, "VALIDATE_FAILED", "new_password")
		if st := e.do("POST", "/api/user/password", tok, map[string]any{"old_password": "Secret#123", "new_password": "Fresh#4680"}, nil); st/100 != 2 {
			t.Fatalf("password: status %d", st)
		}
		e.wantError("GET", "/api/user", tok, nil, 401, "UNAUTHORIZED", "")
		e.wantError("GET", "/api/user", other, nil, 401, "UNAUTHORIZED", "")
		e.login("alice", "Fresh#4680", "a.test")

		// /user is for extension users: the system admin has no such record.
		e.wantError("GET", "/api/user", e.adminToken(), nil, 403, "FORBIDDEN", "")
	})
}
