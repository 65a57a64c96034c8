package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestInfo(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		var raw json.RawMessage
		if st := e.do("GET", "/api/info", "", nil, &raw); st != 200 {
			t.Fatalf("GET /info: %d", st)
		}
		if !strings.Contains(string(raw), `"web_domain":null`) || strings.Contains(string(raw), `"name"`) {
			t.Fatalf("GET /info without domain: %s", raw)
		}
		tok := e.adminToken()
		e.createTenant(tok, "a.example.com")
		raw = nil
		if st := e.do("GET", "/api/info?domain=A.example.com", "", nil, &raw); st != 200 {
			t.Fatalf("GET /info?domain: %d", st)
		}
		for _, want := range []string{`"name":"Tenant a.example.com"`, `"domain":"a.example.com"`, `"website":null`, `"enable_ms365_integration":false`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("GET /info?domain: missing %s in %s", want, raw)
			}
		}
		e.wantError("GET", "/api/info?domain=nosuch.example.com", "", nil, 404, "NOT_FOUND", "")
	})
}
