package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

// utTenant creates a tenant directly in the store and returns its ID.
func utTenant(e *env, domain string, maxExt int) pbx.TenantID {
	e.t.Helper()
	tn := pbx.Tenant{Name: domain, Domain: domain, Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: maxExt}
	if err := e.db.CreateTenant(context.Background(), &tn); err != nil {
		e.t.Fatal(err)
	}
	return tn.ID
}

// utSwitched logs in as the system admin and switches into tenant.
func utSwitched(e *env, tenant pbx.TenantID) string {
	e.t.Helper()
	tok := e.adminToken()
	if st := e.do("POST", "/api/tenants/switch?id="+tenant.String(), tok, nil, nil); st/100 != 2 {
		e.t.Fatalf("switch into %s: status %d", tenant, st)
	}
	return tok
}

// utUserBody is a valid create body for a user with the given name,
// extension number and role.
func utUserBody(name, ext, role string) map[string]any {
	return map[string]any{
		"name": name, "password": "Secret#123", "email": name + "@example.com", "display_name": strings.ToUpper(name[:1]) + name[1:],
		"role": role, "extension_number": ext, "extension_password": "SipPass#123", "voicemail_pin": "1234",
	}
}

// utCreate creates a user and returns its ID.
func utCreate(e *env, tok string, body map[string]any) string {
	e.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if st := e.do("POST", "/api/users", tok, body, &out); st != 201 || out.ID == "" {
		e.t.Fatalf("create user %v: status %d", body["name"], st)
	}
	return out.ID
}

// utTenantAdmin creates a tenant with an Admin user and returns the
// tenant, the admin's token and a system admin token switched into it.
func utTenantAdmin(e *env, domain string) (pbx.TenantID, string, string) {
	e.t.Helper()
	tn := utTenant(e, domain, 1000)
	sys := utSwitched(e, tn)
	utCreate(e, sys, utUserBody("boss", "100", "Admin"))
	return tn, e.login("boss", "Secret#123", domain), sys
}

type utList struct {
	Count int              `json:"count"`
	Items []map[string]any `json:"items"`
}

func utNames(l utList, field string) string {
	var out []string
	for _, it := range l.Items {
		out = append(out, fmt.Sprint(it[field]))
	}
	return strings.Join(out, ",")
}

func TestUsersCreateListFilter(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tn := utTenant(e, "a.test", 1000)
		tok := utSwitched(e, tn)
		utCreate(e, tok, utUserBody("alice", "101", "StandardUser"))
		alan := utUserBody("alan", "102", "StandardUser")
		alan["enabled"] = false
		utCreate(e, tok, alan)
		utCreate(e, tok, utUserBody("albert", "103", "QueueManager"))
		utCreate(e, tok, utUserBody("bob", "104", "StandardUser"))

		var l utList
		q := "/api/users?filter=" + url.QueryEscape("startswith(display_name,'Al') and enabled eq true") + "&orderby=" + url.QueryEscape("display_name desc")
		if st := e.do("GET", q, tok, nil, &l); st != 200 {
			t.Fatalf("list: status %d", st)
		}
		if got, want := utNames(l, "name"), "alice,albert"; got != want || l.Count != 2 {
			t.Fatalf("filtered list = %s (count %d), want %s (count 2)", got, l.Count, want)
		}
		if st := e.do("GET", "/api/users?orderby=extension_number&top=2&skip=1", tok, nil, &l); st != 200 {
			t.Fatalf("page: status %d", st)
		}
		if got, want := utNames(l, "extension_number"), "102,103"; got != want || l.Count != 4 {
			t.Fatalf("page = %s (count %d), want %s (count 4)", got, l.Count, want)
		}
		if st := e.do("GET", "/api/users?search=bob", tok, nil, &l); st != 200 || l.Count != 1 {
			t.Fatalf("search: status %d count %d", st, l.Count)
		}
		e.wantError("GET", "/api/users?filter="+url.QueryEscape("password eq 'x'"), tok, nil, 400, "VALIDATE_FAILED", "filter")

		// The detail has PortSIP's defaults and no secrets.
		id := fmt.Sprint(l.Items[0]["id"])
		var raw map[string]any
		if st := e.do("GET", "/api/users/"+id, tok, nil, &raw); st != 200 {
			t.Fatalf("get: status %d", st)
		}
		for k, want := range map[string]any{"name": "bob", "enabled": true, "role": "StandardUser", "extension_number": "104",
			"delivery_outbound_cid": true, "sms": "DISABLE", "enable_voicemail_pin": true, "voicemail_pin": "1234", "mobile_phone": nil} {
			if got := raw[k]; got != want {
				t.Errorf("get user: %s = %v, want %v", k, got, want)
			}
		}
		for _, k := range []string{"password", "extension_password", "password_hash"} {
			if _, ok := raw[k]; ok {
				t.Errorf("get user answers %s", k)
			}
		}
		if r, _ := raw["available_no_answer_forward_rule"].(map[string]any); r["timeout"] != float64(60) {
			t.Errorf("no-answer rule = %v, want timeout 60", raw["available_no_answer_forward_rule"])
		}

		// The audit log has the create, without passwords.
		var audit utList
		if st := e.do("GET", "/api/audit_logs?filter="+url.QueryEscape("action eq 'CREATE' and object_type eq 'USER'"), tok, nil, &audit); st != 200 || audit.Count != 4 {
			t.Fatalf("audit: status %d count %d", st, audit.Count)
		}
		for _, it := range audit.Items {
			if s := fmt.Sprint(it["new_state"]); strings.Contains(s, "Secret#123") || strings.Contains(s, "SipPass") || strings.Contains(s, "password") {
				t.Fatalf("audit log holds a secret: %s", s)
			}
		}
	})
}

func TestUsersUpdate(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tn := utTenant(e, "a.test", 1000)
		tok := utSwitched(e, tn)
		id := utCreate(e, tok, utUserBody("alice", "101", "StandardUser"))
		utCreate(e, tok, utUserBody("bob", "102", "StandardUser"))
		body := map[string]any{"display_name": "Alice Cooper", "mobile_phone": "+15550100", "work_phone": nil,
			"busy_office_hours_forward_rule":   map[string]any{"action": "FORWARD_TO_NUMBER", "number": "200"},
			"available_no_answer_forward_rule": map[string]any{"timeout": 30}}
		if st := e.do("POST", "/api/users/"+id, tok, body, nil); st/100 != 2 {
			t.Fatalf("update: status %d", st)
		}
		var got map[string]any
		e.do("GET", "/api/users/"+id, tok, nil, &got)
		if got["display_name"] != "Alice Cooper" || got["mobile_phone"] != "+15550100" || got["extension_number"] != "101" || got["email"] != "alice@example.com" {
			t.Fatalf("after update: %v", got)
		}
		// PortSIP's update has no extension_number: it is not an unknown
		// field silently dropped, it is refused.
		e.wantError("POST", "/api/users/"+id, tok, map[string]any{"extension_number": "150"}, 400, "VALIDATE_FAILED", "extension_number")
		// The store moves a number within the namespace.
		ctx := context.Background()
		u, err := e.db.UserByExtension(ctx, tn, "101")
		if err != nil {
			t.Fatal(err)
		}
		u.ExtensionNumber = "150"
		if err := e.db.UpdateUser(ctx, tn, &u); err != nil {
			t.Fatal(err)
		}
		if r, _ := got["available_no_answer_forward_rule"].(map[string]any); r["timeout"] != float64(30) || r["action"] != "FORWARD_TO_VOICEMAIL" {
			t.Fatalf("nested merge: %v", r)
		}
		// The number moved in the namespace.
		e.wantError("GET", "/api/extension_numbers/101", tok, nil, 404, "NOT_FOUND", "")
		var en map[string]any
		if st := e.do("GET", "/api/extension_numbers/150", tok, nil, &en); st != 200 || en["id"] != id || en["type"] != "EXTENSION" || en["name"] != "Alice Cooper" {
			t.Fatalf("extension number 150: status %d %v", st, en)
		}
		u.ExtensionNumber = "102"
		if err := e.db.UpdateUser(ctx, tn, &u); pbx.ErrorCode(err) != pbx.ECONFLICT || pbx.ErrorField(err) != "extension_number" {
			t.Fatalf("move onto a taken number: %v", err)
		}
		e.wantError("POST", "/api/users/"+id, tok, map[string]any{"email": "bad"}, 400, "VALIDATE_FAILED", "email")
		e.wantError("POST", "/api/users/"+id, tok, map[string]any{"sms": "MAYBE"}, 400, "VALIDATE_FAILED", "sms")
		e.wantError("POST", "/api/users/"+id, tok, map[string]any{"dnd_office_hours_forward_rule": map[string]any{"action": "RING_ANYWAY"}},
			400, "VALIDATE_FAILED", "dnd_office_hours_forward_rule.action")
		e.wantError("POST", "/api/users/"+id, tok, map[string]any{"away_office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_NUMBER"}},
			400, "VALIDATE_FAILED", "away_office_hours_forward_rule.number")

		if st := e.do("POST", "/api/users/"+id+"/role", tok, map[string]any{"role": "QueueManager"}, nil); st/100 != 2 {
			t.Fatalf("role: status %d", st)
		}
		e.wantError("POST", "/api/users/"+id+"/role", tok, map[string]any{"role": "King"}, 400, "VALIDATE_FAILED", "role")
		var status map[string]any
		if st := e.do("GET", "/api/users/"+id+"/status", tok, nil, &status); st != 200 || status["status"] != "OFFLINE" || status["presence"] != "AVAILABLE" {
			t.Fatalf("status: %d %v", st, status)
		}
		if st := e.do("POST", "/api/users/"+id+"/profile", tok, nil, nil); st/100 != 2 {
			t.Fatalf("profile: status %d", st)
		}
		if st := e.do("POST", "/api/users/"+id+"/extension_password", tok, map[string]any{"password": "NewSip#1234"}, nil); st/100 != 2 {
			t.Fatalf("extension password: status %d", st)
		}
		if u, _ := e.db.UserByExtension(context.Background(), tn, "150"); u.ExtensionPassword != "NewSip#1234" {
			t.Fatalf("extension password not stored")
		}
		if st := e.do("POST", "/api/users/"+id+"/destroy", tok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: status %d", st)
		}
		e.wantError("GET", "/api/users/"+id, tok, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/extension_numbers/150", tok, nil, 404, "NOT_FOUND", "")
	})
}

func TestUsersValidation(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tn := utTenant(e, "a.test", 1000)
		tok := utSwitched(e, tn)
		utCreate(e, tok, utUserBody("alice", "101", "StandardUser"))
		for _, c := range []struct {
			key   string
			value any
			field string
		}{
			{"name", "al ice", "name"},
			{"name", ".alice", "name"},
			{"name", "alice.", "name"},
			{"name", "Admin", "name"},
			{"name", "root", "name"},
			{"name", strings.Repeat("a", 65), "name"},
			{"email", "not-an-email", "email"},
			{"email", "a@b", "email"},
			{"extension_number", "12a", "extension_number"},
			{"extension_number", "1", "extension_number"},
			{"role", "King", "role"},
			{"role", "SystemAdmin", "role"},
			{"password", "123", "password"},
			{"extension_password", "123", "extension_password"},
			{"voicemail_pin", "12ab", "voicemail_pin"},
			{"voicemail_pin", "12345678901", "voicemail_pin"},
			{"display_name", " ", "display_name"},
			{"sms", "SOMETIMES", "sms"},
			{"preferred_transport", "SCTP", "preferred_transport"},
		} {
			body := utUserBody("carol", "105", "StandardUser")
			body[c.key] = c.value
			e.wantError("POST", "/api/users", tok, body, 400, "VALIDATE_FAILED", c.field)
		}
		for _, required := range []string{"name", "password", "email", "display_name", "role", "extension_number", "extension_password", "voicemail_pin"} {
			body := utUserBody("carol", "105", "StandardUser")
			delete(body, required)
			e.wantError("POST", "/api/users", tok, body, 400, "VALIDATE_FAILED", required)
		}

		// A taken number is a conflict naming it, and nothing is written.
		dup := utUserBody("carol", "101", "StandardUser")
		e.wantError("POST", "/api/users", tok, dup, 409, "CONFLICT", "extension_number")
		e.wantError("POST", "/api/users", tok, utUserBody("alice", "106", "StandardUser"), 409, "CONFLICT", "name")
		var l utList
		if e.do("GET", "/api/users", tok, nil, &l); l.Count != 1 {
			t.Fatalf("after failed creates: %d users, want 1", l.Count)
		}
		if _, err := e.db.Extension(context.Background(), tn, "106"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("failed create left number 106 behind: %v", err)
		}

		// The same number in another tenant is fine.
		other := utTenant(e, "b.test", 1000)
		utCreate(e, utSwitched(e, other), utUserBody("alice", "101", "StandardUser"))

		// A tenant at its max_extensions refuses more users.
		small := utTenant(e, "small.test", 1)
		stok := utSwitched(e, small)
		utCreate(e, stok, utUserBody("one", "101", "StandardUser"))
		e.wantError("POST", "/api/users", stok, utUserBody("two", "102", "StandardUser"), 403, "FORBIDDEN", "")
	})
}

func TestUsersTenantIsolation(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		_, _, bSys := utTenantAdmin(e, "b.test")
		bUser := utCreate(e, bSys, utUserBody("bella", "101", "StandardUser"))
		aUser := utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))

		for _, c := range []struct{ method, path string }{
			{"GET", "/api/users/" + bUser},
			{"POST", "/api/users/" + bUser},
			{"POST", "/api/users/" + bUser + "/destroy"},
			{"POST", "/api/users/" + bUser + "/password"},
			{"POST", "/api/users/" + bUser + "/role"},
			{"GET", "/api/users/" + bUser + "/status"},
			{"GET", "/api/users/not-an-id"},
		} {
			var body any
			switch {
			case strings.HasSuffix(c.path, "/password"):
				body = map[string]any{"password": "Whatever#123"}
			case strings.HasSuffix(c.path, "/role"):
				body = map[string]any{"role": "Admin"}
			case c.method == "POST" && !strings.HasSuffix(c.path, "/destroy"):
				body = map[string]any{"display_name": "Hacked"}
			}
			e.wantError(c.method, c.path, aTok, body, 404, "NOT_FOUND", "")
		}
		var got map[string]any
		if st := e.do("GET", "/api/users/"+bUser, bSys, nil, &got); st != 200 || got["display_name"] != "Bella" {
			t.Fatalf("tenant b's user changed: %d %v", st, got)
		}
		var l utList
		e.do("GET", "/api/users", aTok, nil, &l)
		if got, want := utNames(l, "name"), "boss,alice"; got != want {
			t.Fatalf("tenant a lists %s, want %s", got, want)
		}
		if st := e.do("GET", "/api/users/"+aUser, aTok, nil, nil); st != 200 {
			t.Fatalf("own user: status %d", st)
		}
	})
}

func TestUsersStandardUserForbidden(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		id := utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))
		tok := e.login("alice", "Secret#123", "a.test")
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/users", nil},
			{"POST", "/api/users", utUserBody("carol", "102", "Admin")},
			{"GET", "/api/users/" + id, nil},
			{"POST", "/api/users/" + id + "/role", map[string]any{"role": "Admin"}},
			{"GET", "/api/groups", nil},
			{"POST", "/api/groups", map[string]any{"name": "sales"}},
			{"GET", "/api/roles", nil},
			{"POST", "/api/roles", map[string]any{"name": "boss", "permissions": map[string]any{}}},
			{"GET", "/api/roles/Admin", nil},
			{"GET", "/api/extension_numbers/101", nil},
		} {
			e.wantError(c.method, c.path, tok, c.body, 403, "FORBIDDEN", "")
		}
		e.wantError("GET", "/api/users", "", nil, 401, "UNAUTHORIZED", "")
		if st := e.do("GET", "/api/user", tok, nil, nil); st != 200 {
			t.Fatalf("GET /user: status %d", st)
		}
		// The system admin outside any tenant has no users to manage.
		e.wantError("GET", "/api/users", e.adminToken(), nil, 403, "FORBIDDEN", "")
	})
}

func TestUsersPasswordResetRevokesTokens(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		id := utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))
		tok := e.login("alice", "Secret#123", "a.test")
		e.wantError("POST", "/api/users/"+id+"/password", aTok, map[string]any{"password": "123"}, 400, "VALIDATE_FAILED", "password")
		if st := e.do("POST", "/api/users/"+id+"/password", aTok, map[string]any{"password": "Changed#456"}, nil); st/100 != 2 {
			t.Fatalf("reset password: status %d", st)
		}
		e.wantError("GET", "/api/user", tok, nil, 401, "UNAUTHORIZED", "")
		tok = e.login("alice", "Changed#456", "a.test")
		// Disabling a user ends its sessions and its logins.
		if st := e.do("POST", "/api/users/"+id, aTok, map[string]any{"enabled": false}, nil); st/100 != 2 {
			t.Fatalf("disable: status %d", st)
		}
		e.wantError("GET", "/api/user", tok, nil, 401, "UNAUTHORIZED", "")
		e.wantError("POST", "/api/login", "", map[string]any{"username": "alice", "password": "Changed#456", "domain": "a.test"}, 401, "UNAUTHORIZED", "")
		var audit utList
		e.do("GET", "/api/audit_logs", aTok, nil, &audit)
		b, _ := json.Marshal(audit)
		if strings.Contains(string(b), "Changed#456") {
			t.Fatal("audit log holds the new password")
		}
	})
}
