package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

// dealerAudits returns the system audit entries about DEALER objects, newest
// first.
func (e *env) dealerAudits(adminTok string) []auditLogItem {
	e.t.Helper()
	var l struct {
		Items []auditLogItem `json:"items"`
	}
	if st := e.do("GET", "/api/audit_logs?top=100", adminTok, nil, &l); st != 200 {
		e.t.Fatalf("GET /audit_logs: status %d", st)
	}
	var out []auditLogItem
	for _, it := range l.Items {
		if it.ObjectType == "DEALER" {
			out = append(out, it)
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestCurrentDealer(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		id := e.createDealer(tok, "acme", 5)
		e.createDealer(tok, "rival", 5)
		mine := e.createTenant(tok, "mine.example.com")
		if st := e.do("POST", "/api/tenants/"+mine+"/dealers/"+id, tok, nil, nil); st/100 != 2 {
			t.Fatalf("designate: %d", st)
		}
		e.tenantUser(mine, "mine.example.com", "alice", pbx.RoleAdmin)
		ut := e.tenantUser(mine, "mine.example.com", "bob", pbx.RoleStandardUser)
		dt := e.login("acme", testDealerPassword, "")

		// Nobody but a dealer has a /dealer.
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/dealer", nil},
			{"POST", "/api/dealer", map[string]any{"phone": "1"}},
			{"POST", "/api/dealer/password", map[string]any{"old_password": testAdminPassword, "new_password": "Other#12345"}},
			{"GET", "/api/dealer/status", nil},
			{"POST", "/api/dealer/username", map[string]any{"name": "someone"}},
		} {
			e.wantError(c.method, c.path, "", c.body, 401, "UNAUTHORIZED", "")
			e.wantError(c.method, c.path, tok, c.body, 403, "FORBIDDEN", "")
			e.wantError(c.method, c.path, ut, c.body, 403, "FORBIDDEN", "")
		}

		// GET /dealer shows PortSIP's fields, and neither the password nor
		// tenant_full_access.
		var raw json.RawMessage
		if st := e.do("GET", "/api/dealer", dt, nil, &raw); st != 200 {
			t.Fatalf("GET /dealer: %d", st)
		}
		for _, want := range []string{`"id":"` + id + `"`, `"name":"acme"`, `"level":"RESELLER"`, `"enabled":true`, `"email":null`,
			`"max_tenants":5`, `"max_extensions":100`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("GET /dealer: missing %s in %s", want, raw)
			}
		}
		for _, bad := range []string{"password", "argon2", "tenant_full_access"} {
			if strings.Contains(string(raw), bad) {
				t.Errorf("GET /dealer holds %s: %s", bad, raw)
			}
		}

		// POST /dealer changes the profile; the limits are not its to set.
		upd := map[string]any{"display_name": " Acme Inc ", "phone": "+15550100", "website": "https://acme.example.com"}
		if st := e.do("POST", "/api/dealer", dt, upd, nil); st/100 != 2 {
			t.Fatalf("POST /dealer: %d", st)
		}
		e.wantError("POST", "/api/dealer", dt, map[string]any{"max_tenants": 1000}, 400, "VALIDATE_FAILED", "")
		e.wantError("POST", "/api/dealer", dt, map[string]any{"enabled": false}, 400, "VALIDATE_FAILED", "")
		e.wantError("POST", "/api/dealer", dt, map[string]any{"phone": strings.Repeat("1", 33)}, 400, "VALIDATE_FAILED", "")
		var d dealerItem
		e.do("GET", "/api/dealers/"+id, tok, nil, &d)
		if d.DisplayName != "Acme Inc" || d.Phone != "+15550100" || d.Website != "https://acme.example.com" ||
			d.MaxTenants != 5 || d.MaxExtensions != 100 || !d.Enabled || !d.TenantFullAccess {
			t.Fatalf("after POST /dealer: %+v", d)
		}
		a := e.dealerAudits(tok)
		if len(a) == 0 || a[0].Action != "UPDATE" || deref(a[0].ObjectName) != "acme" || deref(a[0].UserName) != "dealer:"+id ||
			!strings.Contains(deref(a[0].NewState), "Acme Inc") || strings.Contains(deref(a[0].OldState), "Acme Inc") {
			t.Fatalf("audit of POST /dealer: %+v", a)
		}

		// GET /dealer/status counts the dealer's tenants and their users.
		var st dealerStatus
		if code := e.do("GET", "/api/dealer/status", dt, nil, &st); code != 200 {
			t.Fatalf("GET /dealer/status: %d", code)
		}
		if want := (dealerStatus{Version: "dev", MaxUsers: 100, CurrentUsers: 2, MaxTenants: 5, CurrentTenants: 1}); st != want {
			t.Fatalf("dealer status = %+v, want %+v", st, want)
		}

		// POST /dealer/username renames, within the one namespace of
		// system accounts.
		e.wantError("POST", "/api/dealer/username", dt, map[string]any{"name": "rival"}, 409, "CONFLICT", "name")
		e.wantError("POST", "/api/dealer/username", dt, map[string]any{"name": AdminName}, 400, "VALIDATE_FAILED", "name")
		e.wantError("POST", "/api/dealer/username", dt, map[string]any{"name": "Root"}, 400, "VALIDATE_FAILED", "name")
		e.wantError("POST", "/api/dealer/username", dt, map[string]any{"name": "has space"}, 400, "VALIDATE_FAILED", "name")
		if code := e.do("POST", "/api/dealer/username", dt, map[string]any{"name": "acme2"}, nil); code/100 != 2 {
			t.Fatalf("rename: %d", code)
		}
		a = e.dealerAudits(tok)
		if len(a) == 0 || deref(a[0].ObjectName) != "acme2" || deref(a[0].OldState) != `{"name":"acme"}` || deref(a[0].NewState) != `{"name":"acme2"}` {
			t.Fatalf("audit of rename: %+v", a[0])
		}
		e.wantError("POST", "/api/login", "", map[string]string{"username": "acme", "password": testDealerPassword}, 401, "UNAUTHORIZED", "")
		dt = e.login("acme2", testDealerPassword, "")

		// POST /dealer/password needs the old password and PortSIP's
		// policy, and ends every session of the dealer.
		other := e.login("acme2", testDealerPassword, "")
		e.wantError("POST", "/api/dealer/password", dt, map[string]any{"old_password": "wrong#123", "new_password": "New#Dealer1"},
			400, "VALIDATE_FAILED", "old_password")
		e.wantError("POST", "/api/dealer/password", dt, map[string]any{"old_password": testDealerPassword, "new_password": "abc"},
			400, "VALIDATE_FAILED", "new_password")
		if code := e.do("POST", "/api/dealer/password", dt, map[string]any{"old_password": testDealerPassword, "new_password": "New#Dealer1"}, nil); code/100 != 2 {
			t.Fatalf("change password: %d", code)
		}
		e.wantError("GET", "/api/dealer", dt, nil, 401, "UNAUTHORIZED", "")
		e.wantError("GET", "/api/dealer", other, nil, 401, "UNAUTHORIZED", "")
		e.wantError("POST", "/api/login", "", map[string]string{"username": "acme2", "password": testDealerPassword}, 401, "UNAUTHORIZED", "")
		dt = e.login("acme2", "New#Dealer1", "")
		a = e.dealerAudits(tok)
		if len(a) == 0 || deref(a[0].NewState) != `{"password":"changed"}` || deref(a[0].UserName) != "dealer:"+id ||
			strings.Contains(deref(a[0].NewState), "New#Dealer1") {
			t.Fatalf("audit of password change: %+v", a[0])
		}

		// A dealer switched into its tenant is still itself at /dealer.
		if code := e.do("POST", "/api/tenants/switch?id="+mine, dt, nil, nil); code/100 != 2 {
			t.Fatalf("switch: %d", code)
		}
		var cd currentDealer
		if code := e.do("GET", "/api/dealer", dt, nil, &cd); code != 200 || cd.Name != "acme2" || cd.ID != id {
			t.Fatalf("GET /dealer after switch: %d %+v", code, cd)
		}
	})
}

func TestDealerExtensionQuota(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		id := e.createDealer(tok, "acme", 5)
		if st := e.do("POST", "/api/dealers/"+id, tok, map[string]any{"max_extensions": 3}, nil); st/100 != 2 {
			t.Fatalf("set max_extensions: %d", st)
		}
		a, b := e.createTenant(tok, "a.example.com"), e.createTenant(tok, "b.example.com")
		free := e.createTenant(tok, "free.example.com")
		for _, tn := range []string{a, b} {
			if st := e.do("POST", "/api/tenants/"+tn+"/dealers/"+id, tok, nil, nil); st/100 != 2 {
				t.Fatalf("designate %s: %d", tn, st)
			}
		}
		tid := func(s string) pbx.TenantID {
			id, err := pbx.ParseTenantID(s)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		// Three users across the dealer's two tenants fill its limit.
		utCreate(e, utSwitched(e, tid(a)), utUserBody("a1", "101", "StandardUser"))
		utCreate(e, utSwitched(e, tid(a)), utUserBody("a2", "102", "StandardUser"))
		bTok := utSwitched(e, tid(b))
		utCreate(e, bTok, utUserBody("b1", "101", "StandardUser"))

		var eb errBody
		if st := e.do("POST", "/api/users", bTok, utUserBody("b2", "102", "StandardUser"), &eb); st != 403 ||
			len(eb.Errors) == 0 || eb.Errors[0].Code != "FORBIDDEN" || !strings.Contains(eb.Errors[0].Message, "max_extensions") {
			t.Fatalf("user past the dealer's limit: %d %+v", st, eb)
		}
		if n, _ := e.db.CountUsers(context.Background(), tid(b)); n != 1 {
			t.Fatalf("tenant b has %d users after the refused create, want 1", n)
		}
		if _, err := e.db.Extension(context.Background(), tid(b), "102"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
			t.Fatalf("refused create left number 102 behind: %v", err)
		}
		// A tenant of no dealer is not held by it.
		utCreate(e, utSwitched(e, tid(free)), utUserBody("f1", "101", "StandardUser"))

		// Raising the limit lets the next one in; the dealer sees it.
		if st := e.do("POST", "/api/dealers/"+id, tok, map[string]any{"max_extensions": 4}, nil); st/100 != 2 {
			t.Fatalf("raise max_extensions: %d", st)
		}
		utCreate(e, bTok, utUserBody("b2", "102", "StandardUser"))
		var st dealerStatus
		e.do("GET", "/api/dealer/status", e.login("acme", testDealerPassword, ""), nil, &st)
		if st.CurrentUsers != 4 || st.MaxUsers != 4 || st.CurrentTenants != 2 {
			t.Fatalf("dealer status = %+v", st)
		}

		// A limit of 0 allows none, as max_tenants 0 does.
		if st := e.do("POST", "/api/dealers/"+id, tok, map[string]any{"max_extensions": 0}, nil); st/100 != 2 {
			t.Fatalf("zero max_extensions: %d", st)
		}
		e.wantError("POST", "/api/users", bTok, utUserBody("b3", "103", "StandardUser"), 403, "FORBIDDEN", "")
	})
}

func TestCustomRoleReadsLogs(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tn, aTok, _ := utTenantAdmin(e, "a.test")
		ptRole(e, aTok, "Auditor", map[string]any{"company": map[string]any{"full_access": true}})
		ptRole(e, aTok, "Viewer", map[string]any{"company": map[string]any{"view_only": true},
			"analytics": map[string]any{"call_report_view_only": true, "call_report_full_access": true}})
		utCreate(e, aTok, utUserBody("aud", "101", "Auditor"))
		utCreate(e, aTok, utUserBody("view", "102", "Viewer"))
		utCreate(e, aTok, utUserBody("qm", "103", string(pbx.RoleQueueManager)))
		aud := e.login("aud", "Secret#123", "a.test")
		view := e.login("view", "Secret#123", "a.test")
		qm := e.login("qm", "Secret#123", "a.test")

		// The auditor reads its own tenant's logs, as the tenant admin does.
		var want, got struct {
			Count int            `json:"count"`
			Items []auditLogItem `json:"items"`
		}
		e.do("GET", "/api/audit_logs", aTok, nil, &want)
		if st := e.do("GET", "/api/audit_logs", aud, nil, &got); st != 200 || got.Count == 0 || got.Count < want.Count {
			t.Fatalf("Auditor GET /audit_logs: %d count %d, admin sees %d", st, got.Count, want.Count)
		}
		if st := e.do("GET", "/api/event_logs", aud, nil, nil); st != 200 {
			t.Fatalf("Auditor GET /event_logs: %d", st)
		}
		// Without company.full_access: 403, for custom and built-in roles.
		for _, tok := range []string{view, qm} {
			e.wantError("GET", "/api/audit_logs", tok, nil, 403, "FORBIDDEN", "")
			e.wantError("GET", "/api/event_logs", tok, nil, 403, "FORBIDDEN", "")
		}
		// Another tenant's logs stay out of reach: the auditor's scope is
		// its own tenant, so a second tenant's entries never show.
		_, bTok, _ := utTenantAdmin(e, "b.test")
		ptRole(e, bTok, "Other", map[string]any{})
		e.do("GET", "/api/audit_logs", aud, nil, &got)
		for _, it := range got.Items {
			if deref(it.ObjectName) == "Other" {
				t.Fatalf("Auditor of %s sees tenant b.test's log: %+v", tn, it)
			}
		}
	})
}

// TestDealerExtensionQuotaConcurrent races creates in two tenants of one
// dealer: the dealer's lock lets exactly its limit through.
func TestDealerExtensionQuotaConcurrent(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		id := e.createDealer(tok, "acme", 5)
		const limit, tries = 3, 12
		if st := e.do("POST", "/api/dealers/"+id, tok, map[string]any{"max_extensions": limit}, nil); st/100 != 2 {
			t.Fatalf("set max_extensions: %d", st)
		}
		var tenants [2]pbx.TenantID
		for i, domain := range []string{"a.example.com", "b.example.com"} {
			tn := e.createTenant(tok, domain)
			if st := e.do("POST", "/api/tenants/"+tn+"/dealers/"+id, tok, nil, nil); st/100 != 2 {
				t.Fatalf("designate %s: %d", tn, st)
			}
			tenants[i], _ = pbx.ParseTenantID(tn)
		}
		errs := make(chan error, tries)
		for i := range tries {
			go func() {
				u := pbx.User{Name: fmt.Sprintf("u%d", i), Email: "u@example.com", DisplayName: "U", Role: pbx.RoleStandardUser,
					Enabled: true, ExtensionNumber: fmt.Sprint(200 + i), ExtensionPassword: "Ext#12345"}
				errs <- e.db.CreateUser(context.Background(), tenants[i%2], &u)
			}()
		}
		var ok int
		for range tries {
			switch err := <-errs; pbx.ErrorCode(err) {
			case "":
				ok++
			case pbx.EFORBIDDEN:
			default:
				t.Errorf("create: %v", err)
			}
		}
		u, err := e.db.DealerUsage(context.Background(), mustID(t, id))
		if err != nil {
			t.Fatal(err)
		}
		if ok != limit || u.Users != limit {
			t.Fatalf("%d creates succeeded and the dealer has %d users, want %d", ok, u.Users, limit)
		}
	})
}

func mustID(t *testing.T, s string) pbx.ID {
	t.Helper()
	id, err := pbx.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
