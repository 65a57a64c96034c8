package signaling

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SIP over WebSocket (RFC 7118). sipgo v1.7.2 serves WS and WSS, but its
// accept loop reads each client's HTTP upgrade (and, for WSS, the TLS
// handshake) before accepting the next connection, with no deadline, and
// it answers Sec-WebSocket-Protocol: sip whether or not the client asked
// for it. wsListener stands in front of it: it accepts on its own, runs
// every handshake in its own goroutine under a deadline, refuses sources
// the guard refuses and upgrades that do not offer the "sip" subprotocol,
// and hands sipgo only connections whose upgrade request is already read,
// replaying that request so that sipgo's upgrader answers it at once.

const (
	// wsHandshakeTimeout bounds the TLS handshake and the upgrade request.
	wsHandshakeTimeout = 10 * time.Second
	// wsMaxRequest bounds the upgrade request's size.
	wsMaxRequest = 16 << 10
	// wsMaxPending bounds the handshakes in progress; a connection beyond
	// it is closed at once.
	wsMaxPending = 1024
	// wsProtocol is the WebSocket subprotocol of SIP (RFC 7118 section 4).
	wsProtocol = "sip"
)

// wsListener accepts WebSocket connections for sipgo's ServeWS or
// ServeWSS. Run accepts from the socket; Accept returns the connections
// whose handshake is done.
type wsListener struct {
	net.Listener                     // the TCP socket
	tls          *tls.Config         // nil for WS
	transport    string              // "WS" or "WSS"
	admit        func(net.Addr) bool // the guard's verdict on a source
	flows        *flowTable

	ready chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	pending map[net.Conn]struct{} // connections in their handshake
	wg      sync.WaitGroup
}

func newWSListener(l net.Listener, transport string, conf *tls.Config, admit func(net.Addr) bool, flows *flowTable) *wsListener {
	return &wsListener{
		Listener: l, tls: conf, transport: transport, admit: admit, flows: flows,
		ready: make(chan net.Conn), done: make(chan struct{}), pending: map[net.Conn]struct{}{},
	}
}

// Accept returns the next connection whose handshake succeeded, wrapped so
// that its close reaches the flow table. It fails with net.ErrClosed once
// the listener is closed.
func (l *wsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the socket and the connections still in their handshake.
func (l *wsListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.Listener.Close()
		l.mu.Lock()
		for c := range l.pending {
			c.Close()
		}
		l.mu.Unlock()
	})
	return err
}

// Run accepts connections until the listener is closed, then waits for the
// handshakes in progress to end and returns nil; it returns any other
// accept error.
func (l *wsListener) Run() error {
	defer l.wg.Wait()
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case <-l.done:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if !l.admit(c.RemoteAddr()) || !l.add(c) {
			c.Close()
			continue
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.handshake(c)
		}()
	}
}

// add records c as in its handshake, unless too many are.
func (l *wsListener) add(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return false
	default:
	}
	if len(l.pending) >= wsMaxPending {
		return false
	}
	l.pending[c] = struct{}{}
	return true
}

func (l *wsListener) remove(c net.Conn) {
	l.mu.Lock()
	delete(l.pending, c)
	l.mu.Unlock()
}

// handshake reads c's TLS handshake and upgrade request and, when the
// request offers the "sip" subprotocol, passes c to Accept.
func (l *wsListener) handshake(raw net.Conn) {
	defer l.remove(raw)
	c := raw
	c.SetDeadline(time.Now().Add(wsHandshakeTimeout))
	if l.tls != nil {
		tc := tls.Server(raw, l.tls)
		if err := tc.Handshake(); err != nil { // bounded by the deadline
			raw.Close()
			return
		}
		c = tc
	}
	head, rest, req, err := readUpgrade(c)
	if err != nil {
		c.Close()
		return
	}
	if !offersSIP(req.Header) {
		// RFC 6455 section 4.2.2: the server may refuse a handshake; one
		// without "sip" is not a SIP client (RFC 7118 section 4).
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		c.Close()
		return
	}
	c.SetDeadline(time.Time{})
	// sipgo's upgrader writes the 101 and reads the frames; a client that
	// stalls it from here on stalls only this connection's reads, since
	// the request is already in memory.
	k := flowKey{l.transport, raw.RemoteAddr().String()}
	fc := &flowConn{Conn: &replayConn{Conn: c, head: head, rest: rest}, t: l.flows, k: k, f: l.flows.opened(k)}
	select {
	case l.ready <- fc:
	case <-l.done:
		fc.Close()
	}
}

// readUpgrade reads an HTTP request from c and returns its bytes (head),
// any bytes read past it (rest) and the parsed request.
func readUpgrade(c net.Conn) (head, rest []byte, req *http.Request, err error) {
	var raw bytes.Buffer
	br := bufio.NewReader(io.TeeReader(io.LimitReader(c, wsMaxRequest), &raw))
	req, err = http.ReadRequest(br)
	if err != nil {
		return nil, nil, nil, err
	}
	n := raw.Len() - br.Buffered()
	b := raw.Bytes()
	return b[:n], b[n:], req, nil
}

// offersSIP reports whether the upgrade request lists the "sip"
// subprotocol in its Sec-WebSocket-Protocol headers.
func offersSIP(h http.Header) bool {
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == wsProtocol {
				return true
			}
		}
	}
	return false
}

// replayConn reads head, then rest, then from Conn. head is returned on
// its own (never with rest), so that sipgo's upgrader, which reads the
// request through a buffer it then drops, holds no frame bytes in it.
type replayConn struct {
	net.Conn
	head, rest []byte
}

func (c *replayConn) Read(b []byte) (int, error) {
	switch {
	case len(c.head) > 0:
		n := copy(b, c.head)
		c.head = c.head[n:]
		return n, nil
	case len(c.rest) > 0:
		n := copy(b, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}
