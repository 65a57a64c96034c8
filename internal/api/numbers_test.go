package api

import (
	"testing"
)

// nlCreate posts body to path and returns the new ID, wanting status.
func nlCreate(e *env, tok, path string, body map[string]any, status int) string {
	e.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if st := e.do("POST", path, tok, body, &out); st != status || out.ID == "" {
		e.t.Fatalf("POST %s %v: status %d", path, body, st)
	}
	return out.ID
}

func TestHolidays(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, aSys := utTenantAdmin(e, "a.test")
		_, bTok, _ := utTenantAdmin(e, "b.test")
		utCreate(e, aSys, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")

		xmas := map[string]any{"name": "Christmas", "region": "US", "consecutive": false, "every_year": true, "month_start": 12, "day_start": 25,
			"month_end": 12, "day_end": 25, "hour_end": 23, "minute_end": 59}
		id := nlCreate(e, aTok, "/api/holidays", xmas, 201)
		e.wantError("POST", "/api/holidays", aTok, xmas, 409, "CONFLICT", "name")
		e.wantError("POST", "/api/holidays", aTok, map[string]any{"name": "x", "consecutive": false, "every_year": true}, 400, "VALIDATE_FAILED", "region")
		e.wantError("POST", "/api/holidays", aTok, map[string]any{"name": "x", "region": "US", "consecutive": false, "every_year": true, "month_start": 13, "day_start": 1},
			400, "VALIDATE_FAILED", "month_start")
		e.wantError("POST", "/api/holidays", aTok, map[string]any{"name": "x", "region": "US", "consecutive": false, "every_year": false, "month_start": 1, "day_start": 1},
			400, "VALIDATE_FAILED", "year_start")
		nlCreate(e, bTok, "/api/holidays", xmas, 201) // another tenant may use the name

		var h map[string]any
		if st := e.do("GET", "/api/holidays/"+id, aTok, nil, &h); st != 200 || h["month_start"] != float64(12) || h["every_year"] != true || h["region"] != "US" {
			t.Fatalf("get holiday: %d %v", st, h)
		}
		if st := e.do("POST", "/api/holidays/"+id, aTok, map[string]any{"day_end": 26}, nil); st/100 != 2 {
			t.Fatalf("update holiday: %d", st)
		}
		e.do("GET", "/api/holidays/"+id, aTok, nil, &h)
		if h["day_end"] != float64(26) || h["day_start"] != float64(25) || h["name"] != "Christmas" {
			t.Fatalf("after update: %v", h)
		}
		e.wantError("POST", "/api/holidays/"+id, aTok, map[string]any{"minute_end": 60}, 400, "VALIDATE_FAILED", "minute_end")
		var l utList
		if st := e.do("GET", "/api/holidays", aTok, nil, &l); st != 200 || l.Count != 1 {
			t.Fatalf("list holidays: %d %+v", st, l)
		}
		e.wantError("GET", "/api/holidays/"+id, bTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/holidays/"+id, bTok, map[string]any{"name": "x"}, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/holidays/"+id+"/destroy", bTok, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/holidays", alice, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/holidays", alice, xmas, 403, "FORBIDDEN", "")
		if st := e.do("POST", "/api/holidays/"+id+"/destroy", aTok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy holiday: %d", st)
		}
		e.wantError("GET", "/api/holidays/"+id, aTok, nil, 404, "NOT_FOUND", "")
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'HOLIDAY'", aTok, nil, &l)
		if l.Count < 3 {
			t.Fatalf("holiday audit entries = %d", l.Count)
		}
	})
}

func TestNumberLists(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, aSys := utTenantAdmin(e, "a.test")
		_, bTok, _ := utTenantAdmin(e, "b.test")
		utCreate(e, aSys, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")

		// Blacklisted numbers.
		id := nlCreate(e, aTok, "/api/blacklisted_numbers", map[string]any{"number": "+15550100", "expire_at": "2030-01-02T03:04:05Z", "description": "spam"}, 201)
		e.wantError("POST", "/api/blacklisted_numbers", aTok, map[string]any{"number": "+15550100"}, 409, "CONFLICT", "number")
		e.wantError("POST", "/api/blacklisted_numbers", aTok, map[string]any{"number": "call me"}, 400, "VALIDATE_FAILED", "number")
		e.wantError("POST", "/api/blacklisted_numbers", aTok, map[string]any{"description": "x"}, 400, "VALIDATE_FAILED", "number")
		var n map[string]any
		if st := e.do("GET", "/api/blacklisted_numbers/"+id, aTok, nil, &n); st != 200 || n["number"] != "+15550100" || n["expire_at"] != "2030-01-02T03:04:05Z" ||
			n["description"] != "spam" || n["created_at"] == nil {
			t.Fatalf("get blacklisted: %d %v", st, n)
		}
		if st := e.do("POST", "/api/blacklisted_numbers/"+id, aTok, map[string]any{"description": "robocaller"}, nil); st/100 != 2 {
			t.Fatalf("update blacklisted: %d", st)
		}
		e.do("GET", "/api/blacklisted_numbers/"+id, aTok, nil, &n)
		if n["description"] != "robocaller" || n["number"] != "+15550100" {
			t.Fatalf("after update: %v", n)
		}
		e.wantError("GET", "/api/blacklisted_numbers/"+id, bTok, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/blacklisted_numbers", alice, nil, 403, "FORBIDDEN", "")
		var l utList
		if st := e.do("GET", "/api/blacklisted_numbers?search=robo", aTok, nil, &l); st != 200 || l.Count != 1 {
			t.Fatalf("list blacklisted: %d %+v", st, l)
		}
		if st := e.do("POST", "/api/blacklisted_numbers/"+id+"/destroy", aTok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy blacklisted: %d", st)
		}
		e.wantError("GET", "/api/blacklisted_numbers/"+id, aTok, nil, 404, "NOT_FOUND", "")

		// Disallowed codes and emergency numbers.
		for _, c := range []struct {
			path, objectType string
			status, maxLen   int
		}{{"/api/disallowed_codes", "BLOCK_CODE", 201, 16}, {"/api/emergency_numbers", "EMERGENCY_NUMBER", 200, 64}} {
			id := nlCreate(e, aTok, c.path, map[string]any{"number_prefix": "900", "description": "premium"}, c.status)
			e.wantError("POST", c.path, aTok, map[string]any{"number_prefix": "900"}, 409, "CONFLICT", "number_prefix")
			e.wantError("POST", c.path, aTok, map[string]any{"number_prefix": "9x"}, 400, "VALIDATE_FAILED", "number_prefix")
			e.wantError("POST", c.path, aTok, map[string]any{"description": "none"}, 400, "VALIDATE_FAILED", "number_prefix")
			long := make([]byte, c.maxLen+1)
			for i := range long {
				long[i] = '1'
			}
			e.wantError("POST", c.path, aTok, map[string]any{"number_prefix": string(long)}, 400, "VALIDATE_FAILED", "number_prefix")
			nlCreate(e, bTok, c.path, map[string]any{"number_prefix": "900"}, c.status)
			if st := e.do("POST", c.path+"/"+id, aTok, map[string]any{"number_prefix": "911"}, nil); st/100 != 2 {
				t.Fatalf("update %s: %d", c.path, st)
			}
			var p map[string]any
			if st := e.do("GET", c.path+"/"+id, aTok, nil, &p); st != 200 || p["number_prefix"] != "911" || p["description"] != "premium" {
				t.Fatalf("get %s: %d %v", c.path, st, p)
			}
			if st := e.do("GET", c.path, aTok, nil, &l); st != 200 || l.Count != 1 {
				t.Fatalf("list %s: %d %+v", c.path, st, l)
			}
			e.wantError("GET", c.path+"/"+id, bTok, nil, 404, "NOT_FOUND", "")
			e.wantError("POST", c.path+"/"+id+"/destroy", bTok, nil, 404, "NOT_FOUND", "")
			e.wantError("POST", c.path, alice, map[string]any{"number_prefix": "1"}, 403, "FORBIDDEN", "")
			if st := e.do("POST", c.path+"/"+id+"/destroy", aTok, nil, nil); st/100 != 2 {
				t.Fatalf("destroy %s: %d", c.path, st)
			}
			e.wantError("GET", c.path+"/"+id, aTok, nil, 404, "NOT_FOUND", "")
			e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'"+c.objectType+"'", aTok, nil, &l)
			if l.Count < 3 {
				t.Fatalf("%s audit entries = %d", c.objectType, l.Count)
			}
		}
	})
}
