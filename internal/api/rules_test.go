package api

import (
	"testing"
)

func TestInboundRules(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		sys := e.adminToken()
		aTn, aTok, aSys := utTenantAdmin(e, "a.test")
		_, bTok, _ := utTenantAdmin(e, "b.test")
		utCreate(e, aSys, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")
		trunk := prCreate(e, sys, prBody("carrier1"))
		other := prCreate(e, sys, prBody("carrier2")) // not assigned to tenant a
		if st := e.do("POST", "/api/providers/"+trunk+"/assignees/"+aTn.String(), sys, map[string]any{"concurrency": 10,
			"did_numbers": "+15550100,15550200-15550299"}, nil); st/100 != 2 {
			t.Fatalf("assign: %d", st)
		}
		hol := nlCreate(e, aTok, "/api/holidays", map[string]any{"name": "NY", "region": "US", "consecutive": false, "every_year": true, "month_start": 1, "day_start": 1}, 201)
		bHol := nlCreate(e, bTok, "/api/holidays", map[string]any{"name": "NY", "region": "US", "consecutive": false, "every_year": true, "month_start": 1, "day_start": 1}, 201)

		body := map[string]any{"name": "main line", "did_numbers": "+15550100, 15550200-15550299", "provider_id": trunk,
			"office_hours_forward_rule":     map[string]any{"action": "FORWARD_TO_NUMBER", "number": "101"},
			"non_office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_VOICEMAIL"},
			"holiday_forward_rule":          map[string]any{"action": "HANGUP"},
			"office_hours": map[string]any{"mode": "CUSTOM", "monday": map[string]any{"enabled": true,
				"ranges": []map[string]any{{"from": "09:00", "to": "17:00"}}}},
			"holidays": []string{hol}}
		id := nlCreate(e, aTok, "/api/inbound_rules", body, 201)
		e.wantError("POST", "/api/inbound_rules", aTok, body, 409, "CONFLICT", "name")
		with := func(k string, v any) map[string]any {
			b := map[string]any{}
			for kk, vv := range body {
				b[kk] = vv
			}
			b["name"] = "x-" + k
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
			return b
		}
		e.wantError("POST", "/api/inbound_rules", aTok, with("provider_id", other), 400, "VALIDATE_FAILED", "provider_id")
		e.wantError("POST", "/api/inbound_rules", aTok, with("provider_id", nil), 400, "VALIDATE_FAILED", "provider_id")
		e.wantError("POST", "/api/inbound_rules", aTok, with("did_numbers", "call-me"), 400, "VALIDATE_FAILED", "did_numbers")
		e.wantError("POST", "/api/inbound_rules", aTok, with("did_numbers", nil), 400, "VALIDATE_FAILED", "did_numbers")
		// Only the DID numbers the trunk's assignment gives the tenant.
		e.wantError("POST", "/api/inbound_rules", aTok, with("did_numbers", "15550300"), 400, "VALIDATE_FAILED", "did_numbers")
		e.wantError("POST", "/api/inbound_rules", aTok, with("did_numbers", "15550250-15550350"), 400, "VALIDATE_FAILED", "did_numbers")
		nlCreate(e, aTok, "/api/inbound_rules", with("did_numbers", "15550250-15550259"), 201)
		e.wantError("POST", "/api/inbound_rules", aTok, with("holidays", []string{bHol}), 400, "VALIDATE_FAILED", "holidays[0]")
		e.wantError("POST", "/api/inbound_rules", aTok, with("office_hours_forward_rule", map[string]any{"action": "FORWARD_TO_NUMBER"}),
			400, "VALIDATE_FAILED", "office_hours_forward_rule.number")
		e.wantError("POST", "/api/inbound_rules", aTok, with("office_hours", map[string]any{"mode": "CUSTOM", "friday": map[string]any{"enabled": true,
			"ranges": []map[string]any{{"from": "18:00", "to": "09:00"}}}}), 400, "VALIDATE_FAILED", "office_hours.friday.ranges[0]")
		// Tenant b has no trunk assigned at all.
		e.wantError("POST", "/api/inbound_rules", bTok, map[string]any{"name": "b", "did_numbers": "1", "provider_id": trunk}, 400, "VALIDATE_FAILED", "provider_id")

		var r map[string]any
		if st := e.do("GET", "/api/inbound_rules/"+id, aTok, nil, &r); st != 200 || r["provider_id"] != trunk || r["enabled"] != true ||
			r["did_numbers"] != "+15550100, 15550200-15550299" {
			t.Fatalf("get inbound rule: %d %v", st, r)
		}
		if hs, _ := r["holidays"].([]any); len(hs) != 1 || hs[0].(map[string]any)["name"] != "NY" || hs[0].(map[string]any)["month_start"] != float64(1) {
			t.Fatalf("holidays = %v", r["holidays"])
		}
		if fr, _ := r["office_hours_forward_rule"].(map[string]any); fr["number"] != "101" {
			t.Fatalf("office_hours_forward_rule = %v", r["office_hours_forward_rule"])
		}
		if st := e.do("POST", "/api/inbound_rules/"+id, aTok, map[string]any{"enabled": false, "holidays": []string{}}, nil); st/100 != 2 {
			t.Fatalf("update inbound rule: %d", st)
		}
		e.do("GET", "/api/inbound_rules/"+id, aTok, nil, &r)
		if hs, _ := r["holidays"].([]any); r["enabled"] != false || len(hs) != 0 || r["name"] != "main line" {
			t.Fatalf("after update: %v", r)
		}
		e.wantError("POST", "/api/inbound_rules/"+id, aTok, map[string]any{"provider_id": other}, 400, "VALIDATE_FAILED", "provider_id")
		var l utList
		if st := e.do("GET", "/api/inbound_rules?filter=enabled%20eq%20false", aTok, nil, &l); st != 200 || l.Count != 1 || l.Items[0]["id"] != id {
			t.Fatalf("list inbound rules: %d %+v", st, l)
		}
		if st := e.do("GET", "/api/inbound_rules", aTok, nil, &l); st != 200 || l.Count != 2 {
			t.Fatalf("list inbound rules: %d %+v", st, l)
		}
		e.wantError("GET", "/api/inbound_rules/"+id, bTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/inbound_rules/"+id, bTok, map[string]any{"enabled": true}, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/inbound_rules/"+id+"/destroy", bTok, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/inbound_rules", alice, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/inbound_rules", alice, body, 403, "FORBIDDEN", "")
		if st := e.do("POST", "/api/inbound_rules/"+id+"/destroy", aTok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy inbound rule: %d", st)
		}
		e.wantError("GET", "/api/inbound_rules/"+id, aTok, nil, 404, "NOT_FOUND", "")
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'INBOUND_RULE'", aTok, nil, &l)
		if l.Count < 3 {
			t.Fatalf("inbound rule audit entries = %d", l.Count)
		}
	})
}

func TestOutboundRules(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		sys := e.adminToken()
		aTn, aTok, aSys := utTenantAdmin(e, "a.test")
		_, bTok, bSys := utTenantAdmin(e, "b.test")
		utCreate(e, aSys, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")
		trunk := prCreate(e, sys, prBody("carrier1"))
		other := prCreate(e, sys, prBody("carrier2"))
		if st := e.do("POST", "/api/providers/"+trunk+"/assignees/"+aTn.String(), sys, map[string]any{"concurrency": 10}, nil); st/100 != 2 {
			t.Fatalf("assign: %d", st)
		}
		sales := utCreateGroup(e, aTok, map[string]any{"name": "sales"})
		bGroup := utCreateGroup(e, bSys, map[string]any{"name": "sales"})

		body := map[string]any{"name": "national", "number_prefix": "0", "number_length": "10-11", "number_mask": "0XXXXXXXXX",
			"routes": []map[string]any{{"enabled": true, "provider_id": trunk, "strip_digits": 1, "prepend": "+44", "outbound_caller_id": "+442071234567"}}}
		id := nlCreate(e, aTok, "/api/outbound_rules", body, 201)
		nlCreate(e, aTok, "/api/outbound_rules", map[string]any{"name": "first", "priority": 10}, 201)
		e.wantError("POST", "/api/outbound_rules", aTok, body, 409, "CONFLICT", "name")
		e.wantError("POST", "/api/outbound_rules", aTok, map[string]any{"name": "x", "routes": []map[string]any{{"provider_id": trunk}, {"provider_id": other}}},
			400, "VALIDATE_FAILED", "routes[1].provider_id")
		e.wantError("POST", "/api/outbound_rules", aTok, map[string]any{"name": "x", "routes": []map[string]any{{"provider_id": trunk, "prepend": "abc"}}},
			400, "VALIDATE_FAILED", "routes[0].prepend")
		e.wantError("POST", "/api/outbound_rules", aTok, map[string]any{"name": "x", "number_prefix": "9a"}, 400, "VALIDATE_FAILED", "number_prefix")
		e.wantError("POST", "/api/outbound_rules", aTok, map[string]any{"name": "x", "number_length": "ten"}, 400, "VALIDATE_FAILED", "number_length")
		e.wantError("POST", "/api/outbound_rules", aTok, map[string]any{"name": "x", "routing_strategy": "ROUND_ROBIN"}, 400, "VALIDATE_FAILED", "routing_strategy")
		e.wantError("POST", "/api/outbound_rules", aTok, map[string]any{"number_prefix": "1"}, 400, "VALIDATE_FAILED", "name")

		var r map[string]any
		if st := e.do("GET", "/api/outbound_rules/"+id, aTok, nil, &r); st != 200 || r["priority"] != float64(1000) || r["routing_strategy"] != "PRIORITIZED" ||
			r["number_mask"] != "0XXXXXXXXX" {
			t.Fatalf("get outbound rule: %d %v", st, r)
		}
		if rs, _ := r["routes"].([]any); len(rs) != 1 || rs[0].(map[string]any)["strip_digits"] != float64(1) || rs[0].(map[string]any)["provider_id"] != trunk {
			t.Fatalf("routes = %v", r["routes"])
		}
		var l utList
		if st := e.do("GET", "/api/outbound_rules", aTok, nil, &l); st != 200 || l.Count != 2 || l.Items[0]["name"] != "first" {
			t.Fatalf("list outbound rules (by priority): %d %+v", st, l)
		}
		if st := e.do("POST", "/api/outbound_rules/"+id, aTok, map[string]any{"priority": 5, "routing_strategy": "RANDOMLY"}, nil); st/100 != 2 {
			t.Fatalf("update outbound rule: %d", st)
		}
		e.do("GET", "/api/outbound_rules/"+id, aTok, nil, &r)
		if rs, _ := r["routes"].([]any); r["priority"] != float64(5) || r["routing_strategy"] != "RANDOMLY" || len(rs) != 1 || r["number_prefix"] != "0" {
			t.Fatalf("after update: %v", r)
		}

		// Applied groups.
		if st := e.do("POST", "/api/outbound_rules/"+id+"/applied_groups/"+sales, aTok, nil, nil); st/100 != 2 {
			t.Fatalf("apply group: %d", st)
		}
		e.wantError("POST", "/api/outbound_rules/"+id+"/applied_groups/"+sales, aTok, nil, 409, "CONFLICT", "group_id")
		e.wantError("POST", "/api/outbound_rules/"+id+"/applied_groups/"+bGroup, aTok, nil, 404, "NOT_FOUND", "")
		var gs struct {
			Items []map[string]any `json:"items"`
		}
		if st := e.do("GET", "/api/outbound_rules/"+id+"/applied_groups", aTok, nil, &gs); st != 200 || len(gs.Items) != 1 || gs.Items[0]["name"] != "sales" {
			t.Fatalf("applied groups: %d %v", st, gs)
		}
		var g map[string]any
		if st := e.do("GET", "/api/outbound_rules/"+id+"/applied_groups/"+sales, aTok, nil, &g); st != 200 || g["id"] != sales {
			t.Fatalf("applied group: %d %v", st, g)
		}
		e.wantError("GET", "/api/outbound_rules/"+id+"/applied_groups", bTok, nil, 404, "NOT_FOUND", "")
		if st := e.do("POST", "/api/outbound_rules/"+id+"/applied_groups/"+sales+"/destroy", aTok, nil, nil); st/100 != 2 {
			t.Fatalf("unapply group: %d", st)
		}
		e.wantError("GET", "/api/outbound_rules/"+id+"/applied_groups/"+sales, aTok, nil, 404, "NOT_FOUND", "")

		e.wantError("GET", "/api/outbound_rules/"+id, bTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/outbound_rules/"+id+"/destroy", bTok, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/outbound_rules", alice, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/outbound_rules/"+id+"/applied_groups/"+sales, alice, nil, 403, "FORBIDDEN", "")
		if st := e.do("POST", "/api/outbound_rules/"+id+"/destroy", aTok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy outbound rule: %d", st)
		}
		e.wantError("GET", "/api/outbound_rules/"+id, aTok, nil, 404, "NOT_FOUND", "")
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'OUTBOUND_RULE'", aTok, nil, &l)
		if l.Count < 5 {
			t.Fatalf("outbound rule audit entries = %d", l.Count)
		}
	})
}
