package api

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/notify"
	"github.com/gopbx/gopbx/internal/pbx"
)

// The notification settings: the mail server of the system
// (/admin/notification) and of each tenant (/tenant/notification), with the
// events each notifies of. They are stored as settings documents, under
// notify.SystemSetting and notify.TenantSetting(tenant), in the JSON that
// notify.Load reads: PortSIP's field names, the password included. No
// answer ever holds the password.
//
// An update changes the fields present and keeps the others; type and
// username are required, as in PortSIP. An absent password keeps the stored
// one, so that a client can send back what it read; a present one, even
// blank, replaces it.
//
// A tenant whose settings name no server of its own sends through the
// system's server when the system shares it (enable_tenant_access).
// GET /tenant/notification shows this as enable_system_email_server: true
// when the tenant names no server and the system shares a configured one,
// which is when the tenant's mail goes out through the system's server. It
// is read-only: a tenant opts out by naming its own server.

// testEmailTimeout bounds the SMTP session of a test email.
const testEmailTimeout = 20 * time.Second

// maxNotificationRecipients is PortSIP's limit on the recipients list.
const maxNotificationRecipients = 15

// NotificationServer is the mail server part of the notification settings,
// as PortSIP shows it: without the password.
type NotificationServer struct {
	Type               string `json:"type" enum:"SMTP,MS365,GMAIL"`
	Server             string `json:"server"`
	Port               int    `json:"port" minimum:"0" maximum:"65535"`
	ReplyTo            string `json:"reply_to"`
	Username           string `json:"username" maxLength:"128"`
	Auth               string `json:"auth" enum:"DISABLE,AUTO,LOGIN,PLAIN" default:"AUTO"`
	EnableTLSSSL       bool   `json:"enable_tls_ssl" default:"true"`
	EnableStartTLSAuto bool   `json:"enable_starttls_auto" default:"false"`
	Recipients         string `json:"recipients"`
}

// NotificationServerUpdate is NotificationServer in an update.
type NotificationServerUpdate struct {
	Type               string  `json:"type" enum:"SMTP,MS365,GMAIL"`
	Server             *string `json:"server,omitempty"`
	Port               *int    `json:"port,omitempty" minimum:"0" maximum:"65535"`
	ReplyTo            *string `json:"reply_to,omitempty"`
	Username           string  `json:"username" maxLength:"128"`
	Password           *string `json:"password,omitempty"`
	Auth               *string `json:"auth,omitempty" enum:"DISABLE,AUTO,LOGIN,PLAIN"`
	EnableTLSSSL       *bool   `json:"enable_tls_ssl,omitempty"`
	EnableStartTLSAuto *bool   `json:"enable_starttls_auto,omitempty"`
	Recipients         *string `json:"recipients,omitempty"`
}

// SystemNotificationEvents are the system's own notification settings.
type SystemNotificationEvents struct {
	EnableTenantAccess              bool    `json:"enable_tenant_access" default:"true"`
	HardDiskThreshold               float64 `json:"hard_disk_threshold" minimum:"0"`
	NotifyHardDiskExceededThreshold bool    `json:"notify_hard_disk_exceeded_threshold" default:"false"`
	CPUThreshold                    float64 `json:"cpu_threshold" minimum:"0"`
	NotifyCPUExceededThreshold      bool    `json:"notify_cpu_exceeded_threshold" default:"false"`
	MemoryThreshold                 float64 `json:"memory_threshold" minimum:"0"`
	NotifyMemoryExceededThreshold   bool    `json:"notify_memory_exceeded_threshold" default:"false"`
	NotifyIPBlocked                 bool    `json:"notify_ip_blocked" default:"false"`
	NotifyLicenseLimited            bool    `json:"notify_license_limited" default:"false"`
	NotifyServiceDisconnected       bool    `json:"notify_service_disconnected" default:"false"`
	NotifyPushCertsUpdateFailed     bool    `json:"notify_push_certs_update_failed" default:"false"`
}

// SystemNotificationEventsUpdate is SystemNotificationEvents in an update.
type SystemNotificationEventsUpdate struct {
	EnableTenantAccess              *bool    `json:"enable_tenant_access,omitempty"`
	HardDiskThreshold               *float64 `json:"hard_disk_threshold,omitempty" minimum:"0"`
	NotifyHardDiskExceededThreshold *bool    `json:"notify_hard_disk_exceeded_threshold,omitempty"`
	CPUThreshold                    *float64 `json:"cpu_threshold,omitempty" minimum:"0"`
	NotifyCPUExceededThreshold      *bool    `json:"notify_cpu_exceeded_threshold,omitempty"`
	MemoryThreshold                 *float64 `json:"memory_threshold,omitempty" minimum:"0"`
	NotifyMemoryExceededThreshold   *bool    `json:"notify_memory_exceeded_threshold,omitempty"`
	NotifyIPBlocked                 *bool    `json:"notify_ip_blocked,omitempty"`
	NotifyLicenseLimited            *bool    `json:"notify_license_limited,omitempty"`
	NotifyServiceDisconnected       *bool    `json:"notify_service_disconnected,omitempty"`
	NotifyPushCertsUpdateFailed     *bool    `json:"notify_push_certs_update_failed,omitempty"`
}

// TenantNotificationEvents are a tenant's notification settings.
type TenantNotificationEvents struct {
	NotifyUserRegistration    bool `json:"notify_user_registration" default:"false"`
	NotifyQueueSLABreached    bool `json:"notify_queue_sla_breached" default:"false"`
	NotifyQueueCallback       bool `json:"notify_queue_callback" default:"false"`
	NotifyQueueCallbackFailed bool `json:"notify_queue_callback_failed" default:"false"`
	NotifyQueueCallLost       bool `json:"notify_queue_call_lost" default:"false"`
}

// TenantNotificationEventsUpdate is TenantNotificationEvents in an update.
type TenantNotificationEventsUpdate struct {
	NotifyUserRegistration    *bool `json:"notify_user_registration,omitempty"`
	NotifyQueueSLABreached    *bool `json:"notify_queue_sla_breached,omitempty"`
	NotifyQueueCallback       *bool `json:"notify_queue_callback,omitempty"`
	NotifyQueueCallbackFailed *bool `json:"notify_queue_callback_failed,omitempty"`
	NotifyQueueCallLost       *bool `json:"notify_queue_call_lost,omitempty"`
}

// systemNotification is GET /admin/notification.
type systemNotification struct {
	NotificationServer
	SystemNotificationEvents
}

// systemNotificationDoc is the stored system document.
type systemNotificationDoc struct {
	NotificationServer
	SystemNotificationEvents
	Password string `json:"password"`
}

type systemNotificationUpdate struct {
	NotificationServerUpdate
	SystemNotificationEventsUpdate
}

// tenantNotification is GET /tenant/notification.
type tenantNotification struct {
	NotificationServer
	EnableSystemEmailServer bool `json:"enable_system_email_server" readOnly:"true"`
	TenantNotificationEvents
}

// tenantNotificationDoc is a stored tenant document.
type tenantNotificationDoc struct {
	NotificationServer
	TenantNotificationEvents
	Password string `json:"password"`
}

type tenantNotificationUpdate struct {
	NotificationServerUpdate
	TenantNotificationEventsUpdate
}

// testEmailInput is the body of both test_email operations.
type testEmailInput struct {
	Body struct {
		Recipient string `json:"recipient"`
		Subject   string `json:"subject"`
		Content   string `json:"content"`
	}
}

func defaultNotificationServer() NotificationServer {
	d := notify.DefaultConfig()
	return NotificationServer{Type: string(d.Type), Auth: string(d.Auth), EnableTLSSSL: d.TLS, EnableStartTLSAuto: d.StartTLS}
}

// config is the mail server n and password describe.
func (n NotificationServer) config(password string) notify.Config {
	return notify.Config{Type: notify.Type(n.Type), Server: n.Server, Port: n.Port, ReplyTo: n.ReplyTo, Username: n.Username,
		Password: password, Auth: notify.Auth(n.Auth), TLS: n.EnableTLSSSL, StartTLS: n.EnableStartTLSAuto}
}

// validate checks what the schema cannot. Errors name the field.
func (n *NotificationServer) validate() error {
	n.Server, n.ReplyTo, n.Username = strings.TrimSpace(n.Server), strings.TrimSpace(n.ReplyTo), strings.TrimSpace(n.Username)
	if strings.ContainsAny(n.Server, " \t/@") {
		return pbx.FieldErrorf("server", "server must be a host name or IP address")
	}
	if n.ReplyTo != "" {
		if _, err := mail.ParseAddress(n.ReplyTo); err != nil {
			return pbx.FieldErrorf("reply_to", "reply_to must be an email address")
		}
	}
	var list []string
	for _, r := range strings.Split(n.Recipients, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if _, err := mail.ParseAddress(r); err != nil {
			return pbx.FieldErrorf("recipients", "%q is not an email address", r)
		}
		list = append(list, r)
	}
	if len(list) > maxNotificationRecipients {
		return pbx.FieldErrorf("recipients", "recipients may list up to %d addresses", maxNotificationRecipients)
	}
	n.Recipients = strings.Join(list, ",")
	return nil
}

// registerNotification serves the notification settings of the system
// and of the tenant.
func (s *Server) registerNotification() {
	admin := []string{"Administration"}
	handle(s, huma.Operation{OperationID: "get_system_notification_settings", Method: http.MethodGet, Path: "/admin/notification", Tags: admin,
		Summary: "Retrieve system notification settings"},
		system, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body systemNotification }, error) {
			doc, err := s.systemNotification(ctx)
			if err != nil {
				return nil, err
			}
			return &struct{ Body systemNotification }{Body: doc.view()}, nil
		})
	handle(s, huma.Operation{OperationID: "update_system_notification_settings", Method: http.MethodPost, Path: "/admin/notification", Tags: admin,
		Summary: "Update system notification settings"},
		system, func(ctx context.Context, p *principal, in *struct{ Body systemNotificationUpdate }) (*noContent, error) {
			old, err := s.systemNotification(ctx)
			if err != nil {
				return nil, err
			}
			doc := old
			if err := mergePatch(&doc, &in.Body); err != nil {
				return nil, err
			}
			if err := doc.NotificationServer.validate(); err != nil {
				return nil, err
			}
			if err := s.db.SetSetting(ctx, notify.SystemSetting, doc); err != nil {
				return nil, err
			}
			s.auditSystem(ctx, p, "UPDATE", "SYSTEM", "notification", old.view(), doc.view())
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "send_system_test_email", Method: http.MethodPost, Path: "/admin/notification/test_email", Tags: admin,
		Summary: "Test email"},
		system, func(ctx context.Context, p *principal, in *testEmailInput) (*noContent, error) {
			doc, err := s.systemNotification(ctx)
			if err != nil {
				return nil, err
			}
			return &noContent{}, s.sendTestEmail(ctx, doc.config(doc.Password), false, in)
		})

	tags := []string{"Notification"}
	handle(s, huma.Operation{OperationID: "get_notification_settings", Method: http.MethodGet, Path: "/tenant/notification", Tags: tags,
		Summary: "Retrieve notification settings"},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body tenantNotification }, error) {
			doc, err := s.tenantNotification(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			_, shared, _, err := s.tenantMailConfig(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			return &struct{ Body tenantNotification }{Body: doc.view(shared)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_notification_settings", Method: http.MethodPost, Path: "/tenant/notification", Tags: tags,
		Summary: "Update notification settings"},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body tenantNotificationUpdate }) (*noContent, error) {
			t, err := s.db.Tenant(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			old, err := s.tenantNotification(ctx, t.ID)
			if err != nil {
				return nil, err
			}
			doc := old
			if err := mergePatch(&doc, &in.Body); err != nil {
				return nil, err
			}
			if err := doc.NotificationServer.validate(); err != nil {
				return nil, err
			}
			if err := s.db.SetSetting(ctx, notify.TenantSetting(t.ID), doc); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "TENANT", t.Name, old.view(false), doc.view(false))
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "send_test_email", Method: http.MethodPost, Path: "/tenant/notification/test_email", Tags: tags,
		Summary: "Test email"},
		tenantAdmin, func(ctx context.Context, p *principal, in *testEmailInput) (*noContent, error) {
			cfg, shared, ok, err := s.tenantMailConfig(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, pbx.FieldErrorf("server", "no email server is configured: set the tenant's own, or have the system administrator share the system's")
			}
			return &noContent{}, s.sendTestEmail(ctx, cfg, shared, in)
		})
}

func (d systemNotificationDoc) view() systemNotification {
	return systemNotification{NotificationServer: d.NotificationServer, SystemNotificationEvents: d.SystemNotificationEvents}
}

func (d tenantNotificationDoc) view(shared bool) tenantNotification {
	return tenantNotification{NotificationServer: d.NotificationServer, EnableSystemEmailServer: shared, TenantNotificationEvents: d.TenantNotificationEvents}
}

// systemNotification returns the stored system settings over PortSIP's
// defaults.
func (s *Server) systemNotification(ctx context.Context) (systemNotificationDoc, error) {
	doc := systemNotificationDoc{NotificationServer: defaultNotificationServer(),
		SystemNotificationEvents: SystemNotificationEvents{EnableTenantAccess: notify.DefaultSystemDocument().TenantAccess}}
	err := s.db.Setting(ctx, notify.SystemSetting, &doc)
	return doc, err
}

// tenantNotification returns the stored settings of tenant over PortSIP's
// defaults.
func (s *Server) tenantNotification(ctx context.Context, tenant pbx.TenantID) (tenantNotificationDoc, error) {
	doc := tenantNotificationDoc{NotificationServer: defaultNotificationServer()}
	err := s.db.Setting(ctx, notify.TenantSetting(tenant), &doc)
	return doc, err
}

// tenantMailConfig returns the server tenant's mail goes out with, whether
// it is the system's (shared), and whether there is one (ok).
func (s *Server) tenantMailConfig(ctx context.Context, tenant pbx.TenantID) (cfg notify.Config, shared, ok bool, err error) {
	own, err := s.tenantNotification(ctx, tenant)
	if err != nil {
		return cfg, false, false, err
	}
	sys, err := s.systemNotification(ctx)
	if err != nil {
		return cfg, false, false, err
	}
	ownCfg, sysCfg := own.config(own.Password), sys.config(sys.Password)
	var offered *notify.Config
	if sys.EnableTenantAccess {
		offered = &sysCfg
	}
	cfg, ok = notify.EffectiveConfig(offered, &ownCfg)
	return cfg, ok && !ownCfg.Configured(), ok, nil
}

// sendTestEmail sends the test email of in through cfg. shared is set when
// cfg is the system's server used by a tenant: the tenant's admins are then
// not shown the system server's errors, which name its host and account.
func (s *Server) sendTestEmail(ctx context.Context, cfg notify.Config, shared bool, in *testEmailInput) error {
	b := &in.Body
	if _, err := mail.ParseAddress(strings.TrimSpace(b.Recipient)); err != nil {
		return pbx.FieldErrorf("recipient", "recipient must be an email address")
	}
	ctx, cancel := context.WithTimeout(ctx, testEmailTimeout)
	defer cancel()
	err := notify.Send(ctx, cfg, notify.Message{To: []string{strings.TrimSpace(b.Recipient)}, Subject: b.Subject, Text: b.Content})
	var ce *notify.ConfigError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, notify.ErrNotConfigured):
		return pbx.FieldErrorf("server", "no email server is configured")
	case shared:
		s.log.Warn("test email through the system server failed", "err", err)
		return pbx.Errorf(pbx.EINVALID, "the system email server did not accept the message; ask the system administrator")
	case errors.As(err, &ce):
		return pbx.FieldErrorf(ce.Field, "%s", ce.Reason)
	default:
		return pbx.Errorf(pbx.EINVALID, "the email could not be sent: %v", err)
	}
}
