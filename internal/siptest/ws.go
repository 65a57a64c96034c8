package siptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/icholy/digest"
)

// WSConfig says which PBX a WSPhone talks to and as whom.
type WSConfig struct {
	// URL is the PBX's WebSocket address, "ws://ip:port" or
	// "wss://ip:port".
	URL string
	// Protocols are the subprotocols the upgrade offers; nil offers "sip"
	// (RFC 7118 section 4).
	Protocols []string
	// TLS configures a wss: connection; nil skips certificate checks.
	TLS *tls.Config
	// Domain, User and Password are the AOR's host, the extension number
	// and its SIP password.
	Domain, User, Password string
}

// WSPhone is a SIP phone over WebSocket the way a browser is one: it
// opens one connection, sends and reads SIP messages as raw text frames,
// and names itself in Contact by an unroutable *.invalid host (RFC 7118
// section 5), so that the PBX can reach it only over that connection.
// Its methods are safe for concurrent use.
type WSPhone struct {
	cfg      WSConfig
	conn     net.Conn
	protocol string
	host     string // the Contact and Via host, *.invalid

	wmu  sync.Mutex // frame writes
	msgs chan sip.Message
	done chan struct{} // closed when the reader ends

	mu   sync.Mutex
	cseq uint32
	cid  string
}

// DialWS opens a WebSocket connection to the PBX; the caller must Close
// the phone. An upgrade the PBX refuses returns an error wrapping
// ws.StatusError.
func DialWS(ctx context.Context, cfg WSConfig) (*WSPhone, error) {
	if cfg.Protocols == nil {
		cfg.Protocols = []string{"sip"}
	}
	conf := cfg.TLS
	if conf == nil {
		conf = &tls.Config{InsecureSkipVerify: true}
	}
	d := ws.Dialer{Protocols: cfg.Protocols, TLSConfig: conf}
	conn, br, hs, err := d.Dial(ctx, cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("dial ws %s: %w", cfg.URL, err)
	}
	p := &WSPhone{
		cfg: cfg, conn: conn, protocol: hs.Protocol, host: sip.GenerateTagN(10) + ".invalid",
		msgs: make(chan sip.Message, 32), done: make(chan struct{}), cseq: 1, cid: sip.GenerateTagN(20) + "@siptest",
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	go p.read(struct {
		io.Reader
		io.Writer
	}{r, rawWriter{p}})
	return p, nil
}

// rawWriter writes bytes that are already frames (wsutil's answers to
// pings and close frames) under the phone's write lock.
type rawWriter struct{ p *WSPhone }

func (w rawWriter) Write(b []byte) (int, error) {
	w.p.wmu.Lock()
	defer w.p.wmu.Unlock()
	return w.p.conn.Write(b)
}

// read parses the frames the PBX sends until the connection ends.
func (p *WSPhone) read(rw io.ReadWriter) {
	defer close(p.done)
	parser := sip.NewParser()
	for {
		data, _, err := wsutil.ReadServerData(rw)
		if err != nil {
			return
		}
		msg, err := parser.ParseSIP(data)
		if err != nil {
			continue
		}
		select {
		case p.msgs <- msg:
		default: // a test that reads nothing must not block the reader
		}
	}
}

// WriteText sends b as one masked text frame, as a browser's
// WebSocket.send(string) does.
func (p *WSPhone) WriteText(b []byte) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return wsutil.WriteClientMessage(p.conn, ws.OpText, b)
}

// Protocol returns the subprotocol the PBX chose in its 101 answer.
func (p *WSPhone) Protocol() string { return p.protocol }

// LocalAddr returns the phone's end of the connection, the Source the PBX
// sees.
func (p *WSPhone) LocalAddr() string { return p.conn.LocalAddr().String() }

// ContactURI returns the phone's Contact URI: its *.invalid host with
// transport=ws, as JsSIP and SIP.js send.
func (p *WSPhone) ContactURI() string {
	return "sip:" + p.cfg.User + "@" + p.host + ";transport=ws"
}

// Close closes the connection with a close frame, as a browser tab does.
func (p *WSPhone) Close() {
	p.wmu.Lock()
	ws.WriteFrame(p.conn, ws.MaskFrameInPlace(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))))
	p.wmu.Unlock()
	p.conn.Close()
	<-p.done
}

// Send writes msg as one text frame.
func (p *WSPhone) Send(msg sip.Message) error {
	if err := p.WriteText([]byte(msg.String())); err != nil {
		return fmt.Errorf("send over ws: %w", err)
	}
	return nil
}

// Next returns the next message the PBX sent, or an error when ctx ends
// or the connection closes first.
func (p *WSPhone) Next(ctx context.Context) (sip.Message, error) {
	select {
	case m := <-p.msgs:
		return m, nil
	case <-p.done:
		select {
		case m := <-p.msgs:
			return m, nil
		default:
		}
		return nil, errors.New("ws connection closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// NextRequest returns the next request the PBX sent, skipping responses.
func (p *WSPhone) NextRequest(ctx context.Context) (*sip.Request, error) {
	for {
		m, err := p.Next(ctx)
		if err != nil {
			return nil, err
		}
		if req, ok := m.(*sip.Request); ok {
			return req, nil
		}
	}
}

// Respond answers req with status over the connection.
func (p *WSPhone) Respond(req *sip.Request, status int, reason string, body []byte) error {
	res := sip.NewResponseFromRequest(req, status, reason, body)
	if res.To() != nil && status > 100 {
		if _, ok := res.To().Params.Get("tag"); !ok {
			res.To().Params.Add("tag", sip.GenerateTagN(8))
		}
	}
	return p.Send(res)
}

// Register sends REGISTER for expires seconds, answers a digest challenge
// once, and returns the final response.
func (p *WSPhone) Register(ctx context.Context, expires int) (*sip.Response, error) {
	var auth string
	for range 2 {
		req := p.newRegister(expires, auth)
		res, err := p.Do(ctx, req)
		if err != nil {
			return nil, err
		}
		if res.StatusCode != 401 || auth != "" {
			return res, nil
		}
		h := res.GetHeader("WWW-Authenticate")
		if h == nil {
			return res, nil
		}
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: req.Recipient.String(),
			Username: p.cfg.User, Password: p.cfg.Password})
		if err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		auth = cred.String()
	}
	return nil, errors.New("register: challenged twice")
}

func (p *WSPhone) newRegister(expires int, auth string) *sip.Request {
	req := p.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: p.cfg.Domain})
	req.ReplaceHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: p.cfg.User, Host: p.cfg.Domain}})
	cid := sip.CallIDHeader(p.cid) // one Call-ID for every REGISTER
	req.ReplaceHeader(&cid)
	req.AppendHeader(sip.NewHeader("Contact", "<"+p.ContactURI()+">"))
	req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
	if auth != "" {
		req.AppendHeader(sip.NewHeader("Authorization", auth))
	}
	return req
}

// NewRequest returns a request of method to ruri from the phone's AOR,
// with a Via of transport WS, a new Call-ID and the next CSeq.
func (p *WSPhone) NewRequest(method sip.RequestMethod, ruri sip.Uri) *sip.Request {
	p.mu.Lock()
	cseq := p.cseq
	p.cseq++
	p.mu.Unlock()
	aor := sip.Uri{Scheme: "sip", User: p.cfg.User, Host: p.cfg.Domain}
	req := sip.NewRequest(method, ruri)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "WS", Host: p.host,
		Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: ruri})
	cid := sip.CallIDHeader(sip.GenerateTagN(20) + "@siptest")
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	return req
}

// Drop closes the TCP connection without a close frame, as a browser
// that loses its network does.
func (p *WSPhone) Drop() {
	p.conn.Close()
	<-p.done
}

// Do sends req and waits for its final response, matched by the Via
// branch; requests the PBX sends meanwhile are queued for NextRequest.
func (p *WSPhone) Do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	branch, _ := req.Via().Params.Get("branch")
	if err := p.Send(req); err != nil {
		return nil, err
	}
	var held []sip.Message
	defer func() {
		for _, m := range held {
			select {
			case p.msgs <- m:
			default:
			}
		}
	}()
	for {
		m, err := p.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.ToLower(string(req.Method)), err)
		}
		res, ok := m.(*sip.Response)
		if !ok {
			held = append(held, m)
			continue
		}
		if b, _ := res.Via().Params.Get("branch"); b != branch || res.StatusCode < 200 {
			continue
		}
		return res, nil
	}
}
