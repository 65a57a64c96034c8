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

// createTenant creates a tenant with the required fields and returns its ID.
func (e *env) createTenant(token, domain string) string {
	e.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": "Tenant " + domain, "domain": domain, "timezone": "America/New_York", "currency": "USD", "region": "US"}
	if st := e.do("POST", "/api/tenants", token, body, &out); st != 201 || out.ID == "" {
		e.t.Fatalf("create tenant %s: status %d", domain, st)
	}
	return out.ID
}

// tenantUser creates a user of tenant id with role and returns its token.
func (e *env) tenantUser(id, domain, name string, role pbx.Role) string {
	e.t.Helper()
	tid, err := pbx.ParseTenantID(id)
	if err != nil {
		e.t.Fatal(err)
	}
	const pw = "User#12345"
	h, err := hashPassword(testHash, pw)
	if err != nil {
		e.t.Fatal(err)
	}
	n, _ := e.db.CountUsers(context.Background(), tid)
	u := pbx.User{Name: name, Email: name + "@" + domain, DisplayName: name, Role: role, Enabled: true,
		ExtensionNumber: fmt.Sprint(100 + n), ExtensionPassword: "Ext#12345", PasswordHash: h}
	if err := e.db.CreateUser(context.Background(), tid, &u); err != nil {
		e.t.Fatal(err)
	}
	return e.login(name, pw, domain)
}

// count returns the count of a list answer.
func (e *env) count(path, token string) int {
	e.t.Helper()
	var out struct {
		Count int `json:"count"`
	}
	if st := e.do("GET", path, token, nil, &out); st != 200 {
		e.t.Fatalf("GET %s: status %d", path, st)
	}
	return out.Count
}

func TestTenantsCRUD(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		id := e.createTenant(tok, "Acme.Example.com")

		var raw json.RawMessage
		if st := e.do("GET", "/api/tenants/"+id, tok, nil, &raw); st != 200 {
			t.Fatalf("GET tenant: %d", st)
		}
		for _, want := range []string{`"website":null`, `"email_recipients":null`, `"domain":"acme.example.com"`,
			`"max_extensions":1000`, `"max_concurrent_calls":20`, `"enabled":true`, `"enable_feature_trunks":true`,
			`"enable_billing":false`, `"recording_retention":180`, `"call_report_retention":30`, `"extension_im_disk_quota":"1GB"`,
			`"contact_match_type":"MATCH_EXACTLY"`, `"contact_append_type":"APPEND"`, `"contact_update_interval":720`,
			`"max_ring_groups":20`, `"remove_duplicate_countries":true`, `"auth":"DISABLE"`, `"outbound_caller_ids":[]`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("GET tenant: missing %s in %s", want, raw)
			}
		}

		// Updates are partial: absent fields keep their values, nested
		// objects merge field by field, explicit false is kept.
		upd := map[string]any{"max_extensions": 50, "enabled": false, "website": "https://acme.example.com",
			"e164": map[string]any{"enabled": true, "country": "1"}, "office_hours": map[string]any{
				"monday": map[string]any{"enabled": true, "ranges": []map[string]string{{"from": "09:00", "to": "17:00"}}}}}
		if st := e.do("POST", "/api/tenants/"+id, tok, upd, nil); st/100 != 2 {
			t.Fatalf("update tenant: %d", st)
		}
		var got tenantItem
		e.do("GET", "/api/tenants/"+id, tok, nil, &got)
		if got.MaxExtensions != 50 || got.Enabled || got.MaxConcurrentCalls != 20 || got.Website != "https://acme.example.com" ||
			!got.E164.Enabled || got.E164.Country != "1" || !got.E164.RemoveDuplicateCountries || got.Name != "Tenant Acme.Example.com" ||
			!got.OfficeHours.Monday.Enabled || len(got.OfficeHours.Monday.Ranges) != 1 || got.OfficeHours.Tuesday.Enabled {
			t.Fatalf("after update: %+v", got)
		}

		// Explicit false and zero on create are kept, not replaced by defaults.
		var out struct {
			ID string `json:"id"`
		}
		body := map[string]any{"name": "B", "domain": "b.example.com", "timezone": "UTC", "currency": "EUR", "region": "EU",
			"enable_feature_trunks": false, "max_concurrent_calls": 0, "enable_audio_recording": true}
		if st := e.do("POST", "/api/tenants", tok, body, &out); st != 201 {
			t.Fatalf("create b: %d", st)
		}
		got = tenantItem{}
		e.do("GET", "/api/tenants/"+out.ID, tok, nil, &got)
		if got.EnableFeatureTrunks || got.MaxConcurrentCalls != 0 || !got.EnableAudioRecording || got.MaxExtensions != 1000 {
			t.Fatalf("create with explicit values: %+v", got)
		}

		if n := e.count("/api/tenants", tok); n != 2 {
			t.Fatalf("count = %d, want 2", n)
		}
		if n := e.count("/api/tenants?filter="+url.QueryEscape("domain eq 'b.example.com'"), tok); n != 1 {
			t.Fatalf("filtered count = %d, want 1", n)
		}
		if n := e.count("/api/tenants?search=acme", tok); n != 1 {
			t.Fatalf("search count = %d, want 1", n)
		}
		var list struct {
			Count int              `json:"count"`
			Items []tenantListItem `json:"items"`
		}
		e.do("GET", "/api/tenants?orderby=name%20desc&top=1&skip=0", tok, nil, &list)
		if list.Count != 2 || len(list.Items) != 1 || list.Items[0].Name != "Tenant Acme.Example.com" {
			t.Fatalf("ordered page: %+v", list)
		}
		e.wantError("GET", "/api/tenants?filter=nosuch%20eq%201", tok, nil, 400, "VALIDATE_FAILED", "filter")

		if st := e.do("POST", "/api/tenants/"+out.ID+"/destroy", tok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: %d", st)
		}
		e.wantError("GET", "/api/tenants/"+out.ID, tok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/tenants/"+out.ID+"/destroy", tok, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/tenants/nonsense", tok, nil, 404, "NOT_FOUND", "")
		if n := e.count("/api/tenants", tok); n != 1 {
			t.Fatalf("count after destroy = %d, want 1", n)
		}
	})
}

func TestTenantValidation(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		id := e.createTenant(tok, "a.example.com")
		good := func() map[string]any {
			return map[string]any{"name": "X", "domain": "x.example.com", "timezone": "Europe/Paris", "currency": "EUR", "region": "EU"}
		}
		for _, c := range []struct {
			field  string
			change func(map[string]any)
			status int
			code   string
		}{
			{"name", func(b map[string]any) { delete(b, "name") }, 400, "VALIDATE_FAILED"},
			{"name", func(b map[string]any) { b["name"] = "  " }, 400, "VALIDATE_FAILED"},
			{"domain", func(b map[string]any) { b["domain"] = "bad domain" }, 400, "VALIDATE_FAILED"},
			{"domain", func(b map[string]any) { b["domain"] = "under_score.test" }, 400, "VALIDATE_FAILED"},
			{"domain", func(b map[string]any) { delete(b, "domain") }, 400, "VALIDATE_FAILED"},
			{"timezone", func(b map[string]any) { b["timezone"] = "Mars/Olympus" }, 400, "VALIDATE_FAILED"},
			{"timezone", func(b map[string]any) { delete(b, "timezone") }, 400, "VALIDATE_FAILED"},
			{"currency", func(b map[string]any) { delete(b, "currency") }, 400, "VALIDATE_FAILED"},
			{"region", func(b map[string]any) { delete(b, "region") }, 400, "VALIDATE_FAILED"},
			{"contact_match_type", func(b map[string]any) { b["contact_match_type"] = "FUZZY" }, 400, "VALIDATE_FAILED"},
			{"contact_update_interval", func(b map[string]any) { b["contact_update_interval"] = 0 }, 400, "VALIDATE_FAILED"},
			{"max_extensions", func(b map[string]any) { b["max_extensions"] = -1 }, 400, "VALIDATE_FAILED"},
			{"domain", func(b map[string]any) { b["domain"] = "A.EXAMPLE.COM" }, 409, "CONFLICT"},
		} {
			b := good()
			c.change(b)
			e.wantError("POST", "/api/tenants", tok, b, c.status, c.code, c.field)
		}
		// No failed create left a row.
		if n := e.count("/api/tenants", tok); n != 1 {
			t.Fatalf("count after failed creates = %d, want 1", n)
		}
		e.wantError("POST", "/api/tenants/"+id, tok, map[string]any{"timezone": "Nowhere/Land"}, 400, "VALIDATE_FAILED", "timezone")
		e.wantError("POST", "/api/tenants/"+id, tok, map[string]any{"domain": "-bad-"}, 400, "VALIDATE_FAILED", "domain")
		e.wantError("POST", "/api/tenants/"+id, tok, map[string]any{"cdr_event": map[string]any{"auth": "NTLM"}}, 400, "VALIDATE_FAILED", "cdr_event.auth")
		var got tenantItem
		e.do("GET", "/api/tenants/"+id, tok, nil, &got)
		if got.Timezone != "America/New_York" || got.Domain != "a.example.com" {
			t.Fatalf("failed update changed the tenant: %+v", got)
		}
	})
}

func TestTenantAccess(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		a := e.createTenant(tok, "a.example.com")
		b := e.createTenant(tok, "b.example.com")
		admin := e.tenantUser(a, "a.example.com", "alice", pbx.RoleAdmin)
		user := e.tenantUser(a, "a.example.com", "bob", pbx.RoleStandardUser)

		e.wantError("GET", "/api/tenants", "", nil, 401, "UNAUTHORIZED", "")
		e.wantError("GET", "/api/tenants", admin, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/tenants", admin, map[string]any{"name": "x", "domain": "x.test", "timezone": "UTC", "currency": "USD", "region": "US"},
			403, "FORBIDDEN", "")
		e.wantError("GET", "/api/tenants/"+b, admin, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/tenants/"+a, admin, map[string]any{"max_extensions": 99999}, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/tenants/"+b+"/destroy", admin, nil, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/tenants/"+a, user, nil, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/tenants/"+b, user, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/tenant", user, nil, 403, "FORBIDDEN", "")

		var got tenantItem
		if st := e.do("GET", "/api/tenants/"+a, admin, nil, &got); st != 200 || got.ID != a {
			t.Fatalf("tenant admin GET own tenant: %d %s", st, got.ID)
		}
		got = tenantItem{}
		if st := e.do("GET", "/api/tenant", admin, nil, &got); st != 200 || got.ID != a || got.Domain != "a.example.com" {
			t.Fatalf("GET /tenant: %d %+v", st, got)
		}
		// A tenant admin renames its tenant and sets its caller IDs, but the
		// limits are not its to change.
		e.wantError("POST", "/api/tenant", admin, map[string]any{"max_extensions": 5}, 400, "VALIDATE_FAILED", "max_extensions")
		upd := map[string]any{"name": "Alpha", "enable_night_mode": true,
			"outbound_caller_ids": []map[string]string{{"provider_id": "1", "caller_id": "+15551234567"}}}
		if st := e.do("POST", "/api/tenant", admin, upd, nil); st/100 != 2 {
			t.Fatalf("POST /tenant: %d", st)
		}
		got = tenantItem{}
		e.do("GET", "/api/tenant", admin, nil, &got)
		if got.Name != "Alpha" || !got.EnableNightMode || got.MaxExtensions != 1000 || len(got.OutboundCallerIDs) != 1 {
			t.Fatalf("after POST /tenant: %+v", got)
		}
		e.wantError("POST", "/api/tenant", admin, map[string]any{"timezone": "Bad/Zone"}, 400, "VALIDATE_FAILED", "timezone")
		e.wantError("POST", "/api/tenant", admin, map[string]any{"domain": "B.EXAMPLE.COM"}, 409, "CONFLICT", "domain")

		var st tenantStatus
		if code := e.do("GET", "/api/tenant/status", admin, nil, &st); code != 200 || st.CurrentUsers != 2 || st.LicensedUsers != 1000 {
			t.Fatalf("GET /tenant/status: %d %+v", code, st)
		}
	})
}

func TestTenantSwitch(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		e.createTenant(tok, "a.example.com")
		b := e.createTenant(tok, "b.example.com")
		e.wantError("GET", "/api/tenant", tok, nil, 403, "FORBIDDEN", "")
		if st := e.do("POST", "/api/tenants/switch?id="+b, tok, nil, nil); st/100 != 2 {
			t.Fatalf("switch: %d", st)
		}
		var got tenantItem
		if st := e.do("GET", "/api/tenant", tok, nil, &got); st != 200 || got.ID != b {
			t.Fatalf("GET /tenant after switch: %d %s, want %s", st, got.ID, b)
		}
		// Destroying the tenant switches the admin back to the system.
		if st := e.do("POST", "/api/tenants/"+b+"/destroy", tok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: %d", st)
		}
		e.wantError("GET", "/api/tenant", tok, nil, 403, "FORBIDDEN", "")
		if n := e.count("/api/tenants", tok); n != 1 {
			t.Fatalf("count = %d", n)
		}
	})
}

func TestTenantDestroyRevokesSessions(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		a := e.createTenant(tok, "a.example.com")
		user := e.tenantUser(a, "a.example.com", "alice", pbx.RoleAdmin)
		if st := e.do("GET", "/api/login", user, nil, nil); st != 200 {
			t.Fatalf("user session: %d", st)
		}
		// Disabling the tenant ends its users' sessions and refuses logins.
		if st := e.do("POST", "/api/tenants/"+a, tok, map[string]any{"enabled": false}, nil); st/100 != 2 {
			t.Fatalf("disable: %d", st)
		}
		e.wantError("GET", "/api/login", user, nil, 401, "UNAUTHORIZED", "")
		e.wantError("POST", "/api/login", "", map[string]string{"username": "alice", "password": "User#12345", "domain": "a.example.com"},
			401, "UNAUTHORIZED", "")
		if st := e.do("POST", "/api/tenants/"+a, tok, map[string]any{"enabled": true}, nil); st/100 != 2 {
			t.Fatalf("enable: %d", st)
		}
		user = e.login("alice", "User#12345", "a.example.com")
		if st := e.do("POST", "/api/tenants/"+a+"/destroy", tok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: %d", st)
		}
		e.wantError("GET", "/api/login", user, nil, 401, "UNAUTHORIZED", "")
		if n, _ := e.db.CountUsers(context.Background(), mustTenantID(t, a)); n != 0 {
			t.Fatalf("users survived their tenant: %d", n)
		}
	})
}

func TestTenantAudit(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		body := map[string]any{"name": "A", "domain": "a.example.com", "timezone": "UTC", "currency": "USD", "region": "US",
			"cdr_event": map[string]any{"enabled": true, "auth": "BASIC", "username": "u", "password": "hook-secret", "url": "https://hooks.test/cdr"}}
		if st := e.do("POST", "/api/tenants", tok, body, nil); st != 201 {
			t.Fatalf("create: %d", st)
		}
		var raw json.RawMessage
		f := url.QueryEscape("action eq 'CREATE' and object_type eq 'TENANT'")
		if st := e.do("GET", "/api/audit_logs?filter="+f, tok, nil, &raw); st != 200 {
			t.Fatalf("audit logs: %d", st)
		}
		var logs struct {
			Count int            `json:"count"`
			Items []auditLogItem `json:"items"`
		}
		json.Unmarshal(raw, &logs)
		if logs.Count != 1 || logs.Items[0].ObjectName == nil || *logs.Items[0].ObjectName != "A" {
			t.Fatalf("CREATE TENANT audit: %s", raw)
		}
		if strings.Contains(string(raw), "hook-secret") {
			t.Fatalf("audit log holds a password: %s", raw)
		}

		// An update records the state before and after it.
		var list struct {
			Items []tenantListItem `json:"items"`
		}
		e.do("GET", "/api/tenants", tok, nil, &list)
		hours := func(from string) map[string]any {
			return map[string]any{"office_hours": map[string]any{"monday": map[string]any{"enabled": true,
				"ranges": []map[string]string{{"from": from, "to": "17:00"}}}}}
		}
		for _, from := range []string{"09:00", "10:00"} {
			if st := e.do("POST", "/api/tenants/"+list.Items[0].ID, tok, hours(from), nil); st/100 != 2 {
				t.Fatalf("update: %d", st)
			}
		}
		logs.Items = nil
		f = url.QueryEscape("action eq 'UPDATE' and object_type eq 'TENANT'")
		e.do("GET", "/api/audit_logs?filter="+f+"&orderby=id%20desc&top=1", tok, nil, &logs)
		if len(logs.Items) != 1 || logs.Items[0].OldState == nil || logs.Items[0].NewState == nil ||
			!strings.Contains(*logs.Items[0].OldState, `"from":"09:00"`) || !strings.Contains(*logs.Items[0].NewState, `"from":"10:00"`) {
			t.Fatalf("UPDATE TENANT audit: %+v", logs.Items)
		}
	})
}

func TestPasswordPolicy(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		a := e.createTenant(tok, "a.example.com")
		admin := e.tenantUser(a, "a.example.com", "alice", pbx.RoleAdmin)
		var pp passwordPolicy
		if st := e.do("GET", "/api/tenant/password_policy", admin, nil, &pp); st != 200 || pp != defaultPasswordPolicy() {
			t.Fatalf("default policy: %d %+v", st, pp)
		}
		if st := e.do("POST", "/api/tenant/password_policy", admin, map[string]any{"min_length": 8, "contains_special_letters": false}, nil); st/100 != 2 {
			t.Fatalf("update policy: %d", st)
		}
		pp = passwordPolicy{}
		e.do("GET", "/api/tenant/password_policy", admin, nil, &pp)
		want := defaultPasswordPolicy()
		want.MinLength, want.ContainsSpecialLetters = 8, false
		if pp != want {
			t.Fatalf("policy = %+v, want %+v", pp, want)
		}
		e.wantError("POST", "/api/tenant/password_policy", admin, map[string]any{"min_length": 40}, 400, "VALIDATE_FAILED", "min_length")
		e.wantError("POST", "/api/tenant/password_policy", admin, map[string]any{"max_length": 5}, 400, "VALIDATE_FAILED", "max_length")
		e.wantError("POST", "/api/tenant/password_policy", admin, map[string]any{"min_length": 20, "max_length": 10}, 400, "VALIDATE_FAILED", "min_length")
		// The policy lives beside the tenant's other settings without disturbing them.
		var got tenantItem
		e.do("GET", "/api/tenant", admin, nil, &got)
		if got.MaxExtensions != 1000 || got.Domain != "a.example.com" {
			t.Fatalf("tenant after policy change: %+v", got)
		}
	})
}

func mustTenantID(t *testing.T, s string) pbx.TenantID {
	t.Helper()
	id, err := pbx.ParseTenantID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
