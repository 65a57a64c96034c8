package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/store/storetest"
)

// specPath is PortSIP's OpenAPI document, beside the repo in CI.
var specPath = filepath.Join("..", "..", "..", "shared", "reference", "portsip-openapi-v22.json")

// extraFields are fields we serve that PortSIP's document does not describe,
// each with its reason. Keep this list short.
var extraFields = map[string]string{
	// POST /login answers "200 OK" without a schema in PortSIP's document;
	// its token shape comes from PortSIP's authentication guide.
	"POST /login response": "token body documented in prose only",
	// A registration's transport and expiry: an administrator needs both,
	// and PortSIP's status has no field for them.
	"GET /users/{}/status response registration[].transport":  "not in PortSIP's status",
	"GET /users/{}/status response registration[].expires_at": "not in PortSIP's status",
	"GET /user/status response registration[].transport":      "not in PortSIP's status",
	"GET /user/status response registration[].expires_at":     "not in PortSIP's status",
	// A trunk's ONLINE or OFFLINE says nothing of why: the registration
	// state, the carrier's last answer and the live calls tell the
	// administrator what to fix.
	"GET /providers/{}/status response registration_status": "not in PortSIP's status",
	"GET /providers/{}/status response last_error":          "not in PortSIP's status",
	"GET /providers/{}/status response last_status_code":    "not in PortSIP's status",
	"GET /providers/{}/status response expires_at":          "not in PortSIP's status",
	"GET /providers/{}/status response live_calls":          "not in PortSIP's status",
	// A whole operation we serve that PortSIP's document lacks: a
	// voicemail's file_url has to point somewhere, and PortSIP names no
	// path that serves it.
	"GET /voicemails/{}/download": "serves a voicemail's file_url",
	// The same for call recordings' file_url.
	"GET /recordings/{}/download":      "serves a recording's file_url",
	"GET /user/recordings/{}/download": "serves a recording's file_url",
	// PortSIP's admin guide has a virtual receptionist's "block direct
	// extension dialing" list, which its API document leaves out.
	"POST /ivrs request blocked_extension_numbers":    "in PortSIP's admin guide only",
	"POST /ivrs/{} request blocked_extension_numbers": "in PortSIP's admin guide only",
	"GET /ivrs/{} response blocked_extension_numbers": "in PortSIP's admin guide only",
	// A tenant's replacements of system prompts: PortSIP keeps prompts on
	// the server's disk, out of a tenant's reach.
	"GET /prompts":          "tenants replace system prompts (docs/PROMPTS.md)",
	"POST /prompts/replace": "tenants replace system prompts (docs/PROMPTS.md)",
	"POST /prompts/destroy": "tenants replace system prompts (docs/PROMPTS.md)",
}

// TestOpenAPIMatchesPortSIP checks the document our server publishes against
// PortSIP's: every operation we serve exists there with the same method and
// path, and every field and enum value we use is PortSIP's.
func TestOpenAPIMatchesPortSIP(t *testing.T) {
	raw, err := os.ReadFile(specPath)
	if os.IsNotExist(err) {
		t.Skipf("PortSIP's spec is not at %s (it is in ../shared/reference/ beside the repo in CI)", specPath)
	} else if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	srv := New(Config{}, storetest.OpenSQLite(t), nil, nil)
	ourRaw, err := json.Marshal(srv.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var ours map[string]any
	json.Unmarshal(ourRaw, &ours)
	if ours["openapi"] != "3.1.0" {
		t.Errorf("openapi version %v, want 3.1.0", ours["openapi"])
	}

	specOps := operations(spec)
	ourOps := operations(ours)
	if len(ourOps) == 0 {
		t.Fatal("our document has no operations")
	}
	keys := make([]string, 0, len(ourOps))
	for k := range ourOps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		op := ourOps[key]
		sop, ok := specOps[key]
		if !ok {
			if _, extra := extraFields[key]; !extra {
				t.Errorf("%s: not an operation of PortSIP's API", key)
			}
			continue
		}
		compareSchema(t, key+" request", fields(ours, requestSchema(op)), fields(spec, requestSchema(sop)))
		for _, status := range []string{"200", "201"} {
			mine := responseSchema(op, status)
			if mine == nil {
				continue
			}
			theirs := responseSchema(sop, status)
			if theirs == nil {
				for _, alt := range []string{"200", "201"} {
					if theirs = responseSchema(sop, alt); theirs != nil {
						break
					}
				}
			}
			if theirs == nil {
				if _, ok := extraFields[key+" response"]; !ok && len(fields(ours, mine)) > 0 {
					t.Errorf("%s: we answer a body, PortSIP's document has none", key)
				}
				continue
			}
			compareSchema(t, key+" response", fields(ours, mine), fields(spec, theirs))
		}
	}
	t.Logf("%d of PortSIP's %d operations served", len(ourOps), len(specOps))
}

var paramRe = regexp.MustCompile(`\{[^}]+\}`)

// operations maps "METHOD /path" (path parameters renamed to {}) to each
// operation object.
func operations(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		methods, _ := item.(map[string]any)
		for m, op := range methods {
			o, ok := op.(map[string]any)
			if !ok || (m != "get" && m != "post") {
				continue
			}
			out[strings.ToUpper(m)+" "+paramRe.ReplaceAllString(p, "{}")] = o
		}
	}
	return out
}

func requestSchema(op map[string]any) any {
	return dig(op, "requestBody", "content", "application/json", "schema")
}

func responseSchema(op map[string]any, status string) any {
	return dig(op, "responses", status, "content", "application/json", "schema")
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// fields flattens a schema into dotted field paths ("items[].name") and the
// enum values each allows.
func fields(doc map[string]any, schema any) map[string][]string {
	out := map[string][]string{}
	var walk func(s any, prefix string, depth int)
	walk = func(s any, prefix string, depth int) {
		m, ok := s.(map[string]any)
		if !ok || depth > 12 {
			return
		}
		if ref, ok := m["$ref"].(string); ok {
			walk(resolve(doc, ref), prefix, depth+1)
		}
		for _, comb := range []string{"allOf", "oneOf", "anyOf"} {
			if list, ok := m[comb].([]any); ok {
				for _, sub := range list {
					walk(sub, prefix, depth+1)
				}
			}
		}
		if enum, ok := m["enum"].([]any); ok && prefix != "" {
			for _, e := range enum {
				if s, ok := e.(string); ok {
					out[prefix] = append(out[prefix], s)
				}
			}
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for name, sub := range props {
				p := name
				if prefix != "" {
					p = prefix + "." + name
				}
				if _, seen := out[p]; !seen {
					out[p] = nil
				}
				walk(sub, p, depth+1)
			}
		}
		if items, ok := m["items"]; ok {
			walk(items, prefix+"[]", depth+1)
		}
	}
	walk(schema, "", 0)
	return out
}

func resolve(doc map[string]any, ref string) any {
	var v any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		v = dig(v, part)
	}
	return v
}

func compareSchema(t *testing.T, what string, ours, theirs map[string][]string) {
	t.Helper()
	var names []string
	for f := range ours {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if strings.HasSuffix(f, "$schema") {
			continue
		}
		their, ok := theirs[f]
		if !ok {
			_, allowed := extraFields[what]
			if _, one := extraFields[what+" "+f]; one {
				allowed = true
			}
			if !allowed {
				t.Errorf("%s: field %q is not PortSIP's", what, f)
			}
			continue
		}
		if len(their) == 0 {
			continue
		}
		allowed := map[string]bool{}
		for _, e := range their {
			allowed[e] = true
		}
		for _, e := range ours[f] {
			if !allowed[e] {
				t.Errorf("%s: field %q: enum value %q is not PortSIP's (%v)", what, f, e, their)
			}
		}
	}
}
