// Package siptest is a small SIP user agent for tests, on sipgo: it
// registers with digest authentication, sends OPTIONS, places calls with an
// SDP offer and answers incoming INVITEs. It binds 127.0.0.1 ports chosen by
// the kernel and closes everything when the test ends.
//
// A UA talks to one PBX address over one transport ("udp" or "tcp"), the
// way a desk phone with an outbound proxy does:
//
//	ua := siptest.New(t, siptest.Config{Server: srv.Addr("udp"), Domain: "acme.test", User: "101", Password: "secret"})
//	res, err := ua.Register(ctx, 300)
package siptest

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config says which PBX a UA talks to and as whom.
type Config struct {
	// Server is the PBX's "ip:port".
	Server string
	// Transport is "udp" (default), "tcp" or "tls" (the PBX's certificate
	// is not verified: tests run it self-signed).
	Transport string
	// Domain is the tenant's SIP domain, the host of the AOR.
	Domain string
	// User and Password are the extension number and its SIP password.
	User, Password string
	// Logger receives sipgo's messages; nil discards them.
	Logger *slog.Logger
	// LocalIP is the loopback address the UA binds (UDP only); empty is
	// 127.0.0.1. Another address plays a stranger or a carrier.
	LocalIP string
}

// UA is a test user agent. Its methods are safe for concurrent use.
type UA struct {
	cfg    Config
	ua     *sipgo.UserAgent
	client *sipgo.Client
	server *sipgo.Server
	dialog *sipgo.DialogUA
	laddr  string // UDP: the bound socket
	pc     net.PacketConn

	mu     sync.Mutex
	callID string
	cseq   uint32
	answer func(req *sip.Request) (int, []byte)
	got    chan *sip.Request
	byes   chan *sip.Request
}

// New starts a UA for tb; it is closed when tb ends.
func New(tb testing.TB, cfg Config) *UA {
	tb.Helper()
	u, err := Start(cfg)
	if err != nil {
		tb.Fatalf("siptest: %v", err)
	}
	tb.Cleanup(u.Close)
	return u
}

// Start starts a UA; the caller must Close it. Tests use New.
func Start(cfg Config) (*UA, error) { return startWith(cfg, nil) }

// startWith is Start with extra handlers registered on the UA's server
// before it serves (sipgo's handler map has no lock).
func startWith(cfg Config, handlers func(*sipgo.Server)) (*UA, error) {
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	cfg.Transport = strings.ToLower(cfg.Transport)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UA{cfg: cfg, callID: sip.GenerateTagN(20) + "@siptest", cseq: 1, got: make(chan *sip.Request, 16), byes: make(chan *sip.Request, 16)}
	var err error
	u.ua, err = sipgo.NewUA(sipgo.WithUserAgent("siptest"), sipgo.WithUserAgentHostname(cfg.Domain),
		sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(cfg.Logger)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(cfg.Logger)))
	if err != nil {
		return nil, fmt.Errorf("start ua: %w", err)
	}
	u.server, err = sipgo.NewServer(u.ua, sipgo.WithServerLogger(cfg.Logger))
	if err != nil {
		u.ua.Close()
		return nil, fmt.Errorf("start ua: %w", err)
	}
	// Handlers go in before anything is served: sipgo's handler map has no lock.
	u.server.OnInvite(u.onInvite)
	u.server.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {})
	u.server.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case u.byes <- req:
		default:
		}
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	u.server.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	if handlers != nil {
		handlers(u.server)
	}
	if cfg.LocalIP == "" {
		cfg.LocalIP = "127.0.0.1"
	}
	opts := []sipgo.ClientOption{sipgo.WithClientLogger(cfg.Logger), sipgo.WithClientHostname(cfg.LocalIP)}
	switch cfg.Transport {
	case "udp":
		pc, err := net.ListenPacket("udp", net.JoinHostPort(cfg.LocalIP, "0"))
		if err != nil {
			u.ua.Close()
			return nil, fmt.Errorf("start ua: %w", err)
		}
		u.laddr, u.pc = pc.LocalAddr().String(), pc
		go u.server.ServeUDP(pc) // returns when Close closes pc
		if err := waitServing(u.ua, u.laddr); err != nil {
			u.Close()
			return nil, fmt.Errorf("start ua: %w", err)
		}
		opts = append(opts, sipgo.WithClientConnectionAddr(u.laddr))
	case "tcp", "tls":
		// Requests from the PBX come back on the connection we opened.
	default:
		u.ua.Close()
		return nil, fmt.Errorf("start ua: transport %q not supported", cfg.Transport)
	}
	u.client, err = sipgo.NewClient(u.ua, opts...)
	if err != nil {
		u.ua.Close()
		return nil, fmt.Errorf("start ua: %w", err)
	}
	u.dialog = &sipgo.DialogUA{Client: u.client, ContactHDR: u.contactHeader()}
	return u, nil
}

// waitServing waits until the UDP listener at laddr is in the transport's
// pool, so that requests leave from it rather than from a new socket.
func waitServing(ua *sipgo.UserAgent, laddr string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := ua.TransportLayer().GetConnection("udp", laddr); err == nil && c != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("udp listener %s not serving", laddr)
		}
		time.Sleep(time.Millisecond)
	}
}

// Close stops the UA and closes its sockets.
func (u *UA) Close() {
	u.ua.Close()
	if u.pc != nil {
		// sipgo leaves a listener it was handed open.
		u.pc.Close()
	}
}

// LocalAddr returns the UA's UDP address, or "" over TCP.
func (u *UA) LocalAddr() string { return u.laddr }

// ContactURI returns the UA's default Contact URI.
func (u *UA) ContactURI() string {
	host := u.laddr
	if host == "" {
		host = "127.0.0.1:5060"
	}
	return "sip:" + u.cfg.User + "@" + host + ";transport=" + u.cfg.Transport
}

func (u *UA) contactHeader() sip.ContactHeader {
	var c sip.ContactHeader
	sip.ParseUri(u.ContactURI(), &c.Address)
	return c
}

// NewRequest returns a request of method to uri with From set to the UA's
// AOR, addressed to the PBX over the UA's transport.
func (u *UA) NewRequest(method sip.RequestMethod, uri string) (*sip.Request, error) {
	var ruri sip.Uri
	if err := sip.ParseUri(uri, &ruri); err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	req := sip.NewRequest(method, ruri)
	req.SetDestination(u.cfg.Server)
	req.SetTransport(strings.ToUpper(u.cfg.Transport))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: u.cfg.User, Host: u.cfg.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	return req, nil
}

// Do sends req and returns its final response, answering one 401 or 407
// challenge with the UA's credentials.
func (u *UA) Do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	res, err := u.client.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.Method, err)
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		res, err = u.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: u.cfg.User, Password: u.cfg.Password})
		if err != nil {
			return nil, fmt.Errorf("%s with auth: %w", req.Method, err)
		}
	}
	return res, nil
}

// Register sends a REGISTER for the UA's AOR with Expires: expires and the
// given Contact header values (the UA's own contact when none), and returns
// the final response. A negative expires sends no Expires header. Every call uses the UA's one Call-ID with a higher
// CSeq, as a phone refreshing its registration does.
func (u *UA) Register(ctx context.Context, expires int, contacts ...string) (*sip.Response, error) {
	if len(contacts) == 0 {
		contacts = []string{"<" + u.ContactURI() + ">"}
	}
	return u.register(ctx, expires, contacts)
}

// Query sends a REGISTER without Contact, which asks the registrar for the
// AOR's current contacts, and returns the final response.
func (u *UA) Query(ctx context.Context) (*sip.Response, error) {
	return u.register(ctx, -1, nil)
}

func (u *UA) register(ctx context.Context, expires int, contacts []string) (*sip.Response, error) {
	req, err := u.NewRequest(sip.REGISTER, "sip:"+u.cfg.Domain)
	if err != nil {
		return nil, err
	}
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: u.cfg.User, Host: u.cfg.Domain}})
	u.mu.Lock()
	callID := sip.CallIDHeader(u.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: u.cseq, MethodName: sip.REGISTER})
	u.cseq += 2 // one for the challenged request, one for the answer
	u.mu.Unlock()
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	for _, c := range contacts {
		req.AppendHeader(sip.NewHeader("Contact", c))
	}
	return u.Do(ctx, req)
}

// Options sends OPTIONS to the PBX and returns the response.
func (u *UA) Options(ctx context.Context) (*sip.Response, error) {
	req, err := u.NewRequest(sip.OPTIONS, "sip:"+u.cfg.Domain)
	if err != nil {
		return nil, err
	}
	res, err := u.client.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	return res, nil
}

// Invite calls uri (a SIP URI such as "sip:102@acme.test") with the SDP
// offer, answers a 407 challenge, waits for a 2xx and sends the ACK. It
// returns the established dialog; the caller hangs up with Bye. A final
// answer other than 2xx is an error wrapping *sipgo.ErrDialogResponse.
func (u *UA) Invite(ctx context.Context, uri string, sdp []byte) (*sipgo.DialogClientSession, error) {
	req, err := u.NewRequest(sip.INVITE, uri)
	if err != nil {
		return nil, err
	}
	if sdp != nil {
		req.SetBody(sdp)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	d, err := u.dialog.WriteInvite(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("invite %s: %w", uri, err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: u.cfg.User, Password: u.cfg.Password}); err != nil {
		d.Close()
		return nil, fmt.Errorf("invite %s: %w", uri, err)
	}
	if err := d.Ack(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("invite %s: ack: %w", uri, err)
	}
	return d, nil
}

// Answer sets how the UA answers incoming INVITEs: f returns the final
// status and the SDP body of the answer. Without Answer, INVITEs get 486.
func (u *UA) Answer(f func(req *sip.Request) (status int, sdp []byte)) {
	u.mu.Lock()
	u.answer = f
	u.mu.Unlock()
}

// Incoming returns the INVITEs the UA received, in order; the channel holds
// the last 16 that nobody read.
func (u *UA) Incoming() <-chan *sip.Request { return u.got }

// Byes returns the BYEs the UA received (and answered 200), in order; the
// channel holds the last 16 that nobody read.
func (u *UA) Byes() <-chan *sip.Request { return u.byes }

func (u *UA) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	select {
	case u.got <- req:
	default:
	}
	u.mu.Lock()
	f := u.answer
	u.mu.Unlock()
	status, body := sip.StatusBusyHere, []byte(nil)
	if f != nil {
		status, body = f(req)
	}
	tx.Respond(sip.NewResponseFromRequest(req, sip.StatusRinging, "Ringing", nil))
	res := sip.NewResponseFromRequest(req, status, reasonOf(status), body)
	if status/100 == 2 {
		c := u.contactHeader()
		res.AppendHeader(&c)
		if body != nil {
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		}
	}
	tx.Respond(res)
	if status/100 == 2 {
		// Wait for the ACK or the end of the transaction.
		select {
		case <-tx.Acks():
		case <-tx.Done():
		}
	}
}

func reasonOf(status int) string {
	switch status {
	case 200:
		return "OK"
	case 486:
		return "Busy Here"
	case 480:
		return "Temporarily Unavailable"
	case 603:
		return "Decline"
	}
	return "Response"
}

// SDP returns a minimal audio offer or answer for PCMU at addr ("ip:port").
func SDP(addr string) []byte {
	host, port, _ := net.SplitHostPort(addr)
	return []byte("v=0\r\no=siptest 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host + "\r\nt=0 0\r\n" +
		"m=audio " + port + " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")
}
