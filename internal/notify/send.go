package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DefaultTimeout bounds a Send whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// ErrNotConfigured is returned by Send when its Config names no server.
var ErrNotConfigured = errors.New("no mail server configured")

// ConfigError reports settings that cannot send mail whatever the server
// says. Field is the JSON name of the setting at fault.
type ConfigError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string { return e.Field + ": " + e.Reason }

// Message is an email. Text is the plain body; HTML, when set, is sent as
// its alternative (or alone, when Text is blank).
type Message struct {
	To          []string
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
}

// Attachment is a file attached to a Message.
type Attachment struct {
	Name        string
	ContentType string // "": application/octet-stream
	Data        []byte
}

// Send delivers msg through the server cfg names, in one SMTP session. The
// session ends by ctx's deadline (DefaultTimeout when it has none); each
// network step is bounded by what is left of it. It returns
// ErrNotConfigured when cfg names no server, a *ConfigError when cfg cannot
// produce a valid message, and otherwise the server's or the network's
// error, wrapped with the server's address. Send is safe for concurrent use.
//
// Credentials go over an unencrypted connection only when cfg turns both
// TLS and StartTLS off (as PortSIP allows); with StartTLS on and a server
// that does not offer it, PLAIN and LOGIN are refused except to localhost.
func Send(ctx context.Context, cfg Config, msg Message) error {
	if !cfg.Configured() {
		return ErrNotConfigured
	}
	if len(msg.To) == 0 {
		return errors.New("send mail: no recipients")
	}
	timeout := DefaultTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	if timeout <= 0 {
		return fmt.Errorf("send mail: %w", context.DeadlineExceeded)
	}
	m, err := buildMsg(cfg, msg)
	if err != nil {
		return err
	}
	host, port := cfg.host(), cfg.port()
	c, err := gomail.NewClient(host, clientOptions(cfg, port, timeout)...)
	if err != nil {
		return fmt.Errorf("send mail via %s:%d: %w", host, port, err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("send mail via %s:%d: %w", host, port, err)
	}
	return nil
}

func clientOptions(cfg Config, port int, timeout time.Duration) []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout)}
	switch {
	case cfg.TLS:
		opts = append(opts, gomail.WithSSL())
	case cfg.StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Auth == AuthDisable || cfg.Username == "" {
		return opts
	}
	plain, login := gomail.SMTPAuthPlain, gomail.SMTPAuthLogin
	if !cfg.TLS && !cfg.StartTLS {
		// The administrator turned encryption off: honour it, as PortSIP does.
		plain, login = gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc
	}
	opts = append(opts, gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	switch cfg.Auth {
	case AuthPlain:
		opts = append(opts, gomail.WithSMTPAuth(plain))
	case AuthLogin:
		opts = append(opts, gomail.WithSMTPAuth(login))
	default: // AUTO, and any unknown value: what the server offers of PLAIN and LOGIN
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(plain, login))
	}
	return opts
}

func buildMsg(cfg Config, msg Message) (*gomail.Msg, error) {
	from, err := cfg.sender()
	if err != nil {
		return nil, err
	}
	m := gomail.NewMsg()
	if err := m.From(from); err != nil {
		return nil, &ConfigError{Field: "username", Reason: fmt.Sprintf("sender %q is not an email address", from)}
	}
	if cfg.ReplyTo != "" {
		if err := m.ReplyTo(cfg.ReplyTo); err != nil {
			return nil, &ConfigError{Field: "reply_to", Reason: fmt.Sprintf("%q is not an email address", cfg.ReplyTo)}
		}
	}
	if err := m.To(msg.To...); err != nil {
		return nil, fmt.Errorf("send mail: recipients: %w", err)
	}
	m.Subject(oneLine(msg.Subject))
	m.SetDate()
	m.SetMessageID()
	switch {
	case msg.HTML == "":
		m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	case msg.Text == "":
		m.SetBodyString(gomail.TypeTextHTML, msg.HTML)
	default:
		m.SetBodyString(gomail.TypeTextPlain, msg.Text)
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}
	for _, a := range msg.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := m.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("send mail: attach %s: %w", a.Name, err)
		}
	}
	return m, nil
}

// sender is the From address: From, else Username when it is an address,
// else ReplyTo.
func (c Config) sender() (string, error) {
	if c.From != "" {
		return c.From, nil
	}
	for _, a := range []string{c.Username, c.ReplyTo} {
		if a == "" {
			continue
		}
		if _, err := mail.ParseAddress(a); err == nil {
			return a, nil
		}
	}
	return "", &ConfigError{Field: "username", Reason: "no sender address: username or reply_to must be an email address"}
}

// oneLine folds a header value onto one line, so that no rendered value can
// add a header.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
