package api

import (
	"testing"
)

func TestAllowedCountryCodes(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, aSys := utTenantAdmin(e, "a.test")
		_, bTok, _ := utTenantAdmin(e, "b.test")
		utCreate(e, aSys, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")

		var got countryCodes
		if st := e.do("GET", "/api/allowed_country_codes", aTok, nil, &got); st != 200 || got.Items == nil || len(got.Items) != 0 {
			t.Fatalf("new tenant: %d %+v, want an empty list", st, got)
		}
		if st := e.do("POST", "/api/allowed_country_codes", aTok, map[string]any{"items": []string{"+44", "33", " 44 "}}, nil); st/100 != 2 {
			t.Fatalf("update: %d", st)
		}
		got = countryCodes{}
		if st := e.do("GET", "/api/allowed_country_codes", aTok, nil, &got); st != 200 || len(got.Items) != 2 || got.Items[0] != "44" || got.Items[1] != "33" {
			t.Fatalf("after update: %d %+v, want [44 33]", st, got)
		}
		e.wantError("POST", "/api/allowed_country_codes", aTok, map[string]any{"items": []string{"44", "uk"}}, 400, "VALIDATE_FAILED", "items[1]")
		e.wantError("POST", "/api/allowed_country_codes", aTok, map[string]any{"items": []string{"4*4"}}, 400, "VALIDATE_FAILED", "items[0]")
		// Nothing was half-written by the refused updates, and another
		// tenant sees its own list only.
		got = countryCodes{}
		if e.do("GET", "/api/allowed_country_codes", aTok, nil, &got); len(got.Items) != 2 {
			t.Fatalf("after refused updates: %+v", got)
		}
		got = countryCodes{}
		if st := e.do("GET", "/api/allowed_country_codes", bTok, nil, &got); st != 200 || len(got.Items) != 0 {
			t.Fatalf("other tenant: %d %+v", st, got)
		}
		e.wantError("GET", "/api/allowed_country_codes", alice, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/allowed_country_codes", alice, map[string]any{"items": []string{"1"}}, 403, "FORBIDDEN", "")
		// The tenant's other settings survive, and its own update keeps
		// the list.
		if st := e.do("POST", "/api/tenant", aTok, map[string]any{"website": "https://a.test"}, nil); st/100 != 2 {
			t.Fatalf("update tenant: %d", st)
		}
		got = countryCodes{}
		if e.do("GET", "/api/allowed_country_codes", aTok, nil, &got); len(got.Items) != 2 {
			t.Fatalf("after a tenant update: %+v", got)
		}
	})
}
