package signaling_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/siptest"
)

// waitContacts polls the registrar until f accepts the contacts of 101,
// for at most two seconds.
func waitContacts(t *testing.T, e *env, f func([]pbx.Binding) bool) []pbx.Binding {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		bs, err := e.srv.Registrar().Contacts(context.Background(), e.tenant.ID, "101")
		if err != nil {
			t.Fatal(err)
		}
		if f(bs) || time.Now().After(deadline) {
			return bs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A phone's TCP or TLS connection closing removes the bindings registered
// over it (RFC 5626 flow failure); a UDP binding of the same extension
// stays.
func TestClosedConnectionRemovesBindings(t *testing.T) {
	for _, tr := range []string{"tcp", "tls"} {
		t.Run(tr, func(t *testing.T) { testClosedConnectionRemovesBindings(t, tr) })
	}
}

func testClosedConnectionRemovesBindings(t *testing.T, tr string) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	udp := e.ua(t, "udp", "101", password)
	if res, err := udp.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("udp register: %v %v", res, err)
	}
	flow, err := siptest.Start(siptest.Config{Server: e.srv.Addr(tr), Transport: tr, Domain: domain,
		User: "101", Password: password, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer flow.Close()
	if res, err := flow.Register(ctx, 300, "<sip:101@10.0.0.9:5060;transport="+tr+">"); err != nil || res.StatusCode != 200 {
		t.Fatalf("%s register: %v %v", tr, res, err)
	}
	bs := waitContacts(t, e, func(bs []pbx.Binding) bool { return len(bs) == 2 })
	if len(bs) != 2 || bs[0].Transport != "UDP" || bs[1].Transport != strings.ToUpper(tr) {
		t.Fatalf("before close: bindings = %+v", bs)
	}

	flow.Close()
	bs = waitContacts(t, e, func(bs []pbx.Binding) bool { return len(bs) == 1 })
	if len(bs) != 1 || bs[0].Transport != "UDP" {
		t.Fatalf("after close: bindings = %+v, want the UDP one only", bs)
	}
	// The deletion reaches the database.
	if err := e.srv.Registrar().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	live, err := e.db.LiveBindings(ctx, time.Now())
	if err != nil || len(live) != 1 || live[0].Transport != "UDP" {
		t.Fatalf("stored bindings = %+v, %v", live, err)
	}
}

// Shutting the server down closes every connection, but that is no flow
// failure: the bindings stay for the phones to find after a restart.
func TestShutdownKeepsTCPBindings(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	tcp := e.ua(t, "tcp", "101", password)
	if res, err := tcp.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("tcp register: %v %v", res, err)
	}
	e.stop()
	live, err := e.db.LiveBindings(ctx, time.Now())
	if err != nil || len(live) != 1 || live[0].Transport != "TCP" {
		t.Fatalf("stored bindings after shutdown = %+v, %v", live, err)
	}
}

// Nothing of sipgo reaches the process-wide logger that the server can
// route elsewhere: its transport, transaction, server and client loggers
// and its unhandled-response handler are all the injected logger. Not
// parallel: it replaces slog.Default.
//
// sipgo v1.7.2 logs reference counting of connections through
// sip.DefaultLogger(), the package-global logger of sip/logger.go (slog.Default
// unless sip.SetDefaultLogger is called): no option reaches those calls.
// The only one seen in this cycle is the warning of TCPConnection.TryClose
// (sip/transport_tcp.go:300), on both the server's and the phone's side of
// a closed TCP connection, and the test lets that one message through.
func TestNoLogsToDefaultLogger(t *testing.T) {
	var buf syncBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	defer slog.SetDefault(old)

	e := newEnv(t, nil)
	ctx := ctxT(t)
	for _, tr := range []string{"udp", "tcp"} {
		ua, err := siptest.Start(siptest.Config{Server: e.srv.Addr(tr), Transport: tr, Domain: domain,
			User: "101", Password: password, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := ua.Register(ctx, 300); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s register: %v %v", tr, res, err)
		}
		if res, err := ua.Register(ctx, 0); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s unregister: %v %v", tr, res, err)
		}
		ua.Close()
		if tr == "udp" {
			if s := buf.String(); s != "" {
				t.Fatalf("over udp the default logger got:\n%s", s)
			}
		}
	}
	e.stop()
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line != "" && !strings.Contains(line, `msg="TCP ref went negative"`) {
			t.Errorf("the default logger got: %s", line)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
