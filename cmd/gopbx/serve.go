package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gopbx/gopbx/internal/api"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/certs"
	"github.com/gopbx/gopbx/internal/signaling"
	"github.com/gopbx/gopbx/internal/store"
)

// Main is the gopbx server: ParseFlags, then Run, then Close. Tests run it
// in-process with a temp data folder and 127.0.0.1:0 listeners.
type Main struct {
	Config Config
	Stdout io.Writer // where the first-start password is printed
	Now    func() time.Time
	Log    *slog.Logger
	// Drain makes Close let live calls end by themselves, for up to
	// Config.DrainTimeout, before it hangs up the rest (SIGTERM); false
	// hangs up at once (SIGINT).
	Drain bool

	DB      *store.DB
	API     *api.Server
	SIP     *signaling.Server
	apiLn   net.Listener
	provLn  net.Listener
	servers []*http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error
	calls   *call.Manager // hung up (or drained) on Close before the listeners' context ends
	// mwi tells phones of waiting messages; set before the SIP edge serves.
	mwi MWI
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: NewConfig(), Stdout: io.Discard, Now: time.Now}
}

// ParseFlags reads the configuration from args and the environment.
func (m *Main) ParseFlags(args []string, getenv func(string) string) error {
	return m.Config.parse(args, getenv, m.Stdout)
}

// Run opens the database, makes the first admin on a new one, and starts
// every listener. It returns once all are serving; an unusable data folder,
// database or address is an error with one clear line.
func (m *Main) Run(ctx context.Context) (err error) {
	c := &m.Config
	if m.Log == nil {
		m.Log = newLogger(c, os.Stderr)
	}
	// sipgo writes a few connection messages to its package logger, which
	// no option reaches: the process's one logger takes them, one level
	// down (quieter). (The last Main of a process wins; there is one
	// outside tests.)
	sip.SetDefaultLogger(slog.New(quieter{m.Log.Handler()}).With("component", "sipgo"))
	if err := ensureDataDir(c.Data); err != nil {
		return err
	}
	dsn := c.DB
	if dsn == "" {
		dsn = filepath.Join(c.Data, "gopbx.db")
	}
	ctx, m.cancel = context.WithCancel(ctx)
	m.DB, err = store.Open(ctx, store.Config{DSN: dsn, Node: c.Node, Now: m.Now, Logger: m.Log})
	if err != nil {
		return err
	}
	m.closers = append(m.closers, m.DB.Close)
	hash := api.DefaultHashParams
	pw, err := api.Bootstrap(ctx, m.DB, c.AdminPassword, hash)
	if err != nil {
		return err
	}

	m.API = api.New(api.Config{Version: Version, RateLimit: c.APIRateLimit, TokenTTL: c.TokenTTL, Hash: hash, Data: c.Data}, m.DB, m.Log, m.Now)
	if m.apiLn, err = listen(c.APIListen, "api"); err != nil {
		return err
	}
	scheme := "http"
	if !c.APIInsecureHTTP {
		cert, err := certs.LoadOrCreate(filepath.Join(c.Data, "tls", "api.crt"), filepath.Join(c.Data, "tls", "api.key"), nil)
		if err != nil {
			return err
		}
		m.apiLn = tls.NewListener(m.apiLn, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", m.API.Handler())
	m.serve(ctx, m.apiLn, mux)

	if c.ProvisionListen != "" {
		if m.provLn, err = listen(c.ProvisionListen, "provisioning"); err != nil {
			return err
		}
		// Provisioning is reserved: nothing is served there yet.
		m.serve(ctx, m.provLn, http.NotFoundHandler())
	}
	if err := m.startSIP(ctx); err != nil {
		return err
	}
	if err := m.startPprof(ctx); err != nil {
		return err
	}
	url := fmt.Sprintf("%s://%s/api", scheme, m.apiLn.Addr())
	m.Log.Info("gopbx started", "version", Version, "api", url, "database", m.DB.Dialect())
	if pw != "" {
		fmt.Fprintf(m.Stdout, "gopbx: new database; system admin %q, password %s\ngopbx: REST API at %s\n", api.AdminName, pw, url)
	}
	return nil
}

// APIAddr returns the address the REST API listens on.
func (m *Main) APIAddr() string { return m.apiLn.Addr().String() }

// serve runs an HTTP server on ln until ctx ends.
func (m *Main) serve(ctx context.Context, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(m.Log.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context { return ctx }}
	m.servers = append(m.servers, srv)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// Close stops every listener, waits for the goroutines Run started and
// closes the database.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range m.servers {
		s.Shutdown(ctx)
	}
	if m.Drain && m.calls != nil {
		dctx, cancel := context.WithTimeout(context.Background(), m.Config.DrainTimeout)
		m.Log.Info("draining calls", "timeout", m.Config.DrainTimeout.String())
		if err := m.calls.Drain(dctx); err != nil {
			m.Log.Warn("calls still up after the drain timeout: hanging up", "err", err)
		}
		cancel()
	}
	if m.calls != nil {
		if err := m.calls.Close(ctx); err != nil {
			m.Log.Warn("hang up on shutdown", "err", err)
		}
		m.calls = nil
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	m.closers = nil
	return errors.Join(errs...)
}

func listen(addr, what string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listener on %s: %w", what, addr, errors.Unwrap(err))
	}
	return ln, nil
}

// ensureDataDir creates the data folder and checks that it is writable.
func ensureDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("data folder %s: %w", dir, errors.Unwrap(err))
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("data folder %s is not writable: %w", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

func newLogger(c *Config, w io.Writer) *slog.Logger {
	lvl, _ := c.level()
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
