package signaling

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/certs"
	"github.com/gopbx/gopbx/internal/registrar"
	"github.com/gopbx/gopbx/internal/store"
)

// Server is the SIP edge: it owns the UDP, TCP, TLS, WS and WSS listeners, answers
// OPTIONS, authenticates requests, hands REGISTER to the registrar and
// calls to the CallHandler, and drops floods and password guessers.
type Server struct {
	cfg     Config
	st      Store
	log     *slog.Logger
	now     func() time.Time
	nonces  nonces
	ncs     *nonceCounts // highest nc seen per nonce (noncecount.go)
	creds   *credCache   // digest credentials of REGISTERs (credcache.go)
	guard   *guard
	cfgAllw []netip.Prefix
	reg     *registrar.Registrar
	flows   *flowTable       // accepted TCP, TLS, WS and WSS connections (flows.go)
	regq    chan registerJob // to idle register workers (handlers.go)
	calls   atomic.Pointer[callsBox]
	trunks  atomic.Pointer[trunksBox]
	accts   atomic.Pointer[accountsBox]
	mwi     mwiState // message-summary subscriptions (mwi.go)

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client

	udp       net.PacketConn
	tcp, tls  net.Listener
	ws, wss   *wsListener // ws.go
	closeOnce sync.Once

	// ctx is the server's lifetime, set by Run before it serves; request
	// handlers derive from it.
	ctx context.Context
}

type callsBox struct{ h CallHandler }

// errDropped tells sipgo's stream transports to close the connection of a
// source the guard refuses.
var errDropped = errors.New("source blocked")

// New builds a Server and binds its listeners, so that Addr answers at once.
// It serves nothing until Run. A Server that is never run must be closed
// with Close.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg.setDefaults()
	if deps.Store == nil {
		return nil, fmt.Errorf("new signaling server: no store")
	}
	if cfg.UDP == "" && cfg.TCP == "" && cfg.TLS == "" && cfg.WS == "" && cfg.WSS == "" {
		return nil, fmt.Errorf("new signaling server: no listener configured")
	}
	s := &Server{cfg: cfg, st: deps.Store, log: cfg.Logger, now: cfg.Now, regq: make(chan registerJob)}
	s.calls.Store(&callsBox{deps.Calls})
	key := cfg.NonceKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("new signaling server: %w", err)
		}
	}
	s.nonces = nonces{key: key, lifetime: cfg.NonceLifetime}
	s.ncs = newNonceCounts(maxNonceCounts)
	s.creds = newCredCache(cfg.CredentialTTL, cfg.CredentialCacheSize)
	for i, a := range cfg.DigestAlgorithms {
		a = strings.ToUpper(a)
		if a != algMD5 && a != algSHA256 {
			return nil, fmt.Errorf("new signaling server: digest algorithm %q not supported", a)
		}
		cfg.DigestAlgorithms[i] = a
	}
	s.cfg.DigestAlgorithms = cfg.DigestAlgorithms
	for _, a := range cfg.AllowList {
		p, err := store.ParsePrefix(a)
		if err != nil {
			return nil, fmt.Errorf("new signaling server: allow list: %w", err)
		}
		s.cfgAllw = append(s.cfgAllw, p)
	}
	rate, burst := cfg.RateLimit, int(2*cfg.RateLimit)
	if rate < 0 {
		rate, burst = 0, 0
	}
	fails := cfg.AuthFailures
	if fails < 0 {
		fails = 0
	}
	s.guard = newGuard(cfg.Now, rate, burst, fails, cfg.AuthFailWindow, cfg.BlockFor, s.cfgAllw)

	reg, err := registrar.New(registrar.Config{
		MinExpires: cfg.MinExpires, DefaultExpires: cfg.DefaultExpires, MaxExpires: cfg.MaxExpires,
		SweepInterval: cfg.SweepInterval, MaxBindings: cfg.MaxBindings, Now: cfg.Now,
		Logger: cfg.Logger.With("component", "registrar"),
	}, deps.Store)
	if err != nil {
		return nil, fmt.Errorf("new signaling server: %w", err)
	}
	s.reg = reg
	s.flows = newFlowTable(cfg.Now, s.flowClosed)

	if err := s.listen(); err != nil {
		s.closeListeners()
		return nil, err
	}

	clientTLS, err := clientTLSConfig(cfg.TrustCA)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("new signaling server: %w", err)
	}
	sipLog := cfg.Logger.With("component", "sipgo")
	s.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgenTLSConfig(clientTLS),
		sipgo.WithUserAgentHostname(s.hostname()),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerReadFilter(s.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sipLog),
			// sipgo's default handler logs to the process-wide logger.
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				sipLog.Debug("response matches no transaction", "status", r.StatusCode, "source", r.Source())
			}),
		),
	)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("new signaling server: %w", err)
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(sipLog))
	if err == nil {
		s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientHostname(s.hostname()), sipgo.WithClientLogger(sipLog))
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("new signaling server: %w", err)
	}
	s.route()
	return s, nil
}

// registerWorkers is how many goroutines serve REGISTERs (registerWorker):
// enough to keep both the CPUs and the waits on the database busy.
const registerWorkers = 32

// udpReadBuffer is the receive buffer asked for the SIP UDP socket, as
// Kamailio sizes its own to the largest the kernel allows.
const udpReadBuffer = 4 << 20

func (s *Server) listen() error {
	var err error
	if s.cfg.UDP != "" {
		if s.udp, err = net.ListenPacket("udp", s.cfg.UDP); err != nil {
			return fmt.Errorf("listen udp %s: %w", s.cfg.UDP, err)
		}
		if uc, ok := s.udp.(*net.UDPConn); ok {
			// A burst of REGISTERs overflows the default buffer (about
			// 200 KiB), and each datagram lost costs its phone a 500 ms
			// retransmission. The kernel caps this at net.core.rmem_max.
			if err := uc.SetReadBuffer(udpReadBuffer); err != nil {
				s.log.Warn("udp receive buffer not enlarged", "error", err)
			}
		}
	}
	if s.cfg.TCP != "" {
		if s.tcp, err = net.Listen("tcp", s.cfg.TCP); err != nil {
			return fmt.Errorf("listen tcp %s: %w", s.cfg.TCP, err)
		}
		s.tcp = s.flows.listener(s.tcp, "TCP")
	}
	var conf *tls.Config
	if s.cfg.TLS != "" || s.cfg.WSS != "" {
		if conf, err = s.tlsConfig(); err != nil {
			return err
		}
	}
	if s.cfg.TLS != "" {
		if s.tls, err = tls.Listen("tcp", s.cfg.TLS, conf); err != nil {
			return fmt.Errorf("listen tls %s: %w", s.cfg.TLS, err)
		}
		s.tls = s.flows.listener(s.tls, "TLS")
	}
	if s.cfg.WS != "" {
		l, err := net.Listen("tcp", s.cfg.WS)
		if err != nil {
			return fmt.Errorf("listen ws %s: %w", s.cfg.WS, err)
		}
		s.ws = newWSListener(l, "WS", nil, s.admitSource, s.flows)
	}
	if s.cfg.WSS != "" {
		l, err := net.Listen("tcp", s.cfg.WSS)
		if err != nil {
			return fmt.Errorf("listen wss %s: %w", s.cfg.WSS, err)
		}
		s.wss = newWSListener(l, "WSS", conf, s.admitSource, s.flows)
	}
	return nil
}

// clientTLSConfig is the TLS configuration of outbound connections (TLS
// and WSS to carriers): the system roots plus the CA certificates in
// trustPEM, TLS 1.2 or later. sipgo sets ServerName to the host dialled.
func clientTLSConfig(trustPEM []byte) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(bytes.TrimSpace(trustPEM)) == 0 {
		return conf, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(trustPEM) {
		return nil, fmt.Errorf("trusted CA: no PEM certificate found")
	}
	conf.RootCAs = pool
	return conf, nil
}

// tlsConfig loads (or creates) the certificate of the TLS and WSS
// listeners.
func (s *Server) tlsConfig() (*tls.Config, error) {
	if s.cfg.TLSCert == "" || s.cfg.TLSKey == "" {
		return nil, fmt.Errorf("listen tls: TLSCert and TLSKey are required")
	}
	var hosts []string
	if s.cfg.PublicAddr != "" {
		hosts = append(hosts, s.cfg.PublicAddr)
	}
	cert, err := certs.LoadOrCreate(s.cfg.TLSCert, s.cfg.TLSKey, hosts)
	if err != nil {
		return nil, fmt.Errorf("listen tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// hostname is the host the PBX names itself by in Via and Contact.
func (s *Server) hostname() string {
	if s.cfg.PublicAddr != "" {
		return s.cfg.PublicAddr
	}
	for _, a := range []string{s.Addr("udp"), s.Addr("tcp"), s.Addr("tls"), s.Addr("ws"), s.Addr("wss")} {
		if host, _, err := net.SplitHostPort(a); err == nil {
			if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
				return host
			}
		}
	}
	return "127.0.0.1"
}

// Addr returns the bound address ("ip:port") of transport "udp", "tcp",
// "tls", "ws" or "wss" (any case), or "" when that transport is disabled.
func (s *Server) Addr(transport string) string {
	switch strings.ToLower(transport) {
	case "udp":
		if s.udp != nil {
			return s.udp.LocalAddr().String()
		}
	case "tcp":
		if s.tcp != nil {
			return s.tcp.Addr().String()
		}
	case "tls":
		if s.tls != nil {
			return s.tls.Addr().String()
		}
	case "ws":
		if s.ws != nil {
			return s.ws.Addr().String()
		}
	case "wss":
		if s.wss != nil {
			return s.wss.Addr().String()
		}
	}
	return ""
}

// UA returns the sipgo user agent whose transports the server listens on.
func (s *Server) UA() *sipgo.UserAgent { return s.ua }

// Client returns a sipgo client on the server's transports: requests it
// sends to a binding's Source over UDP leave from the listening socket, and
// over TCP, TLS, WS or WSS reuse the connection the phone registered on.
func (s *Server) Client() *sipgo.Client { return s.client }

// Registrar returns the registrar the server hands REGISTERs to, for the
// B2BUA's contact lookups and the API's registration status.
func (s *Server) Registrar() *registrar.Registrar { return s.reg }

// SetCallHandler sets (or, with nil, removes) the handler of calls. It may
// be called at any time; requests already dispatched keep the old one.
func (s *Server) SetCallHandler(h CallHandler) { s.calls.Store(&callsBox{h}) }

func (s *Server) callHandler() CallHandler { return s.calls.Load().h }

// Run serves until ctx ends or a listener fails, then closes the listeners
// and the transports and returns. It returns nil after ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.ctx = ctx
	if err := s.ReloadIPFilters(ctx); err != nil {
		s.log.Warn("ip filters not loaded", "error", err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 9+registerWorkers)
	serve := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("serve %s: %w", name, err)
				cancel()
			}
		}()
	}
	if s.udp != nil {
		serve("udp", func() error { return s.srv.ServeUDP(s.udp) })
	}
	if s.tcp != nil {
		serve("tcp", func() error { return s.srv.ServeTCP(s.tcp) })
	}
	if s.tls != nil {
		serve("tls", func() error { return s.srv.ServeTLS(s.tls) })
	}
	if s.ws != nil {
		serve("ws", func() error { return s.srv.ServeWS(s.ws) })
		serve("ws accept", s.ws.Run)
	}
	if s.wss != nil {
		serve("wss", func() error { return s.srv.ServeWSS(s.wss) })
		serve("wss accept", s.wss.Run)
	}
	serve("registrar", func() error { return s.reg.Run(ctx) })
	for range registerWorkers {
		serve("register worker", func() error { return s.registerWorker(ctx) })
	}
	serve("ip filters", func() error { return s.refreshFilters(ctx) })
	s.log.Info("sip edge serving", "udp", s.Addr("udp"), "tcp", s.Addr("tcp"), "tls", s.Addr("tls"),
		"ws", s.Addr("ws"), "wss", s.Addr("wss"))

	<-ctx.Done()
	s.Close()
	wg.Wait()
	// A REGISTER handled after the registrar's own final flush would be
	// lost: flush once more now that nothing is served.
	fctx, cancelFlush := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelFlush()
	if err := s.reg.Flush(fctx); err != nil {
		s.log.Warn("bindings not flushed on shutdown", "err", err)
	}
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// Close closes the listeners and the transports. Run calls it on its way
// out; call it directly only for a Server that never ran.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.flows != nil {
			s.flows.end()
		}
		s.closeListeners()
		if s.ua != nil {
			s.ua.Close()
		}
	})
	return nil
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.tls != nil {
		s.tls.Close()
	}
	if s.ws != nil {
		s.ws.Close()
	}
	if s.wss != nil {
		s.wss.Close()
	}
}

// flowClosed removes the bindings registered over an accepted TCP, TLS, WS
// or WSS connection that has closed (RFC 5626 section 4.4): the phone can no
// longer be reached through it, so calls must not fork to it.
func (s *Server) flowClosed(k flowKey) {
	// s.ctx is set: connections are only accepted once Run serves.
	if n := s.reg.RemoveFlow(s.ctx, k.transport, k.source); n > 0 {
		s.log.Debug("connection closed, bindings removed", "transport", k.transport, "source", k.source, "count", n)
	}
}

// readFilter runs on every packet (UDP), read (TCP, TLS) or message (WS,
// WSS) before parsing: a blocked or flooding source is dropped without an
// answer, and its stream connection is closed.
func (s *Server) readFilter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if s.admitSource(info.RemoteAddr) {
		return data, nil
	}
	if sip.IsReliable(info.Transport) {
		return nil, errDropped
	}
	return nil, nil
}

// admitSource is the guard's verdict on one packet or connection from
// addr. A trunk's address is never rate limited: a carrier's busy hour is
// not a flood, and dropping it would drop calls.
func (s *Server) admitSource(addr net.Addr) bool {
	a, ok := addrIP(addr)
	if !ok || s.guard.admit(a) {
		return true
	}
	if b := s.trunks.Load(); b != nil && b.t != nil {
		if _, trunk := b.t.TrunkAt(a.Unmap()); trunk {
			return true
		}
	}
	return false
}

func addrIP(a net.Addr) (netip.Addr, bool) {
	switch v := a.(type) {
	case *net.UDPAddr:
		ip, ok := netip.AddrFromSlice(v.IP)
		return ip.Unmap(), ok
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(v.IP)
		return ip.Unmap(), ok
	case nil:
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap(), err == nil
}

// sourceIP returns the IP of a request's source address.
func sourceIP(req *sip.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// ReloadIPFilters reloads the stored IP filters into the guard. The API
// calls it after an administrator changes the list, so that removing a
// block takes effect at once; Run also calls it every FilterRefresh.
func (s *Server) ReloadIPFilters(ctx context.Context) error {
	fs, err := s.st.ActiveIPFilters(ctx, s.now())
	if err != nil {
		return fmt.Errorf("reload ip filters: %w", err)
	}
	var allow []netip.Prefix
	deny := map[netip.Prefix]time.Time{}
	for _, f := range fs {
		p, err := store.ParsePrefix(f.CIDR)
		if err != nil {
			continue
		}
		if f.Target == store.IPFilterAccept {
			allow = append(allow, p)
		} else {
			deny[p] = f.ExpireAt
		}
	}
	s.guard.setFilters(s.cfgAllw, allow, deny)
	return nil
}

func (s *Server) refreshFilters(ctx context.Context) error {
	t := time.NewTicker(s.cfg.FilterRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.ReloadIPFilters(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("ip filters not reloaded", "error", err)
			}
		}
	}
}

// block persists a block of ip until the given time as a DENY IP filter,
// so that it survives a restart and an administrator can list and lift it.
func (s *Server) block(ctx context.Context, ip netip.Addr, until time.Time, reason string) {
	s.log.Warn("source blocked", "ip", ip.String(), "until", until, "reason", reason)
	f := store.IPFilter{CIDR: ip.String(), Target: store.IPFilterDeny, ExpireAt: until, Description: reason}
	if err := s.st.CreateIPFilter(ctx, &f); err != nil {
		s.log.Error("block not persisted", "ip", ip.String(), "error", err)
	}
}
