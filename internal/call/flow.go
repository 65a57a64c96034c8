package call

import (
	"context"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Requests toward a phone on TCP, TLS or WebSocket must go over the
// connection the phone opened (its REGISTER's or INVITE's flow): the
// phone listens on no port of its own, so a new connection to its
// Contact or source fails, and carriers reject one (sipgo#361). sipgo
// finds a connection by the request's local address when one is set
// (Deps.Client's WithClientConnectionAddr sets the UDP listener's), and
// its connection pool keys every accepted connection under the listener's
// address too, so that lookup picks whichever phone connected last. For
// reliable transports the PBX clears the local address, and sipgo's
// connection reuse then looks the flow up by the phone's address: the
// dialog's dest, its binding's Source.

// viaFlow builds req as sipgo does by default and, for a reliable
// transport, drops the local address so that the phone's own connection
// is used.
func viaFlow(c *sipgo.Client, req *sip.Request) error {
	if err := sipgo.ClientRequestBuild(c, req); err != nil {
		return err
	}
	if sip.IsReliable(req.Transport()) {
		req.Laddr = sip.Addr{}
	}
	return nil
}

// request starts a client transaction for req over the phone's flow.
func (m *Manager) request(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	return m.d.Client.TransactionRequest(ctx, req, viaFlow)
}

// write sends req (an ACK) outside any transaction, over the phone's flow.
func (m *Manager) write(req *sip.Request) error {
	return m.d.Client.WriteRequest(req, viaFlow)
}
