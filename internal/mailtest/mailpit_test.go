package mailtest

import (
	"context"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// TestMailpit sends a message with net/smtp, logged in with PLAIN as
// mailpit's accept-any allows, and reads it back through the API.
func TestMailpit(t *testing.T) {
	m := StartMailpit(t)
	host, port := m.SMTPHostPort()
	if host != "127.0.0.1" || port == 0 {
		t.Fatalf("SMTPAddr = %s, want 127.0.0.1 and a port", m.SMTPAddr())
	}
	body := "From: Sender <sender@example.com>\r\nTo: rcpt@example.com\r\nSubject: hello mailtest\r\n\r\nbody text\r\n"
	auth := smtp.PlainAuth("", "anyone", "anything", host)
	if err := smtp.SendMail(m.SMTPAddr(), auth, "sender@example.com", []string{"rcpt@example.com"}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := m.WaitMessage(ctx, func(s Summary) bool { return s.Subject == "hello mailtest" })
	if err != nil {
		t.Fatal(err)
	}
	msg, err := m.Message(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s|%s|%v|%s", msg.From.Address, msg.From.Name, msg.To, strings.TrimSpace(msg.Text))
	if want := "sender@example.com|Sender|[{ rcpt@example.com}]|body text"; got != want {
		t.Fatalf("message = %s, want %s", got, want)
	}

	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := m.WaitMessage(ctx, func(Summary) bool { return false }); err == nil {
		t.Fatal("WaitMessage matched nothing and did not fail")
	}
}
