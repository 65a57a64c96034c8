package api

import (
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
)

type ivrBody struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	ExtensionNumber    string `json:"extension_number"`
	DTMFInterval       int    `json:"dtmf_interval"`
	EnablePIN          bool   `json:"enable_pin"`
	PIN                string `json:"pin"`
	PromptFileName     string `json:"prompt_file_name"`
	PromptFileURL      string `json:"prompt_file_url"`
	TimeoutForwardRule struct {
		Timeout     int    `json:"timeout"`
		RepeatTimes int    `json:"repeat_times"`
		Action      string `json:"action"`
	} `json:"timeout_forward_rule"`
	CustomForwardRules []struct {
		UserInput              string `json:"user_input"`
		OfficeHoursForwardRule struct {
			Action string `json:"action"`
			Number string `json:"number"`
		} `json:"office_hours_forward_rule"`
		Holidays []struct {
			ID string `json:"id"`
		} `json:"holidays"`
	} `json:"custom_forward_rules"`
}

func TestIVRs(t *testing.T) {
	eachDataEnv(t, func(t *testing.T, e *env, data string) {
		var changed []pbx.TenantID
		e.srv.AttachSIP(SIP{ConfigChanged: func(tenant pbx.TenantID, trunks bool) { changed = append(changed, tenant) }})
		a := newVMUsers(e, "a.test", "10") // alice 101, bob 102
		b := newVMUsers(e, "b.test", "20")
		wav := uploadFile(e, a.boss, "menu.wav", testWAV(1, 8000, 800), true)
		txt := uploadFile(e, a.boss, "notes.txt", []byte("not audio"), false)
		other := uploadFile(e, b.boss, "theirs.wav", testWAV(1, 8000, 800), false)

		body := map[string]any{"name": "main", "extension_number": "800", "pin": "4321", "prompt_file_id": wav,
			"custom_forward_rules": []map[string]any{
				{"user_input": "1", "office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_NUMBER", "number": "101"}},
				{"user_input": "2", "office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_VOICEMAIL", "number": "102"}},
			}}
		var out struct {
			ID string `json:"id"`
		}
		changed = nil
		if st := e.do("POST", "/api/ivrs", a.boss, body, &out); st != 201 || out.ID == "" {
			t.Fatalf("create: status %d", st)
		}
		if len(changed) != 1 || changed[0] != a.tenant {
			t.Errorf("routing heard of %v, want tenant %s", changed, a.tenant)
		}
		var got ivrBody
		if st := e.do("GET", "/api/ivrs/"+out.ID, a.boss, nil, &got); st != 200 {
			t.Fatalf("get: status %d", st)
		}
		// PortSIP's defaults.
		if got.DTMFInterval != 2 || !got.EnablePIN || got.PIN != "4321" || got.TimeoutForwardRule.Timeout != 30 ||
			got.TimeoutForwardRule.RepeatTimes != 3 || got.PromptFileName != "menu.wav" || got.PromptFileURL == "" {
			t.Errorf("get: %+v", got)
		}
		if len(got.CustomForwardRules) != 2 || got.CustomForwardRules[1].OfficeHoursForwardRule.Number != "102" ||
			got.CustomForwardRules[0].Holidays == nil {
			t.Errorf("custom rules: %+v", got.CustomForwardRules)
		}
		var l utList
		if st := e.do("GET", "/api/ivrs", a.boss, nil, &l); st != 200 || l.Count != 1 || l.Items[0]["extension_number"] != "800" {
			t.Errorf("list: %d %+v", st, l)
		}
		if st := e.do("GET", "/api/ivrs", b.boss, nil, &l); st != 200 || l.Count != 0 {
			t.Errorf("other tenant's list: %d %+v", st, l)
		}
		e.wantError("GET", "/api/ivrs/"+out.ID, b.boss, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/ivrs", a.alice, nil, 403, "FORBIDDEN", "")

		// The extension namespace is shared with users, both ways.
		clash := map[string]any{"name": "second", "extension_number": "101", "pin": "1"}
		e.wantError("POST", "/api/ivrs", a.boss, clash, 409, "CONFLICT", "extension_number")
		e.wantError("POST", "/api/users", a.boss, utUserBody("carol", "800", "StandardUser"), 409, "CONFLICT", "extension_number")

		// Validation names the field.
		bad := func(field string, mod func(m map[string]any)) {
			t.Helper()
			m := map[string]any{"name": "x", "extension_number": "801", "pin": "1"}
			mod(m)
			e.wantError("POST", "/api/ivrs", a.boss, m, 400, "VALIDATE_FAILED", field)
		}
		bad("pin", func(m map[string]any) { delete(m, "pin") })
		bad("pin", func(m map[string]any) { m["pin"] = "12ab" })
		bad("name", func(m map[string]any) { delete(m, "name") })
		bad("extension_number", func(m map[string]any) { m["extension_number"] = "8a" })
		bad("prompt_file_id", func(m map[string]any) { m["prompt_file_id"] = txt })
		bad("prompt_file_id", func(m map[string]any) { m["prompt_file_id"] = other })
		bad("transfer_prompt_file_id", func(m map[string]any) { m["transfer_prompt_file_id"] = "nope" })
		bad("custom_forward_rules[0].user_input", func(m map[string]any) {
			m["custom_forward_rules"] = []map[string]any{{"user_input": "a", "office_hours_forward_rule": map[string]any{"action": "HANGUP"}}}
		})
		bad("custom_forward_rules[1].user_input", func(m map[string]any) {
			r := map[string]any{"user_input": "1", "office_hours_forward_rule": map[string]any{"action": "HANGUP"}}
			m["custom_forward_rules"] = []map[string]any{r, r}
		})
		bad("custom_forward_rules[0].office_hours_forward_rule.number", func(m map[string]any) {
			m["custom_forward_rules"] = []map[string]any{{"user_input": "1", "office_hours_forward_rule": map[string]any{"action": "FORWARD_TO_NUMBER"}}}
		})
		bad("custom_forward_rules[0].holidays[0]", func(m map[string]any) {
			m["custom_forward_rules"] = []map[string]any{{"user_input": "1", "office_hours_forward_rule": map[string]any{"action": "HANGUP"},
				"holidays": []string{"123"}}}
		})
		bad("custom_forward_rules[0].office_hours.monday.ranges[0]", func(m map[string]any) {
			m["custom_forward_rules"] = []map[string]any{{"user_input": "1", "office_hours_forward_rule": map[string]any{"action": "HANGUP"},
				"office_hours": map[string]any{"mode": "CUSTOM", "monday": map[string]any{"enabled": true, "ranges": []map[string]string{{"from": "18:00", "to": "09:00"}}}}}}
		})
		bad("timeout_forward_rule.number", func(m map[string]any) {
			m["timeout_forward_rule"] = map[string]any{"timeout": 10, "action": "FORWARD_TO_VOICEMAIL"}
		})
		bad("blocked_extension_numbers", func(m map[string]any) { m["blocked_extension_numbers"] = "100-1x9" })

		// Update: the number cannot change through it, the rest can.
		upd := map[string]any{"name": "reception", "enable_pin": false, "dtmf_interval": 3,
			"timeout_forward_rule": map[string]any{"timeout": 10, "repeat_times": 1, "action": "FORWARD_TO_VOICEMAIL", "number": "101"}}
		if st := e.do("POST", "/api/ivrs/"+out.ID, a.boss, upd, nil); st != 204 && st != 200 {
			t.Fatalf("update: status %d", st)
		}
		e.do("GET", "/api/ivrs/"+out.ID, a.boss, nil, &got)
		if got.Name != "reception" || got.EnablePIN || got.DTMFInterval != 3 || got.TimeoutForwardRule.Action != "FORWARD_TO_VOICEMAIL" ||
			len(got.CustomForwardRules) != 2 {
			t.Errorf("after update: %+v", got)
		}
		if len(changed) != 2 {
			t.Errorf("routing heard of %d changes, want 2", len(changed))
		}

		// Action URLs.
		var out2 struct {
			ID string `json:"id"`
		}
		urls := "/api/ivrs/" + out.ID + "/action_urls"
		au := map[string]any{"name": "crm", "enabled": true, "type": "DTMF", "dtmf_mask": "1**;200-299;ALL", "url": "https://crm.example/ivr",
			"auth": "BASIC", "username": "u", "password": "p", "headers": "X-A:1&X-B:2"}
		if st := e.do("POST", urls, a.boss, au, &out2); st != 201 || out2.ID == "" {
			t.Fatalf("create action url: status %d", st)
		}
		var ag map[string]any
		if st := e.do("GET", urls+"/"+out2.ID, a.boss, nil, &ag); st != 200 || ag["method"] != "GET" || ag["request_timeout"] != float64(2) ||
			ag["password"] != nil || ag["url"] != "https://crm.example/ivr" {
			t.Errorf("get action url: %d %+v", st, ag)
		}
		e.wantError("POST", urls, a.boss, map[string]any{"url": "ftp://x"}, 400, "VALIDATE_FAILED", "url")
		e.wantError("POST", urls, a.boss, map[string]any{"url": "http://x", "caller_mask": "ALL"}, 400, "VALIDATE_FAILED", "caller_mask")
		e.wantError("POST", urls, a.boss, map[string]any{"url": "http://x", "headers": "nocolon"}, 400, "VALIDATE_FAILED", "headers")
		if st := e.do("POST", urls+"/"+out2.ID, a.boss, map[string]any{"method": "POST"}, nil); st != 204 && st != 200 {
			t.Fatalf("update action url: status %d", st)
		}
		var al struct {
			Items []map[string]any `json:"items"`
		}
		if st := e.do("GET", urls, a.boss, nil, &al); st != 200 || len(al.Items) != 1 || al.Items[0]["method"] != "POST" {
			t.Errorf("list action urls: %d %+v", st, al)
		}
		e.wantError("GET", urls+"/"+out2.ID, b.boss, nil, 404, "NOT_FOUND", "")
		if st := e.do("POST", urls+"/"+out2.ID+"/destroy", a.boss, nil, nil); st != 204 && st != 200 {
			t.Fatalf("delete action url: status %d", st)
		}

		// Delete frees the number.
		if st := e.do("POST", "/api/ivrs/"+out.ID+"/destroy", a.boss, nil, nil); st != 204 && st != 200 {
			t.Fatalf("delete: status %d", st)
		}
		utCreate(e, a.boss, utUserBody("carol", "800", "StandardUser"))
		e.wantError("GET", "/api/ivrs/"+out.ID, a.boss, nil, 404, "NOT_FOUND", "")
	})
}
