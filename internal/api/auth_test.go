package api

import (
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/store/storetest"
)

func TestLoginLogout(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		e.wantError("POST", "/api/login", "", map[string]string{"username": "admin", "password": "nope"}, 401, "UNAUTHORIZED", "")
		e.wantError("POST", "/api/login", "", map[string]string{"username": "admin"}, 400, "VALIDATE_FAILED", "password")
		tok := e.adminToken()
		var st loginStatus
		if code := e.do("GET", "/api/login", tok, nil, &st.Body); code != 200 || st.Body.Role != "SystemAdmin" {
			t.Fatalf("GET /login: %d %+v", code, st.Body)
		}
		if code := e.do("POST", "/api/logout", tok, nil, nil); code/100 != 2 {
			t.Fatalf("logout: %d", code)
		}
		e.wantError("GET", "/api/login", tok, nil, 401, "UNAUTHORIZED", "")
		e.wantError("GET", "/api/login", "", nil, 401, "UNAUTHORIZED", "")
		e.wantError("PUT", "/api/login", "", nil, 405, "NOT_FOUND", "")

		var audit struct {
			Count int `json:"count"`
		}
		tok = e.adminToken()
		if code := e.do("GET", "/api/audit_logs?filter=action%20eq%20'LOGIN'", tok, nil, &audit); code != 200 || audit.Count < 2 {
			t.Fatalf("audit logs of logins: %d count %d", code, audit.Count)
		}
		e.wantError("GET", "/api/audit_logs?filter=nosuch%20eq%20'x'", tok, nil, 400, "VALIDATE_FAILED", "filter")
		e.wantError("GET", "/api/audit_logs?orderby=nosuch", tok, nil, 400, "VALIDATE_FAILED", "orderby")
		e.wantError("GET", "/api/audit_logs?top=1000", tok, nil, 400, "VALIDATE_FAILED", "top")
	})
}

func TestRefreshToken(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		var tb tokenBody
		e.do("POST", "/api/auth/sign_in", "", map[string]string{"username": "admin", "password": testAdminPassword}, &tb)
		var nt tokenBody
		if code := e.do("POST", "/api/auth/refresh_token", "", map[string]string{"refresh_token": tb.RefreshToken}, &nt); code != 200 || nt.AccessToken == "" {
			t.Fatalf("refresh: %d", code)
		}
		// The old refresh token is spent.
		e.wantError("POST", "/api/auth/refresh_token", "", map[string]string{"refresh_token": tb.RefreshToken}, 401, "UNAUTHORIZED", "")
	})
}

func TestLoginThrottle(t *testing.T) {
	db := storetest.OpenSQLite(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, db, Config{LoginFailLimit: 3})
	e.srv.logins.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		e.wantError("POST", "/api/login", "", map[string]string{"username": "admin", "password": "bad"}, 401, "UNAUTHORIZED", "")
	}
	// Even the right password is refused while blocked.
	e.wantError("POST", "/api/login", "", map[string]string{"username": "admin", "password": testAdminPassword}, 429, "TOO_MANY_REQUESTS", "")
	now = now.Add(DefaultLoginBlock + time.Second)
	e.adminToken()
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), Config{RateLimit: 5})
	for i := 0; i < 5; i++ {
		e.do("GET", "/api/login", "", nil, nil)
	}
	e.wantError("GET", "/api/login", "", nil, 429, "TOO_MANY_REQUESTS", "")
}
