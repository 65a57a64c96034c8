package signaling

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// Message waiting indication: the message-summary event package (RFC 3842)
// over SUBSCRIBE/NOTIFY (RFC 6665), as PortSIP offers it.
//
// A phone that subscribes gets a NOTIFY at once and after every change of
// its mailbox, inside the subscription's dialog, sent to the address and
// over the connection its SUBSCRIBE came from (like a registrar binding's
// flow). A user without a live subscription gets unsolicited NOTIFYs out of
// any dialog at each registered binding, as Asterisk's res_pjsip_mwi does
// for phones that expect MWI without subscribing. Those carry
// Subscription-State: terminated, as Asterisk's do: no subscription exists,
// so the phone keeps no subscription state and expects no refresh; and no
// To tag, since phones answer 481 to an in-dialog NOTIFY they know nothing of.
//
// Subscriptions live in memory only: a phone re-subscribes after a restart
// of the PBX when its refresh gets 481.

// Defaults and bounds of MWI subscriptions.
const (
	// DefaultMWIExpires is the expiry of a SUBSCRIBE without Expires, in
	// seconds (RFC 3842 section 3.4 suggests one hour); Config.MaxExpires
	// caps it like a registration's.
	DefaultMWIExpires = 3600
	// MaxMWIPerUser subscriptions of one user are kept; a newer one
	// replaces the oldest, which is most likely a phone that restarted.
	MaxMWIPerUser = 10
	// MaxMWISubscriptions bounds the subscriptions of all tenants; beyond
	// it a new SUBSCRIBE gets 503.
	MaxMWISubscriptions = 100000
)

const (
	eventMWI       = "message-summary"
	mwiContentType = "application/simple-message-summary"
)

// Mailboxes is what message waiting indication needs of the database: the
// tenant's domain for Message-Account and the counts of a mailbox. The
// server's Store must implement it for MWI to report anything; *store.DB
// does.
type Mailboxes interface {
	Tenant(ctx context.Context, id pbx.TenantID) (pbx.Tenant, error)
	CountVoicemails(ctx context.Context, tenant pbx.TenantID, user pbx.ID) (unread, read int, err error)
}

var _ Mailboxes = (*store.DB)(nil)

// mwiState holds the subscriptions and the NOTIFYs being sent. Its zero
// value is ready; mu guards everything in it and in its subscriptions.
type mwiState struct {
	mu     sync.Mutex
	subs   map[dialogKey]*subscription
	byUser map[userKey][]*subscription // oldest first
	// pumps are the targets (a subscription or a binding) with a NOTIFY
	// in flight: one goroutine per target sends its NOTIFYs in order.
	pumps map[string]*pump
}

type dialogKey struct{ callID, localTag, remoteTag string }

type userKey struct {
	tenant pbx.TenantID
	user   pbx.ID
}

// subscription is one message-summary subscription: the notifier's side of
// its dialog.
type subscription struct {
	key        dialogKey
	owner      userKey
	account    string  // Message-Account: sip:ext@domain
	local      sip.Uri // the To of the SUBSCRIBE: our From
	remote     sip.Uri // the From of the SUBSCRIBE: our To
	target     sip.Uri // the subscriber's Contact: our Request-URI
	routeSet   []sip.Uri
	dest       string // ip:port the SUBSCRIBE came from
	transport  string // UDP, TCP or TLS
	cseq       uint32 // of our last NOTIFY
	remoteCSeq uint32 // of the subscriber's last SUBSCRIBE
	expiresAt  time.Time
	timer      *time.Timer
	// done is set when the subscription has ended; reason is the
	// Subscription-State reason of its final NOTIFY ("" for an
	// unsubscribe), and final says that NOTIFY is still to be sent.
	done   bool
	final  bool
	reason string
}

type pump struct {
	again bool
	send  func(ctx context.Context)
}

// eventPackage returns the event package of a SUBSCRIBE: the Event header's
// type without parameters, in lower case.
func eventPackage(req *sip.Request) string {
	h := req.GetHeader("Event")
	if h == nil {
		return ""
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	return strings.ToLower(strings.TrimSpace(v))
}

// subscribe serves an authenticated SUBSCRIBE outside a dialog: a
// message-summary one creates a subscription to the user's own mailbox,
// any other event package gets 489.
func (s *Server) subscribe(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, tenant pbx.Tenant, user pbx.User) {
	if eventPackage(req) != eventMWI {
		res := sip.NewResponseFromRequest(req, 489, "Bad Event", nil)
		res.AppendHeader(sip.NewHeader("Allow-Events", eventMWI))
		s.respond(tx, res)
		return
	}
	// One may only watch one's own mailbox: the subscription always
	// reports the authenticated user's, and names it in the request.
	to := req.To()
	if req.Recipient.User != user.ExtensionNumber && (to == nil || to.Address.User != user.ExtensionNumber) {
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	if res := checkAccept(req); res != nil {
		s.respond(tx, res)
		return
	}
	expires, res := s.mwiExpires(req)
	if res != nil {
		s.respond(tx, res)
		return
	}
	from := req.From()
	remoteTag, _ := from.Params.Get("tag")
	if remoteTag == "" {
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Missing From Tag", nil))
		return
	}
	transport := strings.ToUpper(req.Transport())
	sub := &subscription{
		key:        dialogKey{req.CallID().Value(), sip.GenerateTagN(16), remoteTag},
		owner:      userKey{tenant.ID, user.ID},
		account:    "sip:" + user.ExtensionNumber + "@" + tenant.Domain,
		local:      to.Address,
		remote:     from.Address,
		target:     req.Recipient,
		dest:       req.Source(),
		transport:  transport,
		remoteCSeq: req.CSeq().SeqNo,
	}
	if c := req.Contact(); c != nil {
		sub.target = c.Address
	}
	for _, h := range req.GetHeaders("Record-Route") {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			sub.routeSet = append(sub.routeSet, rr.Address)
		}
	}
	now := s.now()
	if expires == 0 {
		// A fetch (RFC 6665 section 4.4.3): the state once, no subscription.
		sub.done, sub.final, sub.reason = true, true, "timeout"
		s.respond(tx, s.subscribeOK(req, sub, 0))
		s.notifyLater(sub)
		return
	}
	sub.expiresAt = now.Add(time.Duration(expires) * time.Second)
	m := &s.mwi
	m.mu.Lock()
	m.pruneLocked(now)
	if len(m.subs) >= MaxMWISubscriptions {
		m.mu.Unlock()
		s.log.Warn("mwi subscription refused: too many", "tenant", tenant.ID, "extension", user.ExtensionNumber)
		res := sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "300"))
		s.respond(tx, res)
		return
	}
	if m.subs == nil {
		m.subs, m.byUser = map[dialogKey]*subscription{}, map[userKey][]*subscription{}
	}
	if old := m.byUser[sub.owner]; len(old) >= MaxMWIPerUser {
		m.removeLocked(old[0], "")
		old[0].final = false // replaced, not ended by the phone: no NOTIFY
	}
	m.subs[sub.key] = sub
	m.byUser[sub.owner] = append(m.byUser[sub.owner], sub)
	s.armLocked(sub, now)
	m.mu.Unlock()
	s.log.Info("mwi subscribed", "tenant", tenant.ID, "extension", user.ExtensionNumber, "source", sub.dest, "transport", transport, "expires", expires)
	s.respond(tx, s.subscribeOK(req, sub, expires))
	s.notifyLater(sub)
}

// resubscribe serves a SUBSCRIBE inside a subscription's dialog: a refresh,
// or with Expires: 0 the end of the subscription. It authenticates like any
// request, and only the subscription's owner may refresh it.
func (s *Server) resubscribe(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	toTag, _ := req.To().Params.Get("tag")
	fromTag, _ := req.From().Params.Get("tag")
	key := dialogKey{req.CallID().Value(), toTag, fromTag}
	m := &s.mwi
	m.mu.Lock()
	_, ours := m.subs[key]
	m.mu.Unlock()
	if !ours {
		// Another dialog's (or an ended subscription's): the call handler
		// may know it, else 481 tells the phone to subscribe afresh.
		s.inDialog(ctx, req, tx)
		return
	}
	if eventPackage(req) != eventMWI {
		s.respond(tx, sip.NewResponseFromRequest(req, 489, "Bad Event", nil))
		return
	}
	tenant, user, res := s.authenticate(ctx, req)
	if res == nil && s.guard.isBlocked(sourceIP(req)) {
		return
	}
	if res != nil || user.ID == 0 {
		s.respond(tx, res)
		return
	}
	expires, res := s.mwiExpires(req)
	if res != nil {
		s.respond(tx, res)
		return
	}
	now := s.now()
	m.mu.Lock()
	m.pruneLocked(now)
	sub := m.subs[key]
	switch {
	case sub == nil:
		m.mu.Unlock()
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist", nil))
		return
	case sub.owner != (userKey{tenant.ID, user.ID}):
		m.mu.Unlock()
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	case req.CSeq().SeqNo <= sub.remoteCSeq:
		m.mu.Unlock()
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "CSeq Out of Order", nil))
		return
	}
	sub.remoteCSeq = req.CSeq().SeqNo
	if c := req.Contact(); c != nil {
		sub.target = c.Address
	}
	// The phone may have moved to another connection or port.
	sub.dest, sub.transport = req.Source(), strings.ToUpper(req.Transport())
	if expires == 0 {
		m.removeLocked(sub, "")
	} else {
		sub.expiresAt = now.Add(time.Duration(expires) * time.Second)
		s.armLocked(sub, now)
	}
	m.mu.Unlock()
	s.respond(tx, s.subscribeOK(req, sub, expires))
	s.notifyLater(sub)
}

// checkAccept answers 406 to a SUBSCRIBE whose Accept excludes the
// message-summary body.
func checkAccept(req *sip.Request) *sip.Response {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return nil
	}
	for _, h := range hs {
		for _, t := range strings.Split(h.Value(), ",") {
			t, _, _ = strings.Cut(t, ";")
			switch strings.ToLower(strings.TrimSpace(t)) {
			case mwiContentType, "application/*", "*/*":
				return nil
			}
		}
	}
	res := sip.NewResponseFromRequest(req, sip.StatusNotAcceptable, "Not Acceptable", nil)
	res.AppendHeader(sip.NewHeader("Accept", mwiContentType))
	return res
}

// mwiExpires reads the Expires of a SUBSCRIBE: DefaultMWIExpires when
// absent, 423 below MinExpires (0 excepted), capped at MaxExpires.
func (s *Server) mwiExpires(req *sip.Request) (int, *sip.Response) {
	expires := min(DefaultMWIExpires, s.cfg.MaxExpires)
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			return 0, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Expires", nil)
		}
		expires = n
	}
	if expires > 0 && expires < s.cfg.MinExpires {
		res := sip.NewResponseFromRequest(req, sip.StatusIntervalToBrief, "Interval Too Brief", nil)
		res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(s.cfg.MinExpires)))
		return 0, res
	}
	return min(expires, s.cfg.MaxExpires), nil
}

func (s *Server) subscribeOK(req *sip.Request, sub *subscription, expires int) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if to := res.To(); to != nil && !inDialog(req) {
		to.Params.Add("tag", sub.key.localTag)
	}
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res.AppendHeader(&sip.ContactHeader{Address: s.selfContact(sub.transport)})
	return res
}

// armLocked (re)starts the timer that ends sub at its expiry. The timer
// checks the server's clock, so that an injected clock decides, and looks
// again when it fires early by that clock.
func (s *Server) armLocked(sub *subscription, now time.Time) {
	if sub.timer != nil {
		sub.timer.Stop()
	}
	sub.timer = time.AfterFunc(max(sub.expiresAt.Sub(now), time.Second), func() { s.expire(sub) })
}

func (s *Server) expire(sub *subscription) {
	m := &s.mwi
	now := s.now()
	m.mu.Lock()
	if sub.done || m.subs[sub.key] != sub {
		m.mu.Unlock()
		return
	}
	if sub.expiresAt.After(now) {
		s.armLocked(sub, now)
		m.mu.Unlock()
		return
	}
	m.removeLocked(sub, "timeout")
	m.mu.Unlock()
	s.notifyLater(sub)
}

// removeLocked ends sub; its final NOTIFY carries reason.
func (m *mwiState) removeLocked(sub *subscription, reason string) {
	if sub.timer != nil {
		sub.timer.Stop()
	}
	sub.done, sub.final, sub.reason = true, true, reason
	delete(m.subs, sub.key)
	list := m.byUser[sub.owner]
	for i, x := range list {
		if x == sub {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(m.byUser, sub.owner)
	} else {
		m.byUser[sub.owner] = list
	}
}

// pruneLocked drops, without a final NOTIFY, the subscriptions that the
// server's clock says have expired before their timers fired (an injected
// clock runs ahead of the timers).
func (m *mwiState) pruneLocked(now time.Time) {
	for _, sub := range m.subs {
		if !sub.expiresAt.After(now) {
			m.removeLocked(sub, "timeout")
			sub.final = false
		}
	}
}

// MailboxChanged tells the phones of user in tenant how many voicemails
// wait: a NOTIFY to each of the user's subscriptions or, when it has none,
// an unsolicited NOTIFY to each of its registered bindings. It looks the
// counts up when each NOTIFY leaves, so that a burst of changes sends the
// latest; it returns at once and the NOTIFYs go out in the background for
// as long as the server runs. It is safe for concurrent use.
func (s *Server) MailboxChanged(ctx context.Context, tenant pbx.TenantID, user pbx.ID) {
	if s.ctx == nil {
		return
	}
	m := &s.mwi
	owner := userKey{tenant, user}
	m.mu.Lock()
	m.pruneLocked(s.now())
	subs := append([]*subscription(nil), m.byUser[owner]...)
	m.mu.Unlock()
	if len(subs) > 0 {
		for _, sub := range subs {
			s.notifyLater(sub)
		}
		return
	}
	mb, ok := s.st.(Mailboxes)
	if !ok {
		return
	}
	t, err := mb.Tenant(ctx, tenant)
	if err != nil {
		s.log.Warn("mwi not sent", "tenant", tenant, "user", user, "error", err)
		return
	}
	bs, err := s.reg.Bindings(ctx, tenant, user)
	if err != nil {
		s.log.Warn("mwi not sent", "tenant", tenant, "user", user, "error", err)
		return
	}
	for _, b := range bs {
		b := b
		s.kick("b:"+b.ID.String(), func(ctx context.Context) { s.notifyBinding(ctx, t, b) })
	}
}

// notifyLater queues the NOTIFY of sub's current state.
func (s *Server) notifyLater(sub *subscription) {
	s.kick("s:"+sub.key.callID+"\x00"+sub.key.localTag, func(ctx context.Context) { s.notifySubscription(ctx, sub) })
}

// kick runs send for target in the target's pump goroutine, which sends
// one NOTIFY at a time in order; a send asked for while one is in flight
// runs once after it, whatever the number of asks.
func (s *Server) kick(target string, send func(ctx context.Context)) {
	ctx := s.ctx
	if ctx == nil || ctx.Err() != nil {
		return
	}
	m := &s.mwi
	m.mu.Lock()
	if p := m.pumps[target]; p != nil {
		p.again, p.send = true, send
		m.mu.Unlock()
		return
	}
	if m.pumps == nil {
		m.pumps = map[string]*pump{}
	}
	p := &pump{}
	m.pumps[target] = p
	m.mu.Unlock()
	go func() {
		for {
			send(ctx)
			m.mu.Lock()
			if !p.again || ctx.Err() != nil {
				delete(m.pumps, target)
				m.mu.Unlock()
				return
			}
			p.again, send = false, p.send
			m.mu.Unlock()
		}
	}()
}

// summary returns the message-summary body of a mailbox.
func (s *Server) summary(ctx context.Context, tenant pbx.TenantID, user pbx.ID, account string) ([]byte, error) {
	unread, read := 0, 0
	if mb, ok := s.st.(Mailboxes); ok {
		var err error
		if unread, read, err = mb.CountVoicemails(ctx, tenant, user); err != nil {
			return nil, err
		}
	}
	waiting := "no"
	if unread > 0 {
		waiting = "yes"
	}
	return []byte("Messages-Waiting: " + waiting + "\r\nMessage-Account: " + account + "\r\n" +
		"Voice-Message: " + strconv.Itoa(unread) + "/" + strconv.Itoa(read) + " (0/0)\r\n"), nil
}

// notifySubscription sends sub's NOTIFY: its current state, or its final
// one. A 481, a 408 or no answer ends the subscription.
func (s *Server) notifySubscription(ctx context.Context, sub *subscription) {
	m := &s.mwi
	m.mu.Lock()
	if sub.done && !sub.final {
		m.mu.Unlock()
		return
	}
	left := sub.expiresAt.Sub(s.now()).Round(time.Second)
	state := "active;expires=" + strconv.Itoa(max(int(left/time.Second), 0))
	if sub.done {
		state = "terminated"
		if sub.reason != "" {
			state += ";reason=" + sub.reason
		}
		sub.final = false
	}
	sub.cseq++
	req := sip.NewRequest(sip.NOTIFY, *sub.target.Clone())
	for _, r := range sub.routeSet {
		req.AppendHeader(&sip.RouteHeader{Address: *r.Clone()})
	}
	from := &sip.FromHeader{Address: *sub.local.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", sub.key.localTag)
	to := &sip.ToHeader{Address: *sub.remote.Clone(), Params: sip.NewParams()}
	to.Params.Add("tag", sub.key.remoteTag)
	req.AppendHeader(from)
	req.AppendHeader(to)
	cid := sip.CallIDHeader(sub.key.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: sub.cseq, MethodName: sip.NOTIFY})
	dest, transport := sub.dest, sub.transport
	m.mu.Unlock()

	body, err := s.summary(ctx, sub.owner.tenant, sub.owner.user, sub.account)
	if err != nil {
		s.log.Warn("mwi not sent", "tenant", sub.owner.tenant, "user", sub.owner.user, "error", err)
		return
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	res, err := s.sendNotify(ctx, req, body, dest, transport)
	if ctx.Err() != nil {
		return
	}
	if err != nil || res.StatusCode == sip.StatusCallTransactionDoesNotExists || res.StatusCode == sip.StatusRequestTimeout {
		reason := "no answer"
		if err == nil {
			reason = strconv.Itoa(res.StatusCode)
		}
		s.log.Info("mwi subscription dropped", "tenant", sub.owner.tenant, "user", sub.owner.user, "destination", dest, "reason", reason)
		m.mu.Lock()
		if !sub.done {
			m.removeLocked(sub, "")
			sub.final = false
		}
		m.mu.Unlock()
		return
	}
	if res.StatusCode >= 300 {
		s.log.Debug("mwi notify refused", "tenant", sub.owner.tenant, "user", sub.owner.user, "status", res.StatusCode)
	}
}

// notifyBinding sends an unsolicited NOTIFY to a registered binding.
func (s *Server) notifyBinding(ctx context.Context, tenant pbx.Tenant, b pbx.Binding) {
	var target sip.Uri
	raw := strings.TrimSpace(b.Contact)
	if strings.HasPrefix(raw, "<") {
		raw = strings.Trim(raw, "<>")
	}
	if err := sip.ParseUri(raw, &target); err != nil {
		s.log.Debug("mwi not sent: bad contact", "contact", b.Contact, "error", err)
		return
	}
	account := "sip:" + b.Extension + "@" + tenant.Domain
	body, err := s.summary(ctx, tenant.ID, b.User, account)
	if err != nil {
		s.log.Warn("mwi not sent", "tenant", tenant.ID, "user", b.User, "error", err)
		return
	}
	aor := sip.Uri{Scheme: "sip", User: b.Extension, Host: tenant.Domain}
	req := sip.NewRequest(sip.NOTIFY, target)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	cid := sip.CallIDHeader(sip.GenerateTagN(24) + "@gopbx")
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
	req.AppendHeader(sip.NewHeader("Subscription-State", "terminated"))
	transport := strings.ToUpper(b.Transport)
	if transport == "" {
		transport = "UDP"
	}
	dest := b.Source
	if dest == "" {
		dest = net.JoinHostPort(target.Host, strconv.Itoa(max(target.Port, 5060)))
	}
	res, err := s.sendNotify(ctx, req, body, dest, transport)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		s.log.Debug("unsolicited mwi not answered", "tenant", tenant.ID, "extension", b.Extension, "destination", dest, "error", err)
	case res.StatusCode >= 300:
		s.log.Debug("unsolicited mwi refused", "tenant", tenant.ID, "extension", b.Extension, "status", res.StatusCode)
	}
}

// sendNotify completes req (Event, body, Contact) and sends it to dest over
// the flow of transport, returning the final response.
func (s *Server) sendNotify(ctx context.Context, req *sip.Request, body []byte, dest, transport string) (*sip.Response, error) {
	req.AppendHeader(sip.NewHeader("Event", eventMWI))
	req.AppendHeader(&sip.ContactHeader{Address: s.selfContact(transport)})
	ct := sip.ContentTypeHeader(mwiContentType)
	req.AppendHeader(&ct)
	req.SetBody(body)
	req.SetDestination(dest)
	req.SetTransport(transport)
	res, err := s.client.Do(ctx, req, overFlow)
	if err != nil && !errors.Is(err, sip.ErrTransactionTimeout) && ctx.Err() == nil {
		s.log.Debug("mwi notify failed", "destination", dest, "transport", transport, "error", err)
	}
	return res, err
}

// overFlow builds req as sipgo does by default and, for a reliable
// transport, clears the local address so that sipgo reuses the phone's own
// connection, found by its address (see call's viaFlow).
func overFlow(c *sipgo.Client, req *sip.Request) error {
	if err := sipgo.ClientRequestBuild(c, req); err != nil {
		return err
	}
	if sip.IsReliable(req.Transport()) {
		req.Laddr = sip.Addr{}
	}
	return nil
}

// selfContact is the PBX's Contact URI on transport.
func (s *Server) selfContact(transport string) sip.Uri {
	u := sip.Uri{Scheme: "sip", Host: s.hostname()}
	addr := s.Addr(transport)
	if addr == "" {
		addr = s.Addr("udp")
	}
	if _, p, err := net.SplitHostPort(addr); err == nil {
		u.Port, _ = strconv.Atoi(p)
	}
	switch strings.ToUpper(transport) {
	case "TCP":
		u.UriParams = sip.HeaderParams{{K: "transport", V: "tcp"}}
	case "TLS":
		u.UriParams = sip.HeaderParams{{K: "transport", V: "tls"}}
	case "WS":
		u.UriParams = sip.HeaderParams{{K: "transport", V: "ws"}}
	case "WSS":
		u.UriParams = sip.HeaderParams{{K: "transport", V: "wss"}}
	}
	return u
}
