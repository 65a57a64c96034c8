package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gopbx/gopbx/internal/store"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// testHash is a cheap argon2id cost so tests do not spend their time hashing.
var testHash = HashParams{Memory: 64, Time: 1, Threads: 1}

const testAdminPassword = "Admin#12345"

// env is an API server on a real database, reached over real HTTP.
type env struct {
	t   *testing.T
	db  *store.DB
	srv *Server
	ts  *httptest.Server
}

// eachEnv runs fn once per database dialect with a fresh server whose system
// admin password is testAdminPassword.
func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fn(t, newEnv(t, db, Config{Hash: testHash}))
	})
}

func newEnv(t *testing.T, db *store.DB, cfg Config) *env {
	t.Helper()
	if _, err := Bootstrap(context.Background(), db, testAdminPassword, testHash); err != nil {
		t.Fatal(err)
	}
	if cfg.Hash == (HashParams{}) {
		cfg.Hash = testHash
	}
	e := &env{t: t, db: db}
	e.srv = New(cfg, db, nil, nil)
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// do sends a request with an optional bearer token and JSON body, and decodes
// a JSON answer into out when out is not nil. It returns the status.
func (e *env) do(method, path, token string, body, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// login logs in and returns the access token, failing the test otherwise.
func (e *env) login(username, password, domain string) string {
	e.t.Helper()
	var out tokenBody
	body := map[string]string{"username": username, "password": password}
	if domain != "" {
		body["domain"] = domain
	}
	if st := e.do("POST", "/api/login", "", body, &out); st != 200 || out.AccessToken == "" {
		e.t.Fatalf("login %s@%s: status %d", username, domain, st)
	}
	return out.AccessToken
}

// adminToken logs in as the system admin.
func (e *env) adminToken() string { return e.login(AdminName, testAdminPassword, "") }

// errBody is what error answers decode into.
type errBody struct {
	Errors []struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Detail  map[string]any `json:"detail"`
	} `json:"errors"`
}

// wantError asserts an error answer's status, code and (when field is not
// empty) the field it names.
func (e *env) wantError(method, path, token string, body any, status int, code, field string) {
	e.t.Helper()
	var eb errBody
	if st := e.do(method, path, token, body, &eb); st != status {
		e.t.Fatalf("%s %s: status %d, want %d (%+v)", method, path, st, status, eb)
	}
	if len(eb.Errors) == 0 || eb.Errors[0].Code != code {
		e.t.Fatalf("%s %s: errors %+v, want code %s", method, path, eb.Errors, code)
	}
	if field != "" {
		if got, _ := eb.Errors[0].Detail["field"].(string); got != field {
			e.t.Fatalf("%s %s: error names field %q, want %q (%+v)", method, path, got, field, eb.Errors)
		}
	}
}
