// Package notify sends the PBX's email: voicemail to email, test emails and,
// later, the other notifications PortSIP defines. It holds the SMTP settings
// of PortSIP's /admin/notification and /tenant/notification (Config), which
// of them a tenant's mail goes out with (EffectiveConfig, Load), the sender
// (Send, built on github.com/wneessen/go-mail) and the message templates
// (Templates).
//
// The API owns the settings documents and writes them with store.DB's
// SetSetting under SystemSetting and TenantSetting; this package reads them
// through the one-method Settings interface, so it does not import the store.
package notify
