package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

func TestAdminSettings(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		var st adminSettings
		if code := e.do("GET", "/api/admin/settings", tok, nil, &st); code != 200 || st != defaultAdminSettings() {
			t.Fatalf("default settings: %d %+v", code, st)
		}
		var raw json.RawMessage
		e.do("GET", "/api/admin/settings", tok, nil, &raw)
		for _, want := range []string{`"user_agent":"PortSIP UC"`, `"session_timer_duration":3600`, `"register_expiration_time":300`,
			`"web_failed_auth_amount":5`, `"sip_barrier_2_blocking_time":30`, `"enable_outbound_support":true`, `"trace_server_host":null`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("settings: missing %s in %s", want, raw)
			}
		}
		upd := map[string]any{"user_agent": "gopbx", "enable_digest_auth": false, "register_expiration_time": 120,
			"auto_answer_alert_info_header": "INTERCOM"}
		if code := e.do("POST", "/api/admin/settings", tok, upd, nil); code/100 != 2 {
			t.Fatalf("update settings: %d", code)
		}
		st = adminSettings{}
		e.do("GET", "/api/admin/settings", tok, nil, &st)
		want := defaultAdminSettings()
		want.UserAgent, want.EnableDigestAuth, want.RegisterExpirationTime, want.AutoAnswerAlertInfoHeader = "gopbx", false, 120, "INTERCOM"
		if st != want {
			t.Fatalf("settings = %+v, want %+v", st, want)
		}
		e.wantError("POST", "/api/admin/settings", tok, map[string]any{"session_timer_duration": 10}, 400, "VALIDATE_FAILED", "session_timer_duration")
		e.wantError("POST", "/api/admin/settings", tok, map[string]any{"congestion_management_metric": "NOPE"}, 400, "VALIDATE_FAILED", "congestion_management_metric")

		a := e.createTenant(tok, "a.example.com")
		ta := e.tenantUser(a, "a.example.com", "alice", pbx.RoleAdmin)
		e.wantError("GET", "/api/admin/settings", ta, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/admin/settings", ta, upd, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/admin/status", ta, nil, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/admin/status", "", nil, 401, "UNAUTHORIZED", "")
	})
}

func TestAdminStatus(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		a := e.createTenant(tok, "a.example.com")
		e.createTenant(tok, "b.example.com")
		e.createDealer(tok, "acme", 5)
		e.tenantUser(a, "a.example.com", "alice", pbx.RoleAdmin)
		var st adminStatus
		if code := e.do("GET", "/api/admin/status", tok, nil, &st); code != 200 {
			t.Fatalf("status: %d", code)
		}
		if st.CurrentTenants != 2 || st.CurrentDealers != 1 || st.CurrentUsers != 1 || st.CurrentCalls != 0 || st.Version == "" ||
			st.CallsIn24Hours == nil {
			t.Fatalf("status = %+v", st)
		}
	})
}

func TestAdminAccount(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		other := e.adminToken()
		e.wantError("POST", "/api/admin/password", tok, map[string]any{"old_password": "wrong", "new_password": "New#Admin1"},
			400, "VALIDATE_FAILED", "old_password")
		e.wantError("POST", "/api/admin/password", tok, map[string]any{"old_password": testAdminPassword, "new_password": "abc"},
			400, "VALIDATE_FAILED", "new_password")
		e.wantError("POST", "/api/admin/password", tok, map[string]any{"new_password": "New#Admin1"}, 400, "VALIDATE_FAILED", "old_password")
		if code := e.do("POST", "/api/admin/password", tok, map[string]any{"old_password": testAdminPassword, "new_password": "New#Admin1"}, nil); code/100 != 2 {
			t.Fatalf("change password: %d", code)
		}
		// Every session of the admin ended.
		e.wantError("GET", "/api/login", other, nil, 401, "UNAUTHORIZED", "")
		e.wantError("GET", "/api/login", tok, nil, 401, "UNAUTHORIZED", "")
		e.wantError("POST", "/api/login", "", map[string]string{"username": AdminName, "password": testAdminPassword}, 401, "UNAUTHORIZED", "")
		tok = e.login(AdminName, "New#Admin1", "")

		e.createDealer(tok, "acme", 1)
		e.wantError("POST", "/api/admin/username", tok, map[string]any{"name": "acme"}, 409, "CONFLICT", "name")
		e.wantError("POST", "/api/admin/username", tok, map[string]any{"name": "bad name"}, 400, "VALIDATE_FAILED", "name")
		e.wantError("POST", "/api/admin/username", tok, map[string]any{}, 400, "VALIDATE_FAILED", "name")
		if code := e.do("POST", "/api/admin/username", tok, map[string]any{"name": "root.admin"}, nil); code/100 != 2 {
			t.Fatalf("change username: %d", code)
		}
		e.login("root.admin", "New#Admin1", "")
		e.wantError("POST", "/api/login", "", map[string]string{"username": AdminName, "password": "New#Admin1"}, 401, "UNAUTHORIZED", "")

		var logs struct {
			Count int `json:"count"`
		}
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'SYSTEM'", tok, nil, &logs)
		if logs.Count != 2 {
			t.Fatalf("SYSTEM audit entries = %d, want 2", logs.Count)
		}
		var raw json.RawMessage
		e.do("GET", "/api/audit_logs", tok, nil, &raw)
		if strings.Contains(string(raw), "New#Admin1") || strings.Contains(string(raw), "argon2") {
			t.Fatalf("audit log holds a password: %s", raw)
		}
	})
}
