package api

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/mailtest"
	"github.com/gopbx/gopbx/internal/notify"
	"github.com/gopbx/gopbx/internal/pbx"
)

// mailServer is the body that points notification settings at m, logging
// in with PLAIN as username.
func mailServer(m *mailtest.Mailpit, username string) map[string]any {
	host, port := m.SMTPHostPort()
	return map[string]any{"type": "SMTP", "server": host, "port": port, "username": username, "password": "s3cret!",
		"auth": "PLAIN", "enable_tls_ssl": false, "enable_starttls_auto": false}
}

// waitMail waits for the message with subject and returns it.
func waitMail(t *testing.T, m *mailtest.Mailpit, subject string) mailtest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := m.WaitMessage(ctx, func(s mailtest.Summary) bool { return s.Subject == subject })
	if err != nil {
		t.Fatalf("mail %q: %v", subject, err)
	}
	msg, err := m.Message(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestAdminNotification(t *testing.T) {
	m := mailtest.StartMailpit(t)
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		var raw json.RawMessage
		if code := e.do("GET", "/api/admin/notification", tok, nil, &raw); code != 200 {
			t.Fatalf("get: %d", code)
		}
		for _, want := range []string{`"type":"SMTP"`, `"auth":"AUTO"`, `"enable_tls_ssl":true`, `"enable_starttls_auto":false`,
			`"enable_tenant_access":true`, `"server":""`, `"port":0`, `"notify_ip_blocked":false`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("defaults: missing %s in %s", want, raw)
			}
		}

		upd := mailServer(m, "pbx@example.com")
		upd["reply_to"], upd["recipients"] = "noc@example.com", "ops@example.com, noc@example.com"
		upd["cpu_threshold"], upd["notify_cpu_exceeded_threshold"], upd["enable_tenant_access"] = 85.5, true, false
		if code := e.do("POST", "/api/admin/notification", tok, upd, nil); code != 200 {
			t.Fatalf("update: %d", code)
		}
		var got systemNotification
		e.do("GET", "/api/admin/notification", tok, nil, &got)
		host, port := m.SMTPHostPort()
		want := systemNotification{
			NotificationServer: NotificationServer{Type: "SMTP", Server: host, Port: port, ReplyTo: "noc@example.com", Username: "pbx@example.com",
				Auth: "PLAIN", Recipients: "ops@example.com,noc@example.com"},
			SystemNotificationEvents: SystemNotificationEvents{CPUThreshold: 85.5, NotifyCPUExceededThreshold: true},
		}
		if got != want {
			t.Fatalf("settings = %+v, want %+v", got, want)
		}
		e.do("GET", "/api/admin/notification", tok, nil, &raw)
		if strings.Contains(string(raw), "password") || strings.Contains(string(raw), "s3cret") {
			t.Fatalf("settings show the password: %s", raw)
		}

		// An update without a password keeps the stored one; notify reads
		// what the API stored.
		if code := e.do("POST", "/api/admin/notification", tok, map[string]any{"type": "SMTP", "username": "pbx@example.com", "auth": "LOGIN"}, nil); code != 200 {
			t.Fatalf("update without password: %d", code)
		}
		cfg, ok, err := notify.Load(t.Context(), e.db, pbx.SystemTenant)
		if err != nil || !ok {
			t.Fatalf("notify.Load: %v ok=%v", err, ok)
		}
		wantCfg := notify.Config{Type: notify.TypeSMTP, Server: host, Port: port, ReplyTo: "noc@example.com", Username: "pbx@example.com",
			Password: "s3cret!", Auth: notify.AuthLogin}
		if cfg != wantCfg {
			t.Fatalf("notify.Load = %+v, want %+v", cfg, wantCfg)
		}

		// The test email goes through the saved settings.
		subject := "gopbx test " + t.Name()
		if code := e.do("POST", "/api/admin/notification/test_email", tok,
			map[string]any{"recipient": "admin@example.com", "subject": subject, "content": "it works"}, nil); code != 200 {
			t.Fatalf("test_email: %d", code)
		}
		msg := waitMail(t, m, subject)
		if msg.From.Address != "pbx@example.com" || len(msg.To) != 1 || msg.To[0].Address != "admin@example.com" ||
			strings.TrimSpace(msg.Text) != "it works" || msg.Username != "pbx@example.com" {
			t.Fatalf("test email = from %v to %v text %q login %q", msg.From, msg.To, msg.Text, msg.Username)
		}

		// Validation names the field.
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"type": "SMTP", "username": "u", "port": 70000}, "port"},
			{map[string]any{"type": "SMTP", "username": "u", "port": -1}, "port"},
			{map[string]any{"type": "FAX", "username": "u"}, "type"},
			{map[string]any{"username": "u"}, "type"},
			{map[string]any{"type": "SMTP"}, "username"},
			{map[string]any{"type": "SMTP", "username": "u", "auth": "NTLM"}, "auth"},
			{map[string]any{"type": "SMTP", "username": "u", "reply_to": "not an address"}, "reply_to"},
			{map[string]any{"type": "SMTP", "username": "u", "recipients": "a@example.com,nope"}, "recipients"},
			{map[string]any{"type": "SMTP", "username": "u", "recipients": strings.Repeat("a@example.com,", 16)}, "recipients"},
			{map[string]any{"type": "SMTP", "username": "u", "server": "smtp://host"}, "server"},
		} {
			e.wantError("POST", "/api/admin/notification", tok, tc.body, 400, "VALIDATE_FAILED", tc.field)
		}
		e.do("GET", "/api/admin/notification", tok, nil, &got)
		if got.Auth != "LOGIN" || got.Port != port {
			t.Fatalf("a refused update changed the settings: %+v", got)
		}
		e.wantError("POST", "/api/admin/notification/test_email", tok,
			map[string]any{"recipient": "nobody", "subject": "s", "content": "c"}, 400, "VALIDATE_FAILED", "recipient")
		e.wantError("POST", "/api/admin/notification/test_email", tok,
			map[string]any{"recipient": "a@example.com", "content": "c"}, 400, "VALIDATE_FAILED", "subject")

		// An SMTP failure is a clear 4xx.
		broken := mailServer(m, "pbx@example.com")
		broken["port"] = closedPort(t)
		e.do("POST", "/api/admin/notification", tok, broken, nil)
		var eb errBody
		if code := e.do("POST", "/api/admin/notification/test_email", tok,
			map[string]any{"recipient": "a@example.com", "subject": "s", "content": "c"}, &eb); code != 400 ||
			len(eb.Errors) != 1 || eb.Errors[0].Code != "VALIDATE_FAILED" || !strings.Contains(eb.Errors[0].Message, "could not be sent") {
			t.Fatalf("test_email to a closed port: %d %+v", code, eb)
		}
		// No server at all names the server field.
		e.do("POST", "/api/admin/notification", tok, map[string]any{"type": "SMTP", "username": "u", "server": ""}, nil)
		e.wantError("POST", "/api/admin/notification/test_email", tok,
			map[string]any{"recipient": "a@example.com", "subject": "s", "content": "c"}, 400, "VALIDATE_FAILED", "server")

		// Only the system admin.
		a := e.createTenant(tok, "a.example.com")
		for _, who := range []string{e.tenantUser(a, "a.example.com", "alice", pbx.RoleAdmin), e.tenantUser(a, "a.example.com", "sam", pbx.RoleStandardUser)} {
			e.wantError("GET", "/api/admin/notification", who, nil, 403, "FORBIDDEN", "")
			e.wantError("POST", "/api/admin/notification", who, upd, 403, "FORBIDDEN", "")
			e.wantError("POST", "/api/admin/notification/test_email", who,
				map[string]any{"recipient": "a@example.com", "subject": "s", "content": "c"}, 403, "FORBIDDEN", "")
		}
		e.wantError("GET", "/api/admin/notification", "", nil, 401, "UNAUTHORIZED", "")

		var logs struct {
			Count int `json:"count"`
		}
		e.do("GET", "/api/audit_logs?filter=object_type%20eq%20'SYSTEM'", tok, nil, &logs)
		if logs.Count == 0 {
			t.Fatal("settings updates are not audited")
		}
		e.do("GET", "/api/audit_logs", tok, nil, &raw)
		if strings.Contains(string(raw), "s3cret") {
			t.Fatalf("audit log holds the password: %s", raw)
		}
	})
}

func TestTenantNotification(t *testing.T) {
	m := mailtest.StartMailpit(t)
	eachEnv(t, func(t *testing.T, e *env) {
		tok := e.adminToken()
		a, b := e.createTenant(tok, "a.example.com"), e.createTenant(tok, "b.example.com")
		ta, tb := e.tenantUser(a, "a.example.com", "alice", pbx.RoleAdmin), e.tenantUser(b, "b.example.com", "bob", pbx.RoleAdmin)
		aID, _ := pbx.ParseTenantID(a)
		bID, _ := pbx.ParseTenantID(b)
		shared := func(token string) bool {
			t.Helper()
			var got tenantNotification
			if code := e.do("GET", "/api/tenant/notification", token, nil, &got); code != 200 {
				t.Fatalf("get: %d", code)
			}
			return got.EnableSystemEmailServer
		}
		testEmail := func(token, subject string) int {
			return e.do("POST", "/api/tenant/notification/test_email", token, map[string]any{"recipient": "t@example.com", "subject": subject, "content": "hi"}, nil)
		}

		var got tenantNotification
		e.do("GET", "/api/tenant/notification", ta, nil, &got)
		if want := (tenantNotification{NotificationServer: defaultNotificationServer()}); got != want {
			t.Fatalf("defaults = %+v, want %+v", got, want)
		}
		e.wantError("POST", "/api/tenant/notification/test_email", ta,
			map[string]any{"recipient": "t@example.com", "subject": "s", "content": "c"}, 400, "VALIDATE_FAILED", "server")

		// The system shares its server: both tenants send through it.
		if code := e.do("POST", "/api/admin/notification", tok, mailServer(m, "system@example.com"), nil); code != 200 {
			t.Fatalf("system update: %d", code)
		}
		if !shared(ta) || !shared(tb) {
			t.Fatal("tenants do not use the shared system server")
		}
		if code := testEmail(ta, "via system "+t.Name()); code != 200 {
			t.Fatalf("test_email via system: %d", code)
		}
		if msg := waitMail(t, m, "via system "+t.Name()); msg.From.Address != "system@example.com" {
			t.Fatalf("via system: from %v", msg.From)
		}

		// Tenant a sets its own server; b is unchanged.
		own := mailServer(m, "pbx@a.example.com")
		own["notify_queue_call_lost"], own["recipients"] = true, "qm@a.example.com"
		if code := e.do("POST", "/api/tenant/notification", ta, own, nil); code != 200 {
			t.Fatalf("tenant update: %d", code)
		}
		e.do("GET", "/api/tenant/notification", ta, nil, &got)
		host, port := m.SMTPHostPort()
		want := tenantNotification{NotificationServer: NotificationServer{Type: "SMTP", Server: host, Port: port, Username: "pbx@a.example.com",
			Auth: "PLAIN", Recipients: "qm@a.example.com"}, TenantNotificationEvents: TenantNotificationEvents{NotifyQueueCallLost: true}}
		if got != want {
			t.Fatalf("tenant a = %+v, want %+v", got, want)
		}
		var raw json.RawMessage
		e.do("GET", "/api/tenant/notification", ta, nil, &raw)
		if strings.Contains(string(raw), "password") || strings.Contains(string(raw), "s3cret") {
			t.Fatalf("tenant settings show the password: %s", raw)
		}
		e.do("GET", "/api/tenant/notification", tb, nil, &got)
		if got.Server != "" || got.NotifyQueueCallLost || !got.EnableSystemEmailServer {
			t.Fatalf("tenant b sees a's settings: %+v", got)
		}
		if code := testEmail(ta, "own "+t.Name()); code != 200 {
			t.Fatalf("test_email own: %d", code)
		}
		if msg := waitMail(t, m, "own "+t.Name()); msg.From.Address != "pbx@a.example.com" {
			t.Fatalf("own server: from %v", msg.From)
		}
		if code := testEmail(tb, "b via system "+t.Name()); code != 200 {
			t.Fatalf("b test_email: %d", code)
		}
		if msg := waitMail(t, m, "b via system "+t.Name()); msg.From.Address != "system@example.com" {
			t.Fatalf("b: from %v", msg.From)
		}
		cfg, ok, err := notify.Load(t.Context(), e.db, aID)
		if err != nil || !ok || cfg.Username != "pbx@a.example.com" || cfg.Password != "s3cret!" {
			t.Fatalf("notify.Load(a) = %+v ok=%v err=%v", cfg, ok, err)
		}

		// A broken shared server does not show its errors to the tenant.
		broken := mailServer(m, "system@example.com")
		broken["port"] = closedPort(t)
		e.do("POST", "/api/admin/notification", tok, broken, nil)
		var eb errBody
		if code := e.do("POST", "/api/tenant/notification/test_email", tb,
			map[string]any{"recipient": "t@example.com", "subject": "s", "content": "c"}, &eb); code != 400 || len(eb.Errors) != 1 ||
			!strings.Contains(eb.Errors[0].Message, "system email server") || strings.Contains(eb.Errors[0].Message, host) {
			t.Fatalf("b through a broken system server: %d %+v", code, eb)
		}

		// The system stops sharing: b has no server, a keeps its own.
		e.do("POST", "/api/admin/notification", tok, map[string]any{"type": "SMTP", "username": "system@example.com", "enable_tenant_access": false}, nil)
		if shared(tb) || shared(ta) {
			t.Fatal("a tenant uses an unshared system server")
		}
		e.wantError("POST", "/api/tenant/notification/test_email", tb,
			map[string]any{"recipient": "t@example.com", "subject": "s", "content": "c"}, 400, "VALIDATE_FAILED", "server")
		if _, ok, _ := notify.Load(t.Context(), e.db, bID); ok {
			t.Fatal("notify.Load(b) found a server")
		}

		e.wantError("POST", "/api/tenant/notification", ta, map[string]any{"type": "SMTP", "username": "u", "port": 65536}, 400, "VALIDATE_FAILED", "port")
		e.wantError("POST", "/api/tenant/notification", ta, map[string]any{"type": "POP3", "username": "u"}, 400, "VALIDATE_FAILED", "type")
		e.wantError("POST", "/api/tenant/notification/test_email", ta,
			map[string]any{"recipient": "x", "subject": "s", "content": "c"}, 400, "VALIDATE_FAILED", "recipient")
		user := e.tenantUser(a, "a.example.com", "sam", pbx.RoleStandardUser)
		e.wantError("GET", "/api/tenant/notification", user, nil, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/tenant/notification", user, own, 403, "FORBIDDEN", "")
		e.wantError("POST", "/api/tenant/notification/test_email", user,
			map[string]any{"recipient": "t@example.com", "subject": "s", "content": "c"}, 403, "FORBIDDEN", "")
		// The system admin has no tenant until it switches into one.
		e.wantError("GET", "/api/tenant/notification", tok, nil, 403, "FORBIDDEN", "")
	})
}
