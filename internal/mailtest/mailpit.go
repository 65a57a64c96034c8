package mailtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Version is the mailpit release the tests are written against.
const Version = "v1.27.11"

// InstallCommand installs mailpit where StartMailpit looks for it.
const InstallCommand = "GOBIN=$(go env GOPATH)/bin go install github.com/axllent/mailpit@" + Version

// startTimeout bounds how long StartMailpit waits for mailpit to serve.
const startTimeout = 15 * time.Second

// Mailpit is a running mailpit process that accepts any SMTP credentials,
// with or without TLS, and stores every message it receives. Its methods
// are safe for concurrent use.
type Mailpit struct {
	smtpAddr string
	api      string // base URL of the REST API, without a trailing slash
	client   *http.Client
}

// StartMailpit starts mailpit on free 127.0.0.1 ports with a database in a
// temporary directory, waits until both its SMTP server and its API answer,
// and stops it (kill and wait) when the test ends. It skips the test when no
// mailpit binary is installed and fails it when mailpit does not start.
func StartMailpit(tb testing.TB) *Mailpit {
	tb.Helper()
	bin, err := findBinary()
	if err != nil {
		tb.Skipf("mailpit not found (%v); install it with: %s (or run bash scripts/deps.sh)", err, InstallCommand)
	}
	// A port found free may be taken before mailpit binds it; another pair
	// of ports is then tried.
	var lastErr error
	for range 3 {
		m, err := start(tb, bin)
		if err == nil {
			return m
		}
		lastErr = err
	}
	tb.Fatalf("start mailpit: %v", lastErr)
	return nil
}

// findBinary looks for mailpit on PATH, then in $GOBIN and each
// $GOPATH/bin, where go install puts it.
func findBinary() (string, error) {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "mailpit")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("not on PATH nor in %v", dirs)
}

func start(tb testing.TB, bin string) (*Mailpit, error) {
	smtpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	out := &logBuffer{}
	cmd := exec.Command(bin,
		"--smtp", smtpAddr,
		"--listen", httpAddr,
		"--database", filepath.Join(tb.TempDir(), "mailpit.db"),
		"--smtp-auth-accept-any",
		"--smtp-auth-allow-insecure",
		"--smtp-disable-rdns",
		"--disable-version-check",
		"--quiet",
	)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	stop := func() {
		cmd.Process.Kill()
		<-done
	}
	m := &Mailpit{smtpAddr: smtpAddr, api: "http://" + httpAddr, client: &http.Client{Timeout: 10 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !m.ready(ctx) {
		select {
		case <-done:
			return nil, fmt.Errorf("mailpit exited before serving: %v: %s", waitErr, out.String())
		case <-ctx.Done():
			stop()
			return nil, fmt.Errorf("mailpit not serving on %s and %s after %v: %s", smtpAddr, httpAddr, startTimeout, out.String())
		case <-tick.C:
		}
	}
	tb.Cleanup(func() {
		stop()
		if tb.Failed() {
			tb.Logf("mailpit output: %s", out.String())
		}
	})
	return m, nil
}

// ready reports whether both the API and the SMTP port answer.
func (m *Mailpit) ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.api+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", m.smtpAddr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freeAddr returns a 127.0.0.1 address with a port the kernel found free.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// SMTPAddr is the host:port of the SMTP server. It offers no TLS and
// accepts any username and password (PLAIN, LOGIN or CRAM-MD5) or none.
func (m *Mailpit) SMTPAddr() string { return m.smtpAddr }

// SMTPHostPort splits SMTPAddr into host and port.
func (m *Mailpit) SMTPHostPort() (string, int) {
	host, port, _ := net.SplitHostPort(m.smtpAddr)
	n, _ := strconv.Atoi(port)
	return host, n
}

// Address is a mail address as mailpit reports it.
type Address struct {
	Name    string
	Address string
}

// Summary is a stored message as mailpit lists it.
type Summary struct {
	ID          string // mailpit's ID, for Message
	MessageID   string
	From        Address
	To          []Address
	Cc          []Address
	ReplyTo     []Address
	Subject     string
	Created     time.Time
	Username    string // the SMTP AUTH username; mailpit records LOGIN's, not PLAIN's
	Attachments int
	Snippet     string
}

// Message is a stored message with its bodies and attachments.
type Message struct {
	ID          string
	MessageID   string
	From        Address
	To          []Address
	Cc          []Address
	ReplyTo     []Address
	Subject     string
	Date        time.Time
	Username    string
	Text        string
	HTML        string
	Attachments []Attachment
}

// Attachment is one attachment of a Message, with its decoded content.
type Attachment struct {
	PartID      string
	FileName    string
	ContentType string
	Size        int
	Data        []byte `json:"-"`
}

// Messages returns the stored messages, newest first.
func (m *Mailpit) Messages(ctx context.Context) ([]Summary, error) {
	var out struct {
		Messages []Summary `json:"messages"`
	}
	if err := m.getJSON(ctx, "/api/v1/messages?limit=1000", &out); err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// Message returns the message with mailpit ID id, with the content of each
// attachment read.
func (m *Mailpit) Message(ctx context.Context, id string) (Message, error) {
	var msg Message
	esc := url.PathEscape(id)
	if err := m.getJSON(ctx, "/api/v1/message/"+esc, &msg); err != nil {
		return Message{}, err
	}
	for i := range msg.Attachments {
		a := &msg.Attachments[i]
		data, err := m.get(ctx, "/api/v1/message/"+esc+"/part/"+url.PathEscape(a.PartID))
		if err != nil {
			return Message{}, fmt.Errorf("attachment %s: %w", a.FileName, err)
		}
		a.Data = data
	}
	return msg, nil
}

// WaitMessage polls until a stored message satisfies match and returns it.
// It fails with ctx's error, wrapped, when ctx ends first.
func (m *Mailpit) WaitMessage(ctx context.Context, match func(Summary) bool) (Summary, error) {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var seen int
	for {
		list, err := m.Messages(ctx)
		if err == nil {
			seen = len(list)
			for _, s := range list {
				if match(s) {
					return s, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return Summary{}, fmt.Errorf("wait for message (%d stored, none matched): %w", seen, ctx.Err())
		case <-tick.C:
		}
	}
}

func (m *Mailpit) getJSON(ctx context.Context, path string, v any) error {
	raw, err := m.get(ctx, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("mailpit %s: decode: %w", path, err)
	}
	return nil
}

func (m *Mailpit) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.api+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mailpit %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("mailpit %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailpit %s: %s: %s", path, resp.Status, bytes.TrimSpace(raw))
	}
	return raw, nil
}

// logBuffer keeps the first 64 KiB of mailpit's output for failure reports.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxLog = 64 << 10

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxLog - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*logBuffer)(nil)
