package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/store/storetest"
)

// mustRunMain boots the real server on 127.0.0.1:0 listeners with a temp
// data folder and plain HTTP, and closes it when the test ends.
func mustRunMain(t *testing.T, extra ...string) *Main {
	t.Helper()
	return mustRunMainAt(t, nil, extra...)
}

// mustRunMainAt is mustRunMain with the server's clock: now, when not nil,
// is what the server takes for the time (office hours, holidays).
func mustRunMainAt(t *testing.T, now func() time.Time, extra ...string) *Main {
	t.Helper()
	m := NewMain()
	if now != nil {
		m.Now = now
	}
	var out bytes.Buffer
	m.Stdout = &out
	args := append([]string{"--data", t.TempDir(), "--api-listen", "127.0.0.1:0", "--api-insecure-http",
		"--provision-listen", "127.0.0.1:0", "--sip-udp", "127.0.0.1:0", "--sip-tcp", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0",
		"--admin-password", "Admin#12345", "--log-level", testLogLevel()}, extra...)
	if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func apiCall(t *testing.T, m *Main, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+m.APIAddr()+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func login(t *testing.T, m *Main, user, pw, domain string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if st := apiCall(t, m, "POST", "/api/login", "", map[string]string{"username": user, "password": pw, "domain": domain}, &tok); st != 200 {
		t.Fatalf("login %s: status %d", user, st)
	}
	return tok.AccessToken
}

func TestMainBootAndRestart(t *testing.T) {
	for name, dsn := range storetest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			m := mustRunMain(t, "--data", dir, "--db", dsn)
			tok := login(t, m, "admin", "Admin#12345", "")
			var doc map[string]any
			if st := apiCall(t, m, "GET", "/api/openapi.json", "", nil, &doc); st != 200 || doc["openapi"] != "3.1.0" {
				t.Fatalf("openapi.json: %d %v", st, doc["openapi"])
			}
			if st := apiCall(t, m, "POST", "/api/logout", tok, nil, nil); st/100 != 2 {
				t.Fatalf("logout: %d", st)
			}
			m.Close()
			// A restart on the same data finds the admin again, and the
			// first-start password is not printed twice.
			m2 := NewMain()
			var out bytes.Buffer
			m2.Stdout = &out
			args := []string{"--data", dir, "--db", dsn, "--api-listen", "127.0.0.1:0", "--api-insecure-http", "--provision-listen", "",
				"--sip-udp", "", "--sip-tcp", "", "--sip-tls", "", "--admin-password", "ignored-now", "--log-level", "error"}
			if err := m2.ParseFlags(args, func(string) string { return "" }); err != nil {
				t.Fatal(err)
			}
			if err := m2.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer m2.Close()
			if strings.Contains(out.String(), "password") {
				t.Errorf("restart printed a password: %q", out.String())
			}
			login(t, m2, "admin", "Admin#12345", "")
		})
	}
}

func TestMainGeneratesPassword(t *testing.T) {
	m := NewMain()
	var out bytes.Buffer
	m.Stdout = &out
	args := []string{"--data", t.TempDir(), "--api-listen", "127.0.0.1:0", "--provision-listen", "", "--sip-udp", "", "--sip-tcp", "", "--sip-tls", "", "--log-level", "error"}
	if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	line := out.String()
	i := strings.Index(line, "password ")
	if i < 0 || !strings.Contains(line, "https://") {
		t.Fatalf("first start printed %q", line)
	}
	pw := strings.Fields(line[i+len("password "):])[0]
	// HTTPS with the self-signed certificate made in the data folder.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: insecureTLS()}}
	b, _ := json.Marshal(map[string]string{"username": "admin", "password": pw})
	resp, err := client.Post("https://"+m.APIAddr()+"/api/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login with printed password: %d", resp.StatusCode)
	}
}

func TestMainErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad flag", []string{"--nope"}, nil, "not defined"},
		{"bad log format", []string{"--log-format", "xml"}, nil, "--log-format"},
		{"bad env", nil, map[string]string{"GOPBX_NODE": "x"}, "GOPBX_NODE"},
		{"bad rtp ports", []string{"--rtp-ports", "9-8"}, nil, "--rtp-ports"},
	}
	for _, tt := range tests {
		m := NewMain()
		err := m.ParseFlags(tt.args, func(k string) string { return tt.env[k] })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	// A port in use fails Run with a clear error.
	m := NewMain()
	if err := m.ParseFlags([]string{"--data", t.TempDir(), "--api-listen", ln.Addr().String(), "--provision-listen", "",
		"--sip-udp", "", "--sip-tcp", "", "--sip-tls", "", "--log-level", "error"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	err = m.Run(context.Background())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("port in use: %v", err)
	}
	// The environment sets flags; the command line wins.
	m = NewMain()
	env := map[string]string{"GOPBX_API_LISTEN": "127.0.0.1:1", "GOPBX_LOG_LEVEL": "debug"}
	if err := m.ParseFlags([]string{"--api-listen", "127.0.0.1:2"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if m.Config.APIListen != "127.0.0.1:2" || m.Config.LogLevel != "debug" {
		t.Fatalf("config %+v", m.Config)
	}
}

// testLogLevel is the servers' log level in tests: error, or what
// $GOPBX_TEST_LOG_LEVEL says when a failure needs the logs.
func testLogLevel() string {
	if l := os.Getenv("GOPBX_TEST_LOG_LEVEL"); l != "" {
		return l
	}
	return "error"
}
