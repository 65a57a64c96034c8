package notify_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/mailtest"
	"github.com/gopbx/gopbx/internal/notify"
)

// wav returns a second of 8 kHz 16-bit mono PCM as a WAV file.
func wav(tb testing.TB) []byte {
	tb.Helper()
	const rate, n = 8000, 8000
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, le, []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)})
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	binary.Write(&b, le, pcm)
	return b.Bytes()
}

// mailpitConfig is a Config for m's plain SMTP server.
func mailpitConfig(m *mailtest.Mailpit, auth notify.Auth) notify.Config {
	host, port := m.SMTPHostPort()
	return notify.Config{Type: notify.TypeSMTP, Server: host, Port: port, Username: "pbx@example.com", Password: "secret",
		Auth: auth, ReplyTo: "support@example.com"}
}

func TestSendVoicemail(t *testing.T) {
	m := mailtest.StartMailpit(t)
	data := wav(t)
	ts, err := notify.NewTemplates(notify.DefaultTemplates()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  func(notify.Config) notify.Config
		// wantUser is the login mailpit records; it records LOGIN's only.
		wantUser string
	}{
		{"plain", func(c notify.Config) notify.Config { c.Auth = notify.AuthPlain; return c }, ""},
		{"login", func(c notify.Config) notify.Config { c.Auth = notify.AuthLogin; return c }, "pbx@example.com"},
		{"auto", func(c notify.Config) notify.Config { c.Auth = notify.AuthAuto; return c }, ""},
		{"disable", func(c notify.Config) notify.Config { c.Auth = notify.AuthDisable; return c }, ""},
		// mailpit offers no STARTTLS: "auto" carries on in the clear, and
		// PLAIN is allowed because the server is on loopback.
		{"starttls-auto", func(c notify.Config) notify.Config { c.StartTLS = true; c.Auth = notify.AuthPlain; return c }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			msg, err := ts.Render(notify.VoicemailReceived, notify.Voicemail{Caller: "1001", CallerName: "Alice",
				Extension: "1002-" + tc.name, Date: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), Duration: 65 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			msg.To = []string{"bob+" + tc.name + "@example.com"}
			msg.Attachments = []notify.Attachment{{Name: "voicemail.wav", ContentType: "audio/wav", Data: data}}
			if err := notify.Send(ctx, tc.cfg(mailpitConfig(m, "")), msg); err != nil {
				t.Fatal(err)
			}
			wantSubject := "New voicemail from Alice <1001> to 1002-" + tc.name
			s, err := m.WaitMessage(ctx, func(s mailtest.Summary) bool { return s.Subject == wantSubject })
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Message(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.From.Address != "pbx@example.com" || len(got.To) != 1 || got.To[0].Address != msg.To[0] ||
				len(got.ReplyTo) != 1 || got.ReplyTo[0].Address != "support@example.com" {
				t.Errorf("from %v to %v reply-to %v", got.From, got.To, got.ReplyTo)
			}
			for _, want := range []string{"Caller:   Alice <1001>", "Callee:   1002-" + tc.name, "Date:     2025-03-04 05:06:07 UTC", "Duration: 1:05"} {
				if !strings.Contains(got.Text, want) {
					t.Errorf("text %q lacks %q", got.Text, want)
				}
			}
			if got.Username != tc.wantUser {
				t.Errorf("SMTP login %q, want %q", got.Username, tc.wantUser)
			}
			if len(got.Attachments) != 1 {
				t.Fatalf("attachments = %+v, want one", got.Attachments)
			}
			a := got.Attachments[0]
			if a.FileName != "voicemail.wav" || a.ContentType != "audio/wav" || !bytes.Equal(a.Data, data) {
				t.Fatalf("attachment %s %s %d bytes, want voicemail.wav audio/wav %d bytes, identical", a.FileName, a.ContentType, len(a.Data), len(data))
			}
		})
	}
}

func TestSendHTML(t *testing.T) {
	m := mailtest.StartMailpit(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cfg := mailpitConfig(m, notify.AuthDisable)
	cfg.From = "Voicemail <vm@example.com>"
	msg := notify.Message{To: []string{"a@example.com", "b@example.com"}, Subject: "two\r\nBcc: evil@example.com", Text: "plain", HTML: "<p>rich</p>"}
	if err := notify.Send(ctx, cfg, msg); err != nil {
		t.Fatal(err)
	}
	s, err := m.WaitMessage(ctx, func(s mailtest.Summary) bool { return strings.HasPrefix(s.Subject, "two") })
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Message(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "two Bcc: evil@example.com" || got.From.Address != "vm@example.com" || got.From.Name != "Voicemail" ||
		len(got.To) != 2 || strings.TrimSpace(got.Text) != "plain" || !strings.Contains(got.HTML, "<p>rich</p>") {
		t.Fatalf("message = %+v", got)
	}
}

func TestSendErrors(t *testing.T) {
	m := mailtest.StartMailpit(t)
	msg := notify.Message{To: []string{"a@example.com"}, Subject: "x", Text: "x"}
	ctx := t.Context()

	if err := notify.Send(ctx, notify.DefaultConfig(), msg); !errors.Is(err, notify.ErrNotConfigured) {
		t.Errorf("no server: %v, want ErrNotConfigured", err)
	}
	cfg := mailpitConfig(m, notify.AuthPlain)
	cfg.Username, cfg.ReplyTo = "not-an-address", ""
	var ce *notify.ConfigError
	if err := notify.Send(ctx, cfg, msg); !errors.As(err, &ce) || ce.Field != "username" {
		t.Errorf("no sender: %v, want a ConfigError naming username", err)
	}
	cfg = mailpitConfig(m, notify.AuthPlain)
	cfg.ReplyTo = "bad address"
	if err := notify.Send(ctx, cfg, msg); !errors.As(err, &ce) || ce.Field != "reply_to" {
		t.Errorf("bad reply_to: %v, want a ConfigError naming reply_to", err)
	}

	// Nothing listens: the error names the server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	cfg = mailpitConfig(m, notify.AuthPlain)
	cfg.Port = addr.Port
	if err := notify.Send(ctx, cfg, msg); err == nil || !strings.Contains(err.Error(), addr.String()) {
		t.Errorf("closed port: %v, want an error naming %s", err, addr)
	}

	// Implicit TLS against a plain server fails, within the deadline.
	cfg = mailpitConfig(m, notify.AuthPlain)
	cfg.TLS = true
	tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := notify.Send(tctx, cfg, msg); err == nil {
		t.Error("TLS to a plain server: no error")
	} else if d := time.Since(start); d > 4*time.Second {
		t.Errorf("TLS to a plain server took %v, past the deadline", d)
	}

	// A context already done sends nothing.
	dctx, dcancel := context.WithCancel(ctx)
	dcancel()
	if err := notify.Send(dctx, mailpitConfig(m, notify.AuthPlain), msg); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v, want context.Canceled", err)
	}
}
