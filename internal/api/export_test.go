package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// csvExport is an export answer, parsed.
type csvExport struct {
	status int
	header []string
	rows   []map[string]string // by column
	raw    string
	resp   *http.Response
}

// export GETs path with token and parses a 200 answer as CSV.
func (e *env) export(path, token string) csvExport {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.ts.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := csvExport{status: resp.StatusCode, raw: string(raw), resp: resp}
	if resp.StatusCode != 200 {
		return out
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(recs) == 0 {
		e.t.Fatalf("GET %s: parse CSV %q: %v", path, raw, err)
	}
	out.header = recs[0]
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, c := range out.header {
			row[c] = rec[i]
		}
		out.rows = append(out.rows, row)
	}
	return out
}

// wantExport exports path and checks the answer's headers and that the
// header row starts with head.
func (e *env) wantExport(path, token string, head ...string) csvExport {
	e.t.Helper()
	x := e.export(path, token)
	if x.status != 200 {
		e.t.Fatalf("GET %s: status %d, want 200 (%s)", path, x.status, x.raw)
	}
	if got, want := x.resp.Header.Get("Content-Type"), "text/csv; charset=utf-8"; got != want {
		e.t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
	}
	name := strings.TrimSuffix(strings.TrimPrefix(path, "/api/"), "/export")
	if got, want := x.resp.Header.Get("Content-Disposition"), `attachment; filename="`+name+`.csv"`; got != want {
		e.t.Errorf("GET %s: Content-Disposition %q, want %q", path, got, want)
	}
	if len(x.header) < len(head) || strings.Join(x.header[:len(head)], ",") != strings.Join(head, ",") {
		e.t.Fatalf("GET %s: header %v, want it to start with %v", path, x.header, head)
	}
	return x
}

// wantCells checks the named cells of row.
func wantCells(t *testing.T, what string, row map[string]string, want map[string]string) {
	t.Helper()
	for col, w := range want {
		got, ok := row[col]
		if !ok {
			t.Errorf("%s: no column %q", what, col)
		} else if got != w {
			t.Errorf("%s: %s = %q, want %q", what, col, got, w)
		}
	}
}

// column returns the cells of col, in row order, joined with commas.
func (x csvExport) column(col string) string {
	var out []string
	for _, r := range x.rows {
		out = append(out, r[col])
	}
	return strings.Join(out, ",")
}

func TestExportProviders(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		sys := e.adminToken()
		aTn, aTok, _ := utTenantAdmin(e, "a.test")
		_, bTok, _ := utTenantAdmin(e, "b.test")
		utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")
		t1 := prCreate(e, sys, prBody("carrier1"))
		b2 := prBody("carrier2")
		b2["name"], b2["brand"] = "carrier, \"two\"", "Acme"
		t2 := prCreate(e, sys, b2)
		if st := e.do("POST", "/api/providers/"+t2+"/assignees/"+aTn.String(), sys, map[string]any{"concurrency": 5, "did_numbers": "15550250"}, nil); st/100 != 2 {
			t.Fatalf("assign: %d", st)
		}

		x := e.wantExport("/api/providers/export", sys, "id", "name", "enabled", "brand", "hostname", "port", "did_numbers", "shared")
		if got, want := x.column("id"), t1+","+t2; got != want {
			t.Fatalf("system export ids %s, want %s", got, want)
		}
		wantCells(t, "carrier1", x.rows[0], map[string]string{"name": "carrier1", "enabled": "true", "brand": "", "hostname": "sip.example.net",
			"port": "5060", "did_numbers": "+15550100,15550200-15550299", "auth_mode": "REGISTER_AUTH", "transport": "UDP", "username": "acct1",
			"concurrency": "30", "additional_ips": "192.0.2.10, 198.51.100.0/24", "inbound_parameters.caller_num": "FROM_USER_PART",
			"inbound_parameters.drop_calls_with_verification_status": "", "outbound_parameters.from_user_part.value": "OUTBOUND_CALLER_ID",
			"outbound_parameters.from_user_part.custom_value": "", "outbound_parameters.to_user_part.value": "", "outbound_parameters.privacy_types_supported": ""})
		wantCells(t, "carrier2", x.rows[1], map[string]string{"name": "carrier, \"two\"", "brand": "Acme"})
		for _, c := range x.header {
			if strings.Contains(c, "password") {
				t.Errorf("column %q in the providers export", c)
			}
		}
		if strings.Contains(x.raw, "TrunkSecret!") {
			t.Fatal("the providers export holds a trunk password")
		}

		// A tenant admin exports the trunks assigned to it, as it sees them.
		x = e.wantExport("/api/providers/export", aTok, "id", "name")
		if len(x.rows) != 1 {
			t.Fatalf("tenant a export: %d rows, want 1", len(x.rows))
		}
		wantCells(t, "tenant a", x.rows[0], map[string]string{"id": t2, "did_numbers": "15550250", "concurrency": "5"})
		if x = e.wantExport("/api/providers/export", bTok, "id"); len(x.rows) != 0 {
			t.Fatalf("tenant b export: %v, want no rows", x.rows)
		}
		if x := e.export("/api/providers/export", alice); x.status != 403 {
			t.Fatalf("standard user export: status %d, want 403", x.status)
		}
		if x := e.export("/api/providers/export", ""); x.status != 401 {
			t.Fatalf("anonymous export: status %d, want 401", x.status)
		}
	})
}

func TestExportRules(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		sys := e.adminToken()
		aTn, aTok, aSys := utTenantAdmin(e, "a.test")
		bTn, bTok, _ := utTenantAdmin(e, "b.test")
		utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")
		trunk := prCreate(e, sys, prBody("carrier1"))
		for _, tn := range []string{aTn.String(), bTn.String()} {
			if st := e.do("POST", "/api/providers/"+trunk+"/assignees/"+tn, sys, map[string]any{"concurrency": 10}, nil); st/100 != 2 {
				t.Fatalf("assign: %d", st)
			}
		}
		hol := nlCreate(e, aTok, "/api/holidays", map[string]any{"name": "NY", "region": "US", "consecutive": false, "every_year": true, "month_start": 1, "day_start": 1}, 201)
		in1 := nlCreate(e, aTok, "/api/inbound_rules", map[string]any{"name": "main line", "did_numbers": "+15550100, 15550200-15550299", "provider_id": trunk, "cid_number_mask": "+1",
			"office_hours_forward_rule":     map[string]any{"action": "FORWARD_TO_NUMBER", "number": "101"},
			"non_office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_VOICEMAIL"},
			"office_hours": map[string]any{"mode": "CUSTOM", "monday": map[string]any{"enabled": true,
				"ranges": []map[string]any{{"from": "09:00", "to": "12:00"}, {"from": "13:00", "to": "17:00"}}}},
			"holidays": []string{hol}}, 201)
		in2 := nlCreate(e, aTok, "/api/inbound_rules", map[string]any{"name": "support", "did_numbers": "15550300", "provider_id": trunk, "enabled": false}, 201)
		nlCreate(e, bTok, "/api/inbound_rules", map[string]any{"name": "b line", "did_numbers": "15559999", "provider_id": trunk}, 201)

		x := e.wantExport("/api/inbound_rules/export", aTok, "id", "name", "enabled", "did_numbers", "provider_id", "holidays", "cid_number_mask",
			"office_hours_forward_rule.action", "office_hours_forward_rule.number")
		if got, want := x.column("id"), in1+","+in2; got != want {
			t.Fatalf("inbound export ids %s, want %s", got, want)
		}
		wantCells(t, "main line", x.rows[0], map[string]string{"name": "main line", "enabled": "true", "did_numbers": "+15550100, 15550200-15550299",
			"provider_id": trunk, "holidays": hol, "cid_number_mask": "+1", "office_hours_forward_rule.action": "FORWARD_TO_NUMBER",
			"office_hours_forward_rule.number": "101", "non_office_hours_forward_rule.action": "FORWARD_TO_VOICEMAIL",
			"holiday_forward_rule.action": "", "office_hours.mode": "CUSTOM", "office_hours.monday.enabled": "true",
			"office_hours.monday.ranges": "09:00-12:00;13:00-17:00", "office_hours.tuesday.enabled": "", "enable_advanced_routing": "false"})
		wantCells(t, "support", x.rows[1], map[string]string{"name": "support", "enabled": "false", "holidays": "", "office_hours.mode": ""})
		if x := e.wantExport("/api/inbound_rules/export", bTok, "id"); x.column("name") != "b line" {
			t.Fatalf("tenant b inbound export: %v", x.rows)
		}
		// A system admin switched into the tenant exports the tenant's rows.
		if x := e.wantExport("/api/inbound_rules/export", aSys, "id"); x.column("name") != "main line,support" {
			t.Fatalf("switched inbound export: %v", x.rows)
		}

		out1 := nlCreate(e, aTok, "/api/outbound_rules", map[string]any{"name": "uk", "number_prefix": "0044", "number_length": "10-13", "priority": 10,
			"holidays": []string{hol}, "routing_strategy": "RANDOMLY",
			"routes": []map[string]any{{"provider_id": trunk, "strip_digits": 4, "prepend": "+44", "outbound_caller_id": "+442071234567"},
				{"enabled": false, "provider_id": trunk}}}, 201)
		out2 := nlCreate(e, aTok, "/api/outbound_rules", map[string]any{"name": "local"}, 201)
		nlCreate(e, bTok, "/api/outbound_rules", map[string]any{"name": "b out"}, 201)
		x = e.wantExport("/api/outbound_rules/export", aTok, "id", "name", "number_prefix", "number_length", "number_mask", "enabled", "priority")
		if got, want := x.column("id"), out1+","+out2; got != want {
			t.Fatalf("outbound export ids %s, want %s", got, want)
		}
		wantCells(t, "uk", x.rows[0], map[string]string{"number_prefix": "0044", "number_length": "10-13", "priority": "10", "holidays": hol,
			"routing_strategy": "RANDOMLY", "routes": "true:" + trunk + ":4:+44:+442071234567;false:" + trunk + ":0::", "office_hours.sunday.ranges": ""})
		wantCells(t, "local", x.rows[1], map[string]string{"priority": "1000", "routing_strategy": "PRIORITIZED", "routes": "", "enabled": "true"})
		if x := e.wantExport("/api/outbound_rules/export", bTok, "id"); x.column("name") != "b out" {
			t.Fatalf("tenant b outbound export: %v", x.rows)
		}

		for _, path := range []string{"/api/inbound_rules/export", "/api/outbound_rules/export"} {
			if x := e.export(path, alice); x.status != 403 {
				t.Errorf("standard user GET %s: status %d, want 403", path, x.status)
			}
			// Rules are a tenant's: the system admin outside a tenant has none.
			if x := e.export(path, sys); x.status != 403 {
				t.Errorf("system admin GET %s: status %d, want 403", path, x.status)
			}
		}
	})
}

func TestExportNumberLists(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		_, aTok, _ := utTenantAdmin(e, "a.test")
		_, bTok, _ := utTenantAdmin(e, "b.test")
		utCreate(e, aTok, utUserBody("alice", "101", "StandardUser"))
		alice := e.login("alice", "Secret#123", "a.test")

		bl1 := nlCreate(e, aTok, "/api/blacklisted_numbers", map[string]any{"number": "+15550100", "expire_at": "2030-01-02T03:04:05Z", "description": "spam; \"robo\"\ncaller"}, 201)
		bl2 := nlCreate(e, aTok, "/api/blacklisted_numbers", map[string]any{"number": "15550101"}, 201)
		nlCreate(e, bTok, "/api/blacklisted_numbers", map[string]any{"number": "19990000"}, 201)
		x := e.wantExport("/api/blacklisted_numbers/export", aTok, "id", "number", "expire_at", "created_at", "updated_at", "description")
		if got, want := x.column("id"), bl1+","+bl2; got != want {
			t.Fatalf("blacklist export ids %s, want %s", got, want)
		}
		wantCells(t, "blacklist 1", x.rows[0], map[string]string{"number": "+15550100", "expire_at": "2030-01-02T03:04:05Z", "description": "spam; \"robo\"\ncaller"})
		wantCells(t, "blacklist 2", x.rows[1], map[string]string{"number": "15550101", "expire_at": "", "description": ""})
		if x.rows[0]["created_at"] == "" {
			t.Error("blacklist export: created_at is empty")
		}
		if x := e.wantExport("/api/blacklisted_numbers/export", bTok, "id"); x.column("number") != "19990000" {
			t.Fatalf("tenant b blacklist export: %v", x.rows)
		}

		// More codes than a page of the store: the export has them all.
		const n = 105
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("9%03d", i))
			nlCreate(e, aTok, "/api/disallowed_codes", map[string]any{"number_prefix": want[i], "description": "code " + want[i]}, 201)
		}
		nlCreate(e, bTok, "/api/disallowed_codes", map[string]any{"number_prefix": "8888"}, 201)
		x = e.wantExport("/api/disallowed_codes/export", aTok, "id", "number_prefix", "description")
		if len(x.header) != 3 {
			t.Errorf("disallowed codes header %v, want 3 columns", x.header)
		}
		if got := x.column("number_prefix"); got != strings.Join(want, ",") {
			t.Fatalf("disallowed codes export: %d rows %s, want %d", len(x.rows), got, n)
		}
		wantCells(t, "code 104", x.rows[104], map[string]string{"description": "code 9104"})
		if x := e.wantExport("/api/disallowed_codes/export", bTok, "id"); x.column("number_prefix") != "8888" {
			t.Fatalf("tenant b disallowed codes export: %v", x.rows)
		}

		for _, path := range []string{"/api/blacklisted_numbers/export", "/api/disallowed_codes/export"} {
			if x := e.export(path, alice); x.status != 403 {
				t.Errorf("standard user GET %s: status %d, want 403", path, x.status)
			}
		}
	})
}

func TestExportIPFilters(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		sys := e.adminToken()
		_, aTok, _ := utTenantAdmin(e, "a.test")
		f1 := nlCreate(e, sys, "/api/ip_filters", map[string]any{"cidr": "192.0.2.7", "target": "DENY", "description": "scanner"}, 200)
		f2 := nlCreate(e, sys, "/api/ip_filters", map[string]any{"cidr": "10.0.0.0/8", "target": "ACCEPT", "expire_at": "2031-05-06T07:08:09Z"}, 200)
		x := e.wantExport("/api/ip_filters/export", sys, "id", "cidr", "target", "expire_at", "description")
		if got, want := x.column("id"), f1+","+f2; got != want {
			t.Fatalf("ip filter export ids %s, want %s", got, want)
		}
		wantCells(t, "filter 1", x.rows[0], map[string]string{"cidr": "192.0.2.7/32", "target": "DENY", "expire_at": "", "description": "scanner"})
		wantCells(t, "filter 2", x.rows[1], map[string]string{"cidr": "10.0.0.0/8", "target": "ACCEPT", "expire_at": "2031-05-06T07:08:09Z", "description": ""})
		// IP rules are the system's: a tenant admin does not export them.
		if x := e.export("/api/ip_filters/export", aTok); x.status != 403 {
			t.Errorf("tenant admin GET /api/ip_filters/export: status %d, want 403", x.status)
		}
	})
}
