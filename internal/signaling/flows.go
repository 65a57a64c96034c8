package signaling

import (
	"net"
	"sync"
	"time"
)

// flowGrace is how long the mark of a closed connection is kept: a request
// read from it just before it closed may still be in the handlers for up
// to a transaction's lifetime (64*T1), and must not register a binding on
// a flow that is gone.
const flowGrace = 32 * time.Second

// flowKey names a connection the PBX accepted: the transport ("TCP",
// "TLS", "WS", "WSS") and the phone's "ip:port", as req.Transport() and req.Source()
// give them for the requests read from it.
type flowKey struct {
	transport string
	source    string
}

// flow is the state of one accepted connection. A REGISTER read from it
// holds mu for reading while it changes the registrar, so that the
// connection's close, which takes mu for writing, removes what it added.
type flow struct {
	mu       sync.RWMutex
	closed   bool
	closedAt time.Time
}

// flowTable tracks the TCP, TLS, WS and WSS connections the listeners
// accepted, because sipgo v1.7.2 has no public hook for a connection's close (its
// transports call only the transaction layer's OnConnectionClose). The
// listeners are wrapped so that the close of each accepted connection,
// whether the phone hung up the connection, a read failed or sipgo closed
// it, reaches onClose once.
type flowTable struct {
	now     func() time.Time
	onClose func(k flowKey)

	mu      sync.Mutex
	m       map[flowKey]*flow
	closedQ []closedFlow // closed flows, oldest first, for pruning
	ending  bool         // the server is closing: closes are not flow failures
}

type closedFlow struct {
	k flowKey
	f *flow
}

func newFlowTable(now func() time.Time, onClose func(flowKey)) *flowTable {
	return &flowTable{now: now, onClose: onClose, m: map[flowKey]*flow{}}
}

// listener wraps l, whose connections carry transport.
func (t *flowTable) listener(l net.Listener, transport string) net.Listener {
	return &flowListener{Listener: l, t: t, transport: transport}
}

// hold returns the state of the accepted connection k, locked for reading,
// and whether that connection has closed; release unlocks it. For a
// connection the listeners did not accept (one the PBX dialled, or one
// closed long ago) it returns a no-op release and false.
func (t *flowTable) hold(k flowKey) (release func(), closed bool) {
	t.mu.Lock()
	f := t.m[k]
	t.mu.Unlock()
	if f == nil {
		return func() {}, false
	}
	f.mu.RLock()
	return f.mu.RUnlock, f.closed
}

// end marks the server as closing: connections closed from now on are
// closed by the shutdown, and the bindings over them are kept for the
// phones to refresh after a restart.
func (t *flowTable) end() {
	t.mu.Lock()
	t.ending = true
	t.mu.Unlock()
}

func (t *flowTable) opened(k flowKey) *flow {
	f := &flow{}
	t.mu.Lock()
	t.m[k] = f
	t.pruneLocked()
	t.mu.Unlock()
	return f
}

func (t *flowTable) closed(k flowKey, f *flow) {
	now := t.now()
	// Wait for REGISTERs of this connection in progress; later ones see
	// closed and register nothing.
	f.mu.Lock()
	f.closed, f.closedAt = true, now
	f.mu.Unlock()
	t.mu.Lock()
	ending := t.ending
	if t.m[k] == f {
		t.closedQ = append(t.closedQ, closedFlow{k, f})
	}
	t.pruneLocked()
	t.mu.Unlock()
	if !ending {
		t.onClose(k)
	}
}

// pruneLocked forgets closed flows older than flowGrace. t.mu is held.
func (t *flowTable) pruneLocked() {
	now := t.now()
	i := 0
	for ; i < len(t.closedQ); i++ {
		c := t.closedQ[i]
		if now.Sub(c.f.closedAt) < flowGrace {
			break
		}
		if t.m[c.k] == c.f {
			delete(t.m, c.k)
		}
	}
	if i > 0 {
		t.closedQ = append(t.closedQ[:0], t.closedQ[i:]...)
	}
}

type flowListener struct {
	net.Listener
	t         *flowTable
	transport string
}

func (l *flowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	k := flowKey{l.transport, c.RemoteAddr().String()}
	return &flowConn{Conn: c, t: l.t, k: k, f: l.t.opened(k)}, nil
}

// flowConn reports the end of its connection: the first failed read (the
// phone closed it, or it broke) or Close, whichever comes first. Over WS
// and WSS it sits under sipgo's framing: a close frame (after which sipgo
// closes the connection) and a dropped TCP connection both end the flow.
type flowConn struct {
	net.Conn
	t    *flowTable
	k    flowKey
	f    *flow
	once sync.Once
}

func (c *flowConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		// sipgo closes the connection after any read error.
		c.report()
	}
	return n, err
}

func (c *flowConn) Close() error {
	err := c.Conn.Close()
	c.report()
	return err
}

func (c *flowConn) report() { c.once.Do(func() { c.t.closed(c.k, c.f) }) }
