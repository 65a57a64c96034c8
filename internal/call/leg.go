package call

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/pbx"
)

// allow is what the PBX accepts inside its dialogs.
const allow = "INVITE, ACK, CANCEL, BYE, UPDATE, INFO, OPTIONS, MESSAGE, NOTIFY, PRACK, REFER"

// drainTimeout bounds how long a leg of a finished call waits for its
// final response.
const drainTimeout = 4 * time.Second

// leg is one INVITE forked to one contact of the callee, or sent to one
// trunk route of an outbound call.
type leg struct {
	s       *session
	binding pbx.Binding
	// route is the trunk route of an outbound leg; nil for a phone.
	route  *TrunkRoute
	target sip.Uri // the leg's Request-URI
	d      *dialog
	// release gives back the trunk's concurrent call; nil when none was
	// taken. It runs once, when the leg or its call ends.
	release func()
	// authed is true once the leg answered the trunk's challenge: a
	// second challenge fails the route (wrong credentials).
	authed bool

	// interval and minSE are the session timer the leg's INVITE offers
	// (0: none); a 422 raises them.
	interval, minSE time.Duration
	// rseq is the last RSeq of the callee's reliable provisionals; it is
	// guarded by s.mu.
	rseq uint32

	mu          sync.Mutex
	invite      *sip.Request
	provisional bool // a 1xx arrived: CANCEL may be sent (RFC 3261 9.1)
	cancelled   bool
}

// maxRetries422 bounds how often a leg's INVITE is retried with a higher
// session interval after 422 (RFC 4028 section 7.4).
const maxRetries422 = 2

// run sends the leg's INVITE and follows its responses until the final one.
func (l *leg) run(offer []byte) {
	s := l.s
	if err := l.prepare(); err != nil {
		s.log.Info("bad contact", "contact", l.name(), "error", err)
		s.onLegFailed(l, sip.StatusBadRequest)
		return
	}
	if !l.acquire() {
		s.log.Info("trunk at its concurrency limit", "trunk", l.name())
		s.onLegFailed(l, sip.StatusServiceUnavailable)
		return
	}
	var auth *sip.Response // the challenge to answer, if any
	for try := 0; ; try++ {
		req := l.newInvite(offer)
		if auth != nil {
			if err := l.authorize(req, auth); err != nil {
				s.log.Info("trunk challenge not answered", "trunk", l.name(), "error", err)
				l.end()
				s.onLegFailed(l, auth.StatusCode)
				return
			}
			auth = nil
		}
		l.mu.Lock()
		if l.cancelled {
			l.mu.Unlock()
			s.onLegFailed(l, sip.StatusRequestTerminated)
			return
		}
		l.invite = req
		l.provisional = false
		l.mu.Unlock()

		tx, err := s.m.request(s.ctx, req)
		if err != nil {
			s.log.Info("leg invite failed", "contact", l.name(), "error", err)
			l.end()
			s.onLegFailed(l, sip.StatusServiceUnavailable)
			return
		}
		res := l.follow(tx)
		if res == nil {
			return
		}
		if l.challenged(res) {
			auth = res
			continue
		}
		if min := minSE(res); res.StatusCode == 422 && l.interval > 0 && min > l.interval && try < maxRetries422 {
			// Session Interval Too Small: again, with the callee's minimum.
			s.log.Debug("callee wants a longer session interval", "min_se", min)
			l.interval, l.minSE = min, min
			continue
		}
		l.end()
		s.onLegFailed(l, res.StatusCode)
		return
	}
}

// prepare makes the leg's dialog toward its binding: requests go to the
// binding's Source over its transport (the phone's flow). A trunk leg's
// dialog is what its route says.
func (l *leg) prepare() error {
	s := l.s
	if r := l.route; r != nil {
		l.target = r.RequestURI
		transport := strings.ToUpper(r.Transport)
		if transport == "" {
			transport = "UDP"
		}
		contact := s.m.contact(transport)
		contact.User = r.ContactUser
		l.d = &dialog{
			callID: newCallID(), localTag: newTag(),
			local: r.From, localName: r.FromName, remote: r.To, remoteName: r.ToName,
			remoteTarget: r.RequestURI, dest: r.Dest, transport: transport, contact: contact,
			sessionID: s.id.String(),
		}
		if se := s.m.d.SessionExpires; se > 0 {
			l.interval, l.minSE = se, s.m.d.MinSessionExpires
		}
		return nil
	}
	target, err := contactURI(l.binding.Contact)
	if err != nil {
		return err
	}
	l.target = target
	transport := strings.ToUpper(l.binding.Transport)
	if transport == "" {
		transport = "UDP"
	}
	dest := l.binding.Source
	if dest == "" {
		dest = hostPort(target, transport)
	}
	local, localName := sip.Uri{Scheme: "sip", User: s.rec.Caller, Host: s.tenant.Domain}, s.rec.CallerDisplayName
	if s.anonymous {
		local, localName = sip.Uri{Scheme: "sip", User: "anonymous", Host: "anonymous.invalid"}, "Anonymous"
	}
	l.d = &dialog{
		callID:       newCallID(),
		localTag:     newTag(),
		local:        local,
		localName:    localName,
		remote:       sip.Uri{Scheme: "sip", User: s.rec.Callee, Host: s.tenant.Domain},
		remoteName:   s.rec.CalleeDisplayName,
		remoteTarget: target,
		dest:         dest,
		transport:    transport,
		contact:      s.m.contact(transport),
		sessionID:    s.id.String(),
	}
	if se := s.m.d.SessionExpires; se > 0 {
		l.interval, l.minSE = se, s.m.d.MinSessionExpires
	}
	return nil
}

// newInvite builds the leg's INVITE, offering 100rel and the session
// timer.
func (l *leg) newInvite(offer []byte) *sip.Request {
	s := l.s
	ct := ""
	if offer != nil {
		ct = "application/sdp"
	}
	s.mu.Lock()
	// A retry after 422 starts afresh, outside any early dialog.
	l.d.remoteTag, l.d.remoteTarget, l.d.routeSet, l.rseq = "", l.target, nil, 0
	req := l.d.newRequest(sip.INVITE, offer, ct)
	l.d.inviteCSeq = l.d.cseq
	s.mu.Unlock()
	if mf := s.req.MaxForwards(); mf != nil {
		// Carry the caller's hop count down, so that a contact that leads
		// back to the PBX ends in 483 instead of looping.
		fwd := sip.MaxForwardsHeader(mf.Val() - 1)
		req.ReplaceHeader(&fwd)
	}
	req.AppendHeader(sip.NewHeader("Allow", allow))
	if l.route != nil {
		for _, h := range l.route.Headers {
			req.AppendHeader(sip.HeaderClone(h))
		}
	}
	if l.interval > 0 {
		req.AppendHeader(sip.NewHeader("Supported", "100rel, timer"))
		addRefreshHeaders(req, l.interval, l.minSE)
	} else {
		req.AppendHeader(sip.NewHeader("Supported", "100rel"))
	}
	return req
}

// follow follows the responses of the leg's INVITE transaction. It
// returns a final error response for run to act on, or nil when the leg
// is done (answered, timed out, or the call ended).
func (l *leg) follow(tx sip.ClientTransaction) *sip.Response {
	s := l.s
	for {
		select {
		case res := <-tx.Responses():
			switch {
			case res.IsProvisional():
				l.gotProvisional()
				if reliable, fresh := l.prackCallee(res); fresh {
					s.onProvisional(l, res, reliable)
				}
			case res.IsSuccess():
				l.onSuccess(tx, res)
				return nil
			default:
				tx.Terminate()
				return res
			}
		case <-tx.Done():
			s.onLegFailed(l, sip.StatusRequestTimeout)
			return nil
		case <-s.ctx.Done():
			// The call is over; a cancelled leg still gets a little while
			// for its 487, so that it is ACKed and the phone stops ringing.
			l.drain(tx)
			return nil
		}
	}
}

// drain waits briefly for a final response on a leg whose call is over,
// and hangs up a late 2xx.
func (l *leg) drain(tx sip.ClientTransaction) {
	defer tx.Terminate()
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				l.gotProvisional()
				continue
			}
			if res.IsSuccess() {
				l.onSuccess(tx, res)
			}
			return
		case <-tx.Done():
			return
		case <-t.C:
			return
		}
	}
}

// onSuccess handles the leg's 2xx: ACK it, and if another leg already won,
// hang it up again.
func (l *leg) onSuccess(tx sip.ClientTransaction, res *sip.Response) {
	s := l.s
	if !s.onAnswer(l, res) {
		l.d.confirmUAC(res)
		ack := l.d.newACK(l.d.inviteCSeq, nil, "")
		bye := l.d.newRequest(sip.BYE, nil, "")
		s.m.write(ack)
		s.send(context.WithoutCancel(s.ctx), bye)
		return
	}
	s.mu.Lock()
	ack := l.d.newACK(l.d.inviteCSeq, nil, "")
	if s.lateOffer {
		// The 2xx carried the offer: the ACK carries the caller's answer
		// and waits for the caller's ACK.
		s.pendingACK[media.A] = ack
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	l.sendACK(tx, ack)
}

// sendACK sends ack and again for each retransmitted 2xx.
func (l *leg) sendACK(tx sip.ClientTransaction, ack *sip.Request) {
	tmpl := ack.Clone()
	tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			l.s.m.write(tmpl.Clone())
		}
	})
	if err := l.s.m.write(ack); err != nil {
		l.s.log.Info("ack callee", "error", err)
	}
}

func (l *leg) gotProvisional() {
	l.mu.Lock()
	first := !l.provisional
	l.provisional = true
	pending := l.cancelled
	l.mu.Unlock()
	if first && pending {
		l.s.m.goWait(l.sendCancel)
	}
}

// cancel cancels the leg: at once when it got a provisional response, else
// as soon as it gets one.
func (l *leg) cancel() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancelled {
		return
	}
	l.cancelled = true
	if l.invite != nil && l.provisional {
		l.s.m.goWait(l.sendCancel)
	}
}

func (l *leg) sendCancel() {
	l.mu.Lock()
	inv := l.invite
	l.mu.Unlock()
	req := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	if via := inv.Via(); via != nil {
		req.AppendHeader(sip.HeaderClone(via))
	}
	for _, h := range inv.GetHeaders("Route") {
		req.AppendHeader(sip.HeaderClone(h))
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(inv.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	req.SetBody(nil)
	req.SetDestination(inv.Destination())
	req.SetTransport(inv.Transport())
	l.s.send(context.WithoutCancel(l.s.ctx), req)
}

// contactURI takes the URI out of a Contact value as a phone sent it.
func contactURI(contact string) (sip.Uri, error) {
	c := strings.TrimSpace(contact)
	if i := strings.IndexByte(c, '<'); i >= 0 {
		j := strings.IndexByte(c[i:], '>')
		if j < 0 {
			return sip.Uri{}, fmt.Errorf("parse contact %q: no closing >", contact)
		}
		c = c[i+1 : i+j]
	}
	var u sip.Uri
	if err := sip.ParseUri(c, &u); err != nil {
		return sip.Uri{}, fmt.Errorf("parse contact %q: %w", contact, err)
	}
	return u, nil
}

func hostPort(u sip.Uri, transport string) string {
	port := u.Port
	if port == 0 {
		port = int(sip.DefaultPort(transport))
	}
	return fmt.Sprintf("%s:%d", u.Host, port)
}
