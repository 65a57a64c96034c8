package notify

import (
	"context"
	"fmt"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Type is the kind of mail service, as PortSIP names it.
type Type string

// The mail services. MS365 and GMAIL are sent by SMTP with a password (an
// app password) to the service's submission host when Server is blank;
// their OAuth flows are not supported.
const (
	TypeSMTP  Type = "SMTP"
	TypeMS365 Type = "MS365"
	TypeGmail Type = "GMAIL"
)

// String returns PortSIP's name of the type.
func (t Type) String() string { return string(t) }

// Auth is the SMTP authentication mechanism, as PortSIP names it.
type Auth string

// The authentication settings. AUTO picks PLAIN or LOGIN, whichever the
// server offers, as PortSIP does.
const (
	AuthDisable Auth = "DISABLE"
	AuthAuto    Auth = "AUTO"
	AuthLogin   Auth = "LOGIN"
	AuthPlain   Auth = "PLAIN"
)

// String returns PortSIP's name of the mechanism.
func (a Auth) String() string { return string(a) }

// Default ports, by security mode, used when Config.Port is 0.
const (
	DefaultPortTLS      = 465 // implicit TLS (SMTPS)
	DefaultPortStartTLS = 587 // submission with STARTTLS
	DefaultPort         = 25
)

// Config is a mail server's settings: the SMTP part of PortSIP's
// notification settings, under PortSIP's JSON names. The API stores it,
// with the notification fields around it, as the settings documents
// SystemSetting and TenantSetting.
type Config struct {
	Type     Type   `json:"type"`
	Server   string `json:"server"`
	Port     int    `json:"port"` // 0: the default port of the security mode
	ReplyTo  string `json:"reply_to"`
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     Auth   `json:"auth"`
	// TLS is enable_tls_ssl: the connection is TLS from the start (SMTPS).
	TLS bool `json:"enable_tls_ssl"`
	// StartTLS is enable_starttls_auto: upgrade a plain connection with
	// STARTTLS when the server offers it. It is ignored when TLS is set.
	StartTLS bool `json:"enable_starttls_auto"`
	// From is the sender address. When blank, Username is used if it is an
	// address, then ReplyTo. PortSIP's settings have no such field; it is
	// for callers with a template's sender.
	From string `json:"-"`
}

// DefaultConfig returns PortSIP's defaults: SMTP, AUTO authentication and
// implicit TLS, with no server.
func DefaultConfig() Config {
	return Config{Type: TypeSMTP, Auth: AuthAuto, TLS: true}
}

// Configured reports whether c names a server to send through: a Server,
// or an MS365 or GMAIL account, whose host is known.
func (c Config) Configured() bool { return c.host() != "" }

// host is the server mail goes to.
func (c Config) host() string {
	if c.Server != "" {
		return c.Server
	}
	if c.Username == "" {
		return ""
	}
	switch c.Type {
	case TypeMS365:
		return "smtp.office365.com"
	case TypeGmail:
		return "smtp.gmail.com"
	}
	return ""
}

// port is the port mail goes to.
func (c Config) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.TLS:
		return DefaultPortTLS
	case c.StartTLS || c.Type == TypeMS365 || c.Type == TypeGmail:
		return DefaultPortStartTLS
	}
	return DefaultPort
}

// EffectiveConfig returns the settings a tenant's mail goes out with: the
// tenant's own when it names a server, else the system's. ok is false when
// neither is configured. The caller passes system as nil when the system's
// server is not shared with tenants (enable_tenant_access is off); Load
// does this from the stored settings.
func EffectiveConfig(system, tenant *Config) (cfg Config, ok bool) {
	if tenant != nil && tenant.Configured() {
		return *tenant, true
	}
	if system != nil && system.Configured() {
		return *system, true
	}
	return Config{}, false
}

// SystemSetting is the name of the system's notification settings document.
const SystemSetting = "notification"

// TenantSetting is the name of a tenant's notification settings document.
// The settings table has no tenant column, so the tenant ID is part of the
// name; tenant IDs are never reused, so a deleted tenant's document cannot
// reach a new tenant.
func TenantSetting(t pbx.TenantID) string { return "tenant_notification:" + t.String() }

// Settings reads a named settings document into v, leaving v as it is when
// the document was never written. *store.DB implements it.
type Settings interface {
	Setting(ctx context.Context, name string, v any) error
}

// SystemDocument is the part of the system's settings document that mail
// routing needs.
type SystemDocument struct {
	Config
	// TenantAccess is enable_tenant_access: tenants without a server of
	// their own send through the system's.
	TenantAccess bool `json:"enable_tenant_access"`
}

// DefaultSystemDocument is the system document before it is first written.
func DefaultSystemDocument() SystemDocument {
	return SystemDocument{Config: DefaultConfig(), TenantAccess: true}
}

// Load reads the stored settings and returns what tenant's mail goes out
// with (tenant pbx.SystemTenant: the system's own mail); ok is false when
// no server is configured for it. It fails only when the settings cannot be
// read.
func Load(ctx context.Context, s Settings, tenant pbx.TenantID) (cfg Config, ok bool, err error) {
	sys := DefaultSystemDocument()
	if err := s.Setting(ctx, SystemSetting, &sys); err != nil {
		return Config{}, false, fmt.Errorf("load notification settings: %w", err)
	}
	if tenant == pbx.SystemTenant {
		cfg, ok = EffectiveConfig(&sys.Config, nil)
		return cfg, ok, nil
	}
	own := DefaultConfig()
	if err := s.Setting(ctx, TenantSetting(tenant), &own); err != nil {
		return Config{}, false, fmt.Errorf("load notification settings of tenant %s: %w", tenant, err)
	}
	var shared *Config
	if sys.TenantAccess {
		shared = &sys.Config
	}
	cfg, ok = EffectiveConfig(shared, &own)
	return cfg, ok, nil
}
