package api

import (
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

func prID(t *testing.T, s string) pbx.ID {
	t.Helper()
	id, err := pbx.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func prBody(name string) map[string]any {
	return map[string]any{"name": name, "auth_mode": "REGISTER_AUTH", "transport": "UDP", "hostname": "sip.example.net", "port": 5060,
		"username": "acct1", "auth_id": "acct1", "password": "TrunkSecret!", "outbound_server": "proxy.example.net", "outbound_server_port": 5060,
		"concurrency": 30, "additional_ips": "192.0.2.10, 198.51.100.0/24", "did_numbers": "+15550100,15550200-15550299",
		"inbound_parameters":  map[string]any{"caller_num": "FROM_USER_PART", "called_num": "REQUEST_LINE_URI_USER_PART"},
		"outbound_parameters": map[string]any{"from_user_part": map[string]any{"value": "OUTBOUND_CALLER_ID"}, "from_host_part": map[string]any{"value": "SIP_DOMAIN"}}}
}

// prCreate creates a provider as the system admin and returns its ID.
func prCreate(e *env, tok string, body map[string]any) string {
	e.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if st := e.do("POST", "/api/providers", tok, body, &out); st != 201 || out.ID == "" {
		e.t.Fatalf("create provider %v: status %d", body["name"], st)
	}
	return out.ID
}

func TestProviders(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		sys := e.adminToken()
		aTn, aTok, aSys := utTenantAdmin(e, "a.test")
		bTn, bTok, _ := utTenantAdmin(e, "b.test")
		utCreate(e, aSys, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")

		id := prCreate(e, sys, prBody("carrier1"))
		other := prCreate(e, sys, map[string]any{"name": "carrier2", "auth_mode": "IP_AUTH", "transport": "TCP", "hostname": "10.0.0.1", "port": 5060,
			"outbound_server": "10.0.0.1", "outbound_server_port": 5060, "concurrency": 5})

		// Validation names the field.
		e.wantError("POST", "/api/providers", sys, prBody("carrier1"), 409, "CONFLICT", "name")
		bad := func(field string, v any) map[string]any {
			b := prBody("x-" + field)
			if v == nil {
				delete(b, field)
			} else {
				b[field] = v
			}
			return b
		}
		e.wantError("POST", "/api/providers", sys, bad("hostname", nil), 400, "VALIDATE_FAILED", "hostname")
		e.wantError("POST", "/api/providers", sys, bad("concurrency", nil), 400, "VALIDATE_FAILED", "concurrency")
		e.wantError("POST", "/api/providers", sys, bad("outbound_server", nil), 400, "VALIDATE_FAILED", "outbound_server")
		e.wantError("POST", "/api/providers", sys, bad("additional_ips", "192.0.2.1, nonsense"), 400, "VALIDATE_FAILED", "additional_ips")
		e.wantError("POST", "/api/providers", sys, bad("did_numbers", "555-abc"), 400, "VALIDATE_FAILED", "did_numbers")
		e.wantError("POST", "/api/providers", sys, bad("hostname", "a b"), 400, "VALIDATE_FAILED", "hostname")
		noUser := bad("username", nil)
		delete(noUser, "auth_id")
		e.wantError("POST", "/api/providers", sys, noUser, 400, "VALIDATE_FAILED", "username")

		// GET shows the settings and never the password.
		var p map[string]any
		if st := e.do("GET", "/api/providers/"+id, sys, nil, &p); st != 200 {
			t.Fatalf("get provider: %d", st)
		}
		if _, ok := p["password"]; ok {
			t.Fatalf("password returned: %v", p)
		}
		if p["auth_mode"] != "REGISTER_AUTH" || p["keep_alive"] != true || p["keep_alive_interval"] != float64(360) || p["concurrency"] != float64(30) ||
			p["register_interval"] != float64(600) || p["shared"] != false || p["enabled"] != true {
			t.Fatalf("provider = %v", p)
		}
		if ip, _ := p["inbound_parameters"].(map[string]any); ip["caller_num"] != "FROM_USER_PART" || ip["pai_header_parameter_name"] != "verstat" {
			t.Fatalf("inbound_parameters = %v", p["inbound_parameters"])
		}
		if op, _ := p["outbound_parameters"].(map[string]any); op["from_user_part"].(map[string]any)["value"] != "OUTBOUND_CALLER_ID" {
			t.Fatalf("outbound_parameters = %v", p["outbound_parameters"])
		}

		// A partial update keeps the rest, password included.
		if st := e.do("POST", "/api/providers/"+id, sys, map[string]any{"keep_alive": false, "port": 5080}, nil); st/100 != 2 {
			t.Fatalf("update provider: %d", st)
		}
		e.do("GET", "/api/providers/"+id, sys, nil, &p)
		if p["keep_alive"] != false || p["port"] != float64(5080) || p["username"] != "acct1" || p["name"] != "carrier1" {
			t.Fatalf("after update: %v", p)
		}
		if pr, err := e.db.Provider(t.Context(), 0, prID(t, id)); err != nil || pr.Password != "TrunkSecret!" {
			t.Fatalf("stored password = %q, %v", pr.Password, err)
		}
		e.wantError("POST", "/api/providers/"+id, sys, map[string]any{"name": "carrier2"}, 409, "CONFLICT", "name")
		e.wantError("POST", "/api/providers/"+id, sys, map[string]any{"transport": "SCTP"}, 400, "VALIDATE_FAILED", "transport")
		e.wantError("POST", "/api/providers/"+id, sys, map[string]any{"additional_ips": "x"}, 400, "VALIDATE_FAILED", "additional_ips")

		// Assignment to tenants.
		if st := e.do("POST", "/api/providers/"+id+"/assignees/"+aTn.String(), sys, map[string]any{"did_numbers": "15550200-15550210", "concurrency": 10}, nil); st/100 != 2 {
			t.Fatalf("assign: %d", st)
		}
		e.wantError("POST", "/api/providers/"+id+"/assignees/"+aTn.String(), sys, map[string]any{"did_numbers": "abc"}, 400, "VALIDATE_FAILED", "did_numbers")
		e.wantError("POST", "/api/providers/"+id+"/assignees/987654321", sys, map[string]any{"concurrency": 1}, 404, "NOT_FOUND", "")
		var as struct {
			Items []map[string]any `json:"items"`
		}
		if st := e.do("GET", "/api/providers/"+id+"/assignees", sys, nil, &as); st != 200 || len(as.Items) != 1 || as.Items[0]["tenant_id"] != aTn.String() ||
			as.Items[0]["concurrency"] != float64(10) {
			t.Fatalf("assignees: %d %v", st, as)
		}
		var a map[string]any
		if st := e.do("GET", "/api/providers/"+id+"/assignees/"+aTn.String(), sys, nil, &a); st != 200 || a["did_numbers"] != "15550200-15550210" {
			t.Fatalf("assignee: %d %v", st, a)
		}
		e.wantError("GET", "/api/providers/"+id+"/assignees/"+bTn.String(), sys, nil, 404, "NOT_FOUND", "")

		// A tenant admin sees only the trunks assigned to its tenant, read-only.
		var l utList
		if st := e.do("GET", "/api/providers", aTok, nil, &l); st != 200 || l.Count != 1 || l.Items[0]["id"] != id || l.Items[0]["shared"] != true ||
			l.Items[0]["did_numbers"] != "15550200-15550210" {
			t.Fatalf("tenant a providers: %d %+v", st, l)
		}
		if st := e.do("GET", "/api/providers", bTok, nil, &l); st != 200 || l.Count != 0 {
			t.Fatalf("tenant b providers: %d %+v", st, l)
		}
		if st := e.do("GET", "/api/providers?filter=name%20eq%20'carrier2'", sys, nil, &l); st != 200 || l.Count != 1 || l.Items[0]["id"] != other {
			t.Fatalf("system providers: %d %+v", st, l)
		}
		// ... with its own share of the trunk, not the trunk's DIDs.
		if st := e.do("GET", "/api/providers/"+id, aTok, nil, &p); st != 200 || p["name"] != "carrier1" || p["did_numbers"] != "15550200-15550210" ||
			p["concurrency"] != float64(10) {
			t.Fatalf("tenant a get: %d %v", st, p)
		}
		e.wantError("GET", "/api/providers/"+id, bTok, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/providers/"+other, aTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/providers", aTok, prBody("mine"), 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/providers/"+id, aTok, map[string]any{"port": 1}, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/providers/"+id+"/destroy", aTok, nil, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/providers/"+id+"/assignees", aTok, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/providers/"+id+"/assignees/"+aTn.String(), aTok, map[string]any{"concurrency": 1}, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/providers", alice, nil, 403, "FORBIDDEN", "")
		e.wantError("GET", "/api/providers", "", nil, 401, "UNAUTHORIZED", "")

		if st := e.do("POST", "/api/providers/"+id+"/assignees/"+aTn.String()+"/destroy", sys, nil, nil); st/100 != 2 {
			t.Fatalf("unassign: %d", st)
		}
		e.wantError("GET", "/api/providers/"+id, aTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/providers/"+id+"/assignees/"+aTn.String()+"/destroy", sys, nil, 404, "NOT_FOUND", "")

		if st := e.do("POST", "/api/providers/"+id+"/destroy", sys, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: %d", st)
		}
		e.wantError("GET", "/api/providers/"+id, sys, nil, 404, "NOT_FOUND", "")
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'PROVIDER'", sys, nil, &l)
		if l.Count < 5 {
			t.Fatalf("provider audit entries = %d, want at least 5", l.Count)
		}
	})
}
