package api

import (
	"strings"
	"testing"
)

// wantPolicyError asserts a 400 VALIDATE_FAILED naming field whose message
// holds rule.
func (e *env) wantPolicyError(method, path, token string, body any, field, rule string) {
	e.t.Helper()
	var eb errBody
	if st := e.do(method, path, token, body, &eb); st != 400 || len(eb.Errors) == 0 {
		e.t.Fatalf("%s %s: status %d, want 400 (%+v)", method, path, st, eb)
	}
	got := eb.Errors[0]
	if f, _ := got.Detail["field"].(string); got.Code != "VALIDATE_FAILED" || f != field || !strings.Contains(got.Message, rule) {
		e.t.Fatalf("%s %s: error %+v, want VALIDATE_FAILED on %s saying %q", method, path, got, field, rule)
	}
}

func TestTenantPasswordPolicy(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")

		// POST /users: every rule of the default policy.
		for _, c := range []struct{ pw, rule string }{
			{"Ab#1", "at least 6"},
			{"Abc#1" + strings.Repeat("x1", 14), "at most 32"},
			{"1357#2468", "letter"},
			{"Secret#pw", "number"},
			{"Secret1357", "special"},
			{"Pass#1234", "sequential"},
			{"Pass#dcba9", "sequential"},
			{"Pw#1zzzz", "repeat"},
			{"ALICE#2026", "user name"},
			{"Pw#x1017", "extension"},
		} {
			body := utUserBody("alice", "101", "StandardUser")
			body["password"] = c.pw
			e.wantPolicyError("POST", "/api/users", aTok, body, "password", c.rule)
		}
		id := utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))

		// POST /users/{id}/password.
		e.wantPolicyError("POST", "/api/users/"+id+"/password", aTok, map[string]any{"password": "Alice#2026"}, "password", "user name")
		e.wantPolicyError("POST", "/api/users/"+id+"/password", aTok, map[string]any{"password": "Reset#6789"}, "password", "sequential")
		if st := e.do("POST", "/api/users/"+id+"/password", aTok, map[string]any{"password": "Reset#2468"}, nil); st/100 != 2 {
			t.Fatalf("reset password: status %d", st)
		}

		// POST /user/password names new_password.
		tok := e.login("alice", "Reset#2468", "a.test")
		e.wantPolicyError("POST", "/api/user/password", tok, map[string]any{"old_password": "Reset#2468", "new_password": "Own#0000x"},
			"new_password", "repeat")
		e.wantPolicyError("POST", "/api/user/password", tok, map[string]any{"old_password": "Reset#2468", "new_password": "my101#pw"},
			"new_password", "extension")
		if st := e.do("POST", "/api/user/password", tok, map[string]any{"old_password": "Reset#2468", "new_password": "Mine#3579"}, nil); st/100 != 2 {
			t.Fatalf("change own password: status %d", st)
		}

		// The tenant's own policy applies once changed.
		if st := e.do("POST", "/api/tenant/password_policy", aTok, map[string]any{"min_length": 12}, nil); st/100 != 2 {
			t.Fatalf("update policy: status %d", st)
		}
		e.wantPolicyError("POST", "/api/users", aTok, utUserBody("bob", "102", "StandardUser"), "password", "at least 12")
		loose := map[string]any{"min_length": 6, "contains_special_letters": false, "disable_sequential_characters": false,
			"disable_repeating_characters": false, "disable_account_information": false}
		if st := e.do("POST", "/api/tenant/password_policy", aTok, loose, nil); st/100 != 2 {
			t.Fatalf("update policy: status %d", st)
		}
		body := utUserBody("bob", "102", "StandardUser")
		body["password"] = "bob1234aaaa"
		utCreate(e, aTok, body)
		e.login("bob", "bob1234aaaa", "a.test")

		// Other tenants keep the defaults.
		_, bTok, _ := utTenantAdmin(e, "b.test")
		e.wantPolicyError("POST", "/api/users", bTok, body, "password", "special")
	})
}
