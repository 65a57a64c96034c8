package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

const testDealerPassword = "Dealer#12345"

// createDealer creates a dealer and returns its ID.
func (e *env) createDealer(token, name string, maxTenants int) string {
	e.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"level": "RESELLER", "name": name, "password": testDealerPassword, "max_tenants": maxTenants, "max_extensions": 100}
	if st := e.do("POST", "/api/dealers", token, body, &out); st != 201 || out.ID == "" {
		e.t.Fatalf("create dealer %s: status %d", name, st)
	}
	return out.ID
}

func TestDealersCRUD(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		id := e.createDealer(tok, "acme", 10)

		var raw json.RawMessage
		e.do("GET", "/api/dealers/"+id, tok, nil, &raw)
		for _, want := range []string{`"email":null`, `"level":"RESELLER"`, `"enabled":true`, `"tenant_full_access":true`, `"max_tenants":10`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("GET dealer: missing %s in %s", want, raw)
			}
		}
		if strings.Contains(string(raw), "password") || strings.Contains(string(raw), "argon2") {
			t.Fatalf("dealer answer holds its password: %s", raw)
		}

		base := func() map[string]any {
			return map[string]any{"level": "DISTRIBUTOR", "name": "d2", "password": testDealerPassword, "max_tenants": 1, "max_extensions": 10}
		}
		for _, c := range []struct {
			field  string
			change func(map[string]any)
			status int
			code   string
		}{
			{"level", func(b map[string]any) { delete(b, "level") }, 400, "VALIDATE_FAILED"},
			{"level", func(b map[string]any) { b["level"] = "BOSS" }, 400, "VALIDATE_FAILED"},
			{"name", func(b map[string]any) { delete(b, "name") }, 400, "VALIDATE_FAILED"},
			{"name", func(b map[string]any) { b["name"] = "has space" }, 400, "VALIDATE_FAILED"},
			{"name", func(b map[string]any) { b["name"] = "Root" }, 400, "VALIDATE_FAILED"},
			{"password", func(b map[string]any) { delete(b, "password") }, 400, "VALIDATE_FAILED"},
			{"password", func(b map[string]any) { b["password"] = "abc" }, 400, "VALIDATE_FAILED"},
			{"max_tenants", func(b map[string]any) { delete(b, "max_tenants") }, 400, "VALIDATE_FAILED"},
			{"max_extensions", func(b map[string]any) { delete(b, "max_extensions") }, 400, "VALIDATE_FAILED"},
			{"name", func(b map[string]any) { b["name"] = "acme" }, 409, "CONFLICT"},
		} {
			b := base()
			c.change(b)
			e.wantError("POST", "/api/dealers", tok, b, c.status, c.code, c.field)
		}
		if n := e.count("/api/dealers", tok); n != 1 {
			t.Fatalf("dealers after failed creates = %d, want 1", n)
		}

		upd := map[string]any{"display_name": "Acme Inc", "enabled": false, "max_tenants": 0}
		if st := e.do("POST", "/api/dealers/"+id, tok, upd, nil); st/100 != 2 {
			t.Fatalf("update dealer: %d", st)
		}
		var d dealerItem
		e.do("GET", "/api/dealers/"+id, tok, nil, &d)
		if d.DisplayName != "Acme Inc" || d.Enabled || d.MaxTenants != 0 || d.MaxExtensions != 100 || d.Level != "RESELLER" {
			t.Fatalf("after update: %+v", d)
		}
		if n := e.count("/api/dealers?filter=enabled%20eq%20false", tok); n != 1 {
			t.Fatalf("filtered dealers = %d", n)
		}
		if st := e.do("POST", "/api/dealers/"+id+"/destroy", tok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy dealer: %d", st)
		}
		e.wantError("GET", "/api/dealers/"+id, tok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/dealers/"+id, tok, upd, 404, "NOT_FOUND", "")

		var logs struct {
			Count int `json:"count"`
		}
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'DEALER'", tok, nil, &logs)
		if logs.Count != 3 {
			t.Fatalf("dealer audit entries = %d, want 3", logs.Count)
		}
	})
}

func TestDealerManagesOwnTenants(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		id := e.createDealer(tok, "acme", 2)
		other := e.createTenant(tok, "other.example.com")
		dt := e.login("acme", testDealerPassword, "")

		// A dealer is not the system admin.
		e.wantError("GET", "/api/dealers", dt, nil, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/admin/settings", dt, nil, 403, "FORBIDDEN", "")

		mine := e.createTenant(dt, "mine.example.com")
		var list struct {
			Count int              `json:"count"`
			Items []tenantListItem `json:"items"`
		}
		e.do("GET", "/api/tenants", dt, nil, &list)
		if list.Count != 1 || list.Items[0].ID != mine {
			t.Fatalf("dealer's list: %+v", list)
		}
		e.wantError("GET", "/api/tenants/"+other, dt, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/tenants/"+other, dt, map[string]any{"region": "EU"}, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/tenants/"+other+"/destroy", dt, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/tenants/switch?id="+other, dt, nil, 404, "NOT_FOUND", "")
		if st := e.do("POST", "/api/tenants/"+mine, dt, map[string]any{"region": "EU"}, nil); st/100 != 2 {
			t.Fatalf("dealer updates its tenant: %d", st)
		}
		if st := e.do("POST", "/api/tenants/switch?id="+mine, dt, nil, nil); st/100 != 2 {
			t.Fatalf("dealer switches into its tenant: %d", st)
		}
		var got tenantItem
		if st := e.do("GET", "/api/tenant", dt, nil, &got); st != 200 || got.ID != mine || got.Region != "EU" {
			t.Fatalf("dealer GET /tenant: %d %+v", st, got)
		}

		// The admin sees the designation and can move tenants between dealers.
		var ds tenantDealersOutput
		if st := e.do("GET", "/api/tenants/"+mine+"/dealers", tok, nil, &ds.Body); st != 200 || len(ds.Body.Items) != 1 || ds.Body.Items[0].ID != id {
			t.Fatalf("tenant dealers: %d %+v", st, ds.Body)
		}
		e.wantError("POST", "/api/tenants/"+other+"/dealers/"+id, dt, nil, 403, "FORBIDDEN", "")
		if st := e.do("POST", "/api/tenants/"+other+"/dealers/"+id, tok, nil, nil); st/100 != 2 {
			t.Fatalf("designate: %d", st)
		}
		if n := e.count("/api/tenants", dt); n != 2 {
			t.Fatalf("dealer's tenants after designation = %d, want 2", n)
		}
		// max_tenants is 2: a third tenant is refused and not written.
		e.wantError("POST", "/api/tenants", dt, map[string]any{"name": "T", "domain": "third.example.com", "timezone": "UTC",
			"currency": "USD", "region": "US"}, 403, "FORBIDDEN", "")
		if n := e.count("/api/tenants", tok); n != 2 {
			t.Fatalf("tenants after refused create = %d, want 2", n)
		}
		if st := e.do("POST", "/api/tenants/"+other+"/dealers/"+id+"/destroy", tok, nil, nil); st/100 != 2 {
			t.Fatalf("remove designation: %d", st)
		}
		e.wantError("POST", "/api/tenants/"+other+"/dealers/"+id+"/destroy", tok, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/tenants/"+other, dt, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/tenants/"+other+"/dealers/999", tok, nil, 404, "NOT_FOUND", "")

		// A password reset ends the dealer's sessions.
		e.wantError("POST", "/api/dealers/"+id+"/password", tok, map[string]any{"password": "x"}, 400, "VALIDATE_FAILED", "password")
		if st := e.do("POST", "/api/dealers/"+id+"/password", tok, map[string]any{"password": "New#Dealer1"}, nil); st/100 != 2 {
			t.Fatalf("reset dealer password: %d", st)
		}
		e.wantError("GET", "/api/tenants", dt, nil, 401, "UNAUTHORIZED", "")
		e.wantError("POST", "/api/login", "", map[string]string{"username": "acme", "password": testDealerPassword}, 401, "UNAUTHORIZED", "")
		dt = e.login("acme", "New#Dealer1", "")

		// A tenant user is no dealer.
		ta := e.tenantUser(mine, "mine.example.com", "alice", pbx.RoleAdmin)
		e.wantError("GET", "/api/tenants/"+mine+"/dealers", ta, nil, 403, "FORBIDDEN", "")

		// Disabling the dealer ends its sessions too.
		if st := e.do("POST", "/api/dealers/"+id, tok, map[string]any{"enabled": false}, nil); st/100 != 2 {
			t.Fatalf("disable dealer: %d", st)
		}
		e.wantError("GET", "/api/tenants", dt, nil, 401, "UNAUTHORIZED", "")
	})
}
