package api

import (
	"testing"
)

func TestGroups(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		_, _, bSys := utTenantAdmin(e, "b.test")
		utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))
		utCreate(e, aTok, utUserBody("bob", "102", "StandardUser"))
		utCreate(e, bSys, utUserBody("bella", "103", "StandardUser"))

		id := utCreateGroup(e, aTok, map[string]any{"name": "sales", "description": "Sales team",
			"outbound_caller_ids": []map[string]any{{"provider_id": "1", "caller_id": "+15550100"}}})
		utCreateGroup(e, aTok, map[string]any{"name": "support"})
		e.wantError("POST", "/api/groups", aTok, map[string]any{"name": "sales"}, 409, "CONFLICT", "name")
		e.wantError("POST", "/api/groups", aTok, map[string]any{"description": "no name"}, 400, "VALIDATE_FAILED", "name")
		e.wantError("POST", "/api/groups", aTok, map[string]any{"name": string(make([]byte, 65))}, 400, "VALIDATE_FAILED", "name")
		// Another tenant may use the same name.
		bGroup := utCreateGroup(e, bSys, map[string]any{"name": "sales"})

		var l utList
		if st := e.do("GET", "/api/groups?filter=startswith(name,'sa')", aTok, nil, &l); st != 200 || l.Count != 1 || l.Items[0]["id"] != id {
			t.Fatalf("list groups: %d %+v", st, l)
		}
		var g map[string]any
		if st := e.do("GET", "/api/groups/"+id, aTok, nil, &g); st != 200 || g["description"] != "Sales team" {
			t.Fatalf("get group: %d %v", st, g)
		}
		if ids, _ := g["outbound_caller_ids"].([]any); len(ids) != 1 {
			t.Fatalf("outbound_caller_ids = %v", g["outbound_caller_ids"])
		}
		if st := e.do("POST", "/api/groups/"+id, aTok, map[string]any{"description": "Sellers"}, nil); st/100 != 2 {
			t.Fatalf("update group: status %d", st)
		}
		e.do("GET", "/api/groups/"+id, aTok, nil, &g)
		if g["name"] != "sales" || g["description"] != "Sellers" {
			t.Fatalf("after update: %v", g)
		}
		e.wantError("POST", "/api/groups/"+id, aTok, map[string]any{"name": "support"}, 409, "CONFLICT", "name")

		// Members, by extension number.
		for _, n := range []string{"101", "102"} {
			if st := e.do("POST", "/api/groups/"+id+"/members/"+n, aTok, nil, nil); st/100 != 2 {
				t.Fatalf("add member %s: status %d", n, st)
			}
		}
		e.wantError("POST", "/api/groups/"+id+"/members/101", aTok, nil, 409, "CONFLICT", "extension_number")
		e.wantError("POST", "/api/groups/"+id+"/members/103", aTok, nil, 404, "NOT_FOUND", "") // tenant b's number
		var members struct {
			Items []map[string]any `json:"items"`
		}
		if st := e.do("GET", "/api/groups/"+id+"/members", aTok, nil, &members); st != 200 || len(members.Items) != 2 || members.Items[0]["name"] != "alice" {
			t.Fatalf("members: %d %v", st, members)
		}
		var m map[string]any
		if st := e.do("GET", "/api/groups/"+id+"/members/102", aTok, nil, &m); st != 200 || m["display_name"] != "Bob" {
			t.Fatalf("check member: %d %v", st, m)
		}
		if st := e.do("POST", "/api/groups/"+id+"/members/102/destroy", aTok, nil, nil); st/100 != 2 {
			t.Fatalf("remove member: status %d", st)
		}
		e.wantError("GET", "/api/groups/"+id+"/members/102", aTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/groups/"+id+"/members/102/destroy", aTok, nil, 404, "NOT_FOUND", "")

		// Tenant a cannot see or touch tenant b's group.
		e.wantError("GET", "/api/groups/"+bGroup, aTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/groups/"+bGroup, aTok, map[string]any{"name": "x"}, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/groups/"+bGroup+"/members", aTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/groups/"+bGroup+"/members/101", aTok, nil, 404, "NOT_FOUND", "")
		e.wantError("POST", "/api/groups/"+bGroup+"/destroy", aTok, nil, 404, "NOT_FOUND", "")

		if st := e.do("POST", "/api/groups/"+id+"/destroy", aTok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy group: status %d", st)
		}
		e.wantError("GET", "/api/groups/"+id, aTok, nil, 404, "NOT_FOUND", "")
		var audit utList
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'USER_GROUP'", aTok, nil, &audit)
		if audit.Count < 3 {
			t.Fatalf("group audit entries = %d, want at least 3", audit.Count)
		}
	})
}

func utCreateGroup(e *env, tok string, body map[string]any) string {
	e.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if st := e.do("POST", "/api/groups", tok, body, &out); st != 201 || out.ID == "" {
		e.t.Fatalf("create group %v: status %d", body["name"], st)
	}
	return out.ID
}
