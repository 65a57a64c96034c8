package notify_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gopbx/gopbx/internal/notify"
	"github.com/gopbx/gopbx/internal/pbx"
)

func TestEffectiveConfig(t *testing.T) {
	sys := &notify.Config{Server: "smtp.system.example", Username: "sys"}
	own := &notify.Config{Server: "smtp.tenant.example", Username: "own"}
	blank := &notify.Config{Type: notify.TypeSMTP, Username: "someone"}
	gmail := &notify.Config{Type: notify.TypeGmail, Username: "me@gmail.com"}
	for _, tc := range []struct {
		name           string
		system, tenant *notify.Config
		want           string // Username of the result; "" when !ok
	}{
		{"own wins", sys, own, "own"},
		{"own without system", nil, own, "own"},
		{"system when own blank", sys, blank, "sys"},
		{"system when own nil", sys, nil, "sys"},
		{"gmail needs no server", sys, gmail, "me@gmail.com"},
		{"none", nil, blank, ""},
		{"system blank", blank, nil, ""},
	} {
		cfg, ok := notify.EffectiveConfig(tc.system, tc.tenant)
		if got := map[bool]string{true: cfg.Username}[ok]; got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: got %q ok=%v, want %q", tc.name, cfg.Username, ok, tc.want)
		}
	}
}

// fakeSettings is a settings store of JSON documents.
type fakeSettings map[string]string

func (f fakeSettings) Setting(_ context.Context, name string, v any) error {
	raw, ok := f[name]
	if !ok {
		return nil
	}
	return json.Unmarshal([]byte(raw), v)
}

func TestLoad(t *testing.T) {
	const tenant = pbx.TenantID(42)
	sys := `{"type":"SMTP","server":"smtp.system.example","port":2525,"username":"sys@example.com","password":"pw","auth":"PLAIN","enable_tls_ssl":false,"enable_tenant_access":%s}`
	for _, tc := range []struct {
		name     string
		docs     fakeSettings
		tenant   pbx.TenantID
		wantHost string
	}{
		{"nothing stored", fakeSettings{}, tenant, ""},
		{"system shared by default", fakeSettings{notify.SystemSetting: `{"server":"smtp.system.example"}`}, tenant, "smtp.system.example"},
		{"system shared", fakeSettings{notify.SystemSetting: sprintf(sys, "true")}, tenant, "smtp.system.example"},
		{"system not shared", fakeSettings{notify.SystemSetting: sprintf(sys, "false")}, tenant, ""},
		{"system's own mail", fakeSettings{notify.SystemSetting: sprintf(sys, "false")}, pbx.SystemTenant, "smtp.system.example"},
		{"tenant's own", fakeSettings{notify.SystemSetting: sprintf(sys, "true"),
			notify.TenantSetting(tenant): `{"server":"smtp.tenant.example"}`}, tenant, "smtp.tenant.example"},
		{"other tenant's", fakeSettings{notify.TenantSetting(7): `{"server":"smtp.tenant.example"}`}, tenant, ""},
	} {
		cfg, ok, err := notify.Load(context.Background(), tc.docs, tc.tenant)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ok != (tc.wantHost != "") || cfg.Server != tc.wantHost {
			t.Errorf("%s: server %q ok=%v, want %q", tc.name, cfg.Server, ok, tc.wantHost)
		}
	}
	cfg, _, _ := notify.Load(context.Background(), fakeSettings{notify.SystemSetting: sprintf(sys, "true")}, tenant)
	want := notify.Config{Type: notify.TypeSMTP, Server: "smtp.system.example", Port: 2525, Username: "sys@example.com",
		Password: "pw", Auth: notify.AuthPlain}
	if cfg != want {
		t.Errorf("loaded %+v, want %+v", cfg, want)
	}
	if got := notify.TenantSetting(tenant); got != "tenant_notification:42" {
		t.Errorf("TenantSetting = %q", got)
	}
}
