package api

import (
	"context"
	"testing"
)

func TestIPFilters(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		reloads := 0
		e.srv.AttachSIP(SIP{ReloadIPFilters: func(context.Context) error { reloads++; return nil }})
		tok := e.adminToken()
		e.wantError("POST", "/api/ip_filters", tok, map[string]any{"cidr": "not-an-ip", "target": "DENY"}, 400, "VALIDATE_FAILED", "cidr")
		e.wantError("POST", "/api/ip_filters", tok, map[string]any{"cidr": "10.0.0.0/8", "target": "MAYBE"}, 400, "VALIDATE_FAILED", "target")
		var id struct {
			ID string `json:"id"`
		}
		if st := e.do("POST", "/api/ip_filters", tok, map[string]any{"cidr": "192.0.2.7", "target": "DENY", "description": "scanner"}, &id); st/100 != 2 || id.ID == "" {
			t.Fatalf("create: %d", st)
		}
		var list struct {
			Count int            `json:"count"`
			Items []ipFilterItem `json:"items"`
		}
		e.do("GET", "/api/ip_filters?filter=target%20eq%20'DENY'", tok, nil, &list)
		if list.Count != 1 || list.Items[0].CIDR != "192.0.2.7/32" || list.Items[0].ExpireAt != nil {
			t.Fatalf("list: %+v", list)
		}
		if st := e.do("POST", "/api/ip_filters/"+id.ID+"/destroy", tok, nil, nil); st/100 != 2 {
			t.Fatalf("destroy: %d", st)
		}
		e.wantError("GET", "/api/ip_filters/"+id.ID, tok, nil, 404, "NOT_FOUND", "")
		if reloads != 2 {
			t.Errorf("SIP edge reloaded %d times, want 2", reloads)
		}
	})
}
