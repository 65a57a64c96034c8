package call

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/pbx"
)

type state int

const (
	ringing state = iota
	answered
	ended
)

// session is one call: the caller's dialog (side A), the legs forked to the
// callee's contacts, the one that answered (side B), the media relays and
// the CDR facts. Its fields are guarded by mu; SIP transactions are never
// waited on with mu held.
type session struct {
	m      *Manager
	id     pbx.ID
	tenant pbx.Tenant
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	req      *sip.Request // the caller's INVITE
	tx       sip.ServerTransaction
	answered chan struct{} // closed when the INVITE got its final answer
	acked    chan struct{} // closed when the caller ACKed the 2xx
	ackOnce  sync.Once

	mu        sync.Mutex
	state     state
	a, b      *dialog
	keys      []string
	legs      []*leg
	codes     []int
	winner    *leg
	relays    []*media.Relay
	ringTimer timer
	// lateOffer is true when the caller's INVITE had no SDP: the callee's
	// 2xx then carries the offer, and its ACK waits for the caller's answer.
	lateOffer bool
	// pendingACK[side] is the ACK to send to the other side when side's
	// ACK arrives (late-offer INVITE or re-INVITE).
	pendingACK [2]*sip.Request
	// offering is true while a re-INVITE or UPDATE is in flight (glare: 491).
	offering bool
	rec      CDR
	// stopOnDone unregisters the hangup that the end of ctx triggers.
	stopOnDone func() bool
	// sessionInterval is the caller's session timer (RFC 4028), 0 for none.
	sessionInterval time.Duration
	sessionTimer    timer
	// rel is the 100rel state toward the caller (prack.go).
	rel relState
	// callee is the session timer toward the callee (refresh.go).
	callee calleeTimer
	// sdpTo[side] is the last SDP the PBX sent side's phone: a refresh by
	// re-INVITE offers it again, a transfer offers it to the target.
	sdpTo [2][]byte
	// reinvite2xx[side] resends the 2xx to side's re-INVITE until its ACK.
	reinvite2xx [2]*pending2xx
	// peers[side] is who side's phone is once a transfer changed it.
	peers [2]identity
	// callerSide is the side of the CDR's caller: A, until a transfer by
	// the caller makes the transferee (B) the caller of the rest.
	callerSide media.Side
	// xfer is the blind transfer in progress, if any (refer.go).
	xfer *referral
	// routes are the trunk routes of an outbound call; the legs tried so
	// far are the first len(legs) of them (failover, one at a time).
	routes []TrunkRoute
	// anonymous hides the caller from the phones rung (Plan.Anonymous).
	anonymous bool
	// app answers the call itself; unanswered takes it when no phone
	// does; target is what either acts for (Plan.App, Plan.Unanswered,
	// Plan.Target). endpoint is the media of a call an app answered.
	app        App
	unanswered func(Outcome) App
	target     string
	// ringTimeout is how long the phones ring (Plan.RingTimeout, or the
	// Manager's).
	ringTimeout time.Duration
	endpoint    *media.Endpoint
	// aDone is true once the caller's INVITE got its final answer from an
	// App: later ringing (AppCall.Transfer) answers the caller nothing.
	aDone bool
	// appChoice is the codec the App answered the caller with.
	appChoice media.Choice
	// held[side] is the music the other phone hears while side holds
	// the call (hold.go).
	held [2]*holdMusic
	// recordPlan says whether to record the call once answered, and
	// recording is the recording in progress (record.go).
	recordPlan recordPlan
	recording  recordTap
}

func (m *Manager) newSession(ctx context.Context, origin Origin, plan Plan, req *sip.Request, tx sip.ServerTransaction) (*session, int, error) {
	if mf := req.MaxForwards(); mf != nil && mf.Val() <= 1 {
		return nil, sip.StatusTooManyHops, fmt.Errorf("max-forwards exhausted")
	}
	tenant := plan.Tenant.ID
	rec := newCDR(origin, plan, req)
	var legs []*leg
	var calleeUser pbx.User // the user rung, for recordingFor
	app := plan.App
	if app == nil && plan.Extension != "" {
		number := plan.Extension
		callee, err := m.d.Users.UserByExtension(ctx, tenant, number)
		if err != nil {
			return nil, statusFor(err), fmt.Errorf("find callee %s: %w", number, err)
		}
		if !callee.Enabled {
			return nil, sip.StatusTemporarilyUnavailable, fmt.Errorf("callee %s disabled", number)
		}
		bindings, err := m.d.Locator.Contacts(ctx, tenant, number)
		if err != nil {
			return nil, statusFor(err), fmt.Errorf("find contacts of %s: %w", number, err)
		}
		// The extension rang is the callee, also of a call to a DID (the
		// CDR keeps the DID in did_cid): its phones see their own number.
		rec.Callee = number
		rec.CalleeDisplayName = callee.DisplayName
		calleeUser = callee
		for _, b := range bindings {
			if b.Tenant != 0 && b.Tenant != tenant {
				continue // calls never cross tenants, whatever a locator says
			}
			legs = append(legs, &leg{binding: b})
		}
		if len(legs) == 0 {
			if plan.Unanswered != nil {
				app = plan.Unanswered(Offline) // straight to voicemail, or where the offline rule says
			}
			if app == nil {
				return nil, sip.StatusTemporarilyUnavailable, fmt.Errorf("%s has no contacts in tenant", number)
			}
		}
	} else if app == nil {
		if len(plan.Trunks) == 0 {
			return nil, sip.StatusNotFound, fmt.Errorf("no route for %s", req.Recipient.User)
		}
		legs = append(legs, &leg{route: &plan.Trunks[0]})
	}
	id := m.d.NewID()
	s := &session{
		m:           m,
		id:          id,
		tenant:      plan.Tenant,
		req:         req,
		tx:          tx,
		answered:    make(chan struct{}),
		acked:       make(chan struct{}),
		routes:      plan.Trunks,
		anonymous:   plan.Anonymous,
		app:         app,
		unanswered:  plan.Unanswered,
		target:      plan.Target,
		ringTimeout: cmp.Or(plan.RingTimeout, m.d.RingTimeout),
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.log = m.log.With("tenant", tenant, "session_id", id, "call_id", callID(req))

	dest, transport := origin.Source, origin.Transport
	if dest == "" {
		dest = req.Source()
	}
	if transport == "" {
		transport = req.Transport()
	}
	s.a = uasDialog(req, newTag(), m.contact(transport), dest, transport, id.String())
	if d, ok := sessionExpires(req); ok && supportsTimer(req) {
		s.sessionInterval = d
	}
	s.rel.supported = lists(req, "100rel", "Supported", "k", "Require")
	s.rel.required = lists(req, "100rel", "Require")

	rec.SessionID, rec.StartedAt = id, m.d.Now()
	s.rec = rec
	s.recordPlan = recordingFor(plan.Tenant, origin.User, calleeUser, s.log)
	for _, l := range legs {
		l.s = s
	}
	s.legs = legs
	return s, 0, nil
}

// run starts the legs and waits until the caller's INVITE is answered.
func (s *session) run() {
	m := s.m
	registered := false
	defer func() {
		if !registered {
			s.cancel()
		}
	}()
	s.respondA(sip.StatusTrying, "Trying", nil)
	if s.app != nil {
		if !m.addSession(s) {
			s.log.Info("call rejected", "reason", "tenant at max concurrent calls", "max", s.tenant.MaxConcurrentCalls)
			s.reject(sip.StatusServiceUnavailable)
			return
		}
		registered = true
		key := dialogKey(s.a.callID, s.a.localTag)
		s.keys = append(s.keys, key)
		m.addDialog(key, dialogRef{s: s, side: media.A})
		if !s.tx.OnCancel(func(*sip.Request) {
			m.goWait(func() { s.hangup(s.ctx, EndCancelled) })
		}) {
			s.hangup(s.ctx, EndCancelled)
			return
		}
		s.serveApp(s.app, s.target)
		return
	}

	var offer []byte
	if body := s.req.Body(); len(body) > 0 {
		if !isSDP(s.req) {
			s.reject(sip.StatusUnsupportedMediaType)
			return
		}
		var err error
		s.mu.Lock()
		offer, err = s.rewriteSDP(body, media.A)
		s.mu.Unlock()
		if err != nil {
			s.log.Info("caller offer rejected", "error", err)
			s.closeRelays()
			if errors.Is(err, media.ErrNoPorts) {
				s.reject(sip.StatusServiceUnavailable)
			} else {
				s.reject(sip.StatusNotAcceptableHere)
			}
			return
		}
	} else {
		s.lateOffer = true
	}
	s.sdpTo[media.B] = offer

	if !m.addSession(s) {
		s.log.Info("call rejected", "reason", "tenant at max concurrent calls", "max", s.tenant.MaxConcurrentCalls)
		s.closeRelays()
		s.reject(sip.StatusServiceUnavailable)
		return
	}
	registered = true
	key := dialogKey(s.a.callID, s.a.localTag)
	s.keys = append(s.keys, key)
	m.addDialog(key, dialogRef{s: s, side: media.A})
	s.log.Info("call started", "caller", s.rec.Caller, "callee", s.rec.Callee, "legs", len(s.legs))

	if !s.tx.OnCancel(func(*sip.Request) {
		m.goWait(func() { s.hangup(s.ctx, EndCancelled) })
	}) {
		s.hangup(s.ctx, EndCancelled)
		return
	}
	s.mu.Lock()
	s.ringTimer = m.clock.AfterFunc(s.ringTimeout, func() {
		m.goWait(func() { s.giveUp(sip.StatusTemporarilyUnavailable, "ring timeout") })
	})
	for _, l := range s.legs {
		m.goWait(func() { l.run(offer) })
	}
	s.mu.Unlock()

	select {
	case <-s.answered:
	case <-s.ctx.Done():
		s.hangup(context.WithoutCancel(s.ctx), "")
	}
}

// reject answers the caller's INVITE with code before any leg was tried,
// and records the attempt.
func (s *session) reject(code int) {
	s.respondA(code, reasonFor(code), nil)
	s.rec.StatusCode = code
	s.rec.EndedAt = s.m.d.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	if err := s.m.d.CDRs.CreateCDR(ctx, s.tenant.ID, &s.rec); err != nil {
		s.log.Error("write cdr", "error", err)
	}
}

// respondA answers the caller's INVITE. Responses above 100 carry the
// PBX's tag, so the caller sees one dialog whatever leg answers. A final
// answer ends the retransmission of reliable provisionals. Once legs run,
// the caller holds s.mu.
func (s *session) respondA(code int, reason string, body []byte) *sip.Response {
	res := s.responseA(code, reason, body)
	if code >= 200 {
		s.endReliable()
	}
	if err := s.tx.Respond(res); err != nil {
		s.log.Debug("respond to caller", "status", code, "error", err)
	}
	return res
}

// responseA builds a response to the caller's INVITE.
func (s *session) responseA(code int, reason string, body []byte) *sip.Response {
	res := sip.NewResponseFromRequest(s.req, code, reason, body)
	if code > 100 {
		if to := res.To(); to != nil {
			to.Params.Add("tag", s.a.localTag)
		}
	}
	if code > 100 && code < 300 {
		res.AppendHeader(&sip.ContactHeader{Address: *s.a.contact.Clone()})
	}
	if code >= 200 && code < 300 && s.sessionInterval > 0 {
		addTimerHeaders(res, s.sessionInterval)
	}
	res.AppendHeader(sip.NewHeader("X-Session-Id", s.id.String()))
	if len(body) > 0 {
		ct := sip.ContentTypeHeader("application/sdp")
		res.AppendHeader(&ct)
	}
	return res
}

// retransmit2xx resends the caller's 2xx until its ACK comes (RFC 3261
// 13.3.1.4: over UDP the UAS core, not the transaction, does it), and
// hangs up when none came within 64*T1.
func (s *session) retransmit2xx(res *sip.Response, transport string) {
	if !strings.EqualFold(transport, "UDP") {
		return
	}
	rt := s.m.retransmit(func() {
		if err := s.tx.Respond(res); err != nil {
			s.log.Debug("retransmit 2xx", "error", err)
		}
	}, func() {
		s.log.Info("caller never acked the 2xx")
		s.m.goWait(func() { s.hangup(s.ctx, "") })
	}, sip.T2)
	defer rt.stop()
	select {
	case <-s.acked:
		s.log.Debug("caller acked the 2xx")
	case <-s.tx.Acks():
		// A phone that reused the INVITE's branch for its ACK: the
		// transaction took it.
	case <-s.ctx.Done():
	}
}

// onProvisional relays a callee's 180/183 to the caller, with early media
// anchored when it has SDP. reliable says the callee sent it reliably
// (RFC 3262): the caller then gets it reliably too if it supports 100rel.
func (s *session) onProvisional(l *leg, res *sip.Response, reliable bool) {
	if res.StatusCode == sip.StatusTrying {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != ringing {
		return
	}
	if s.rec.RangAt.IsZero() {
		s.rec.RangAt = s.m.d.Now()
	}
	var body []byte
	if len(res.Body()) > 0 && isSDP(res) && !s.lateOffer {
		b, err := s.rewriteSDP(res.Body(), media.B)
		if err != nil {
			s.log.Info("early media sdp ignored", "error", err)
		} else {
			body = b
		}
	}
	if s.aDone {
		return // the caller was answered by an App
	}
	code := res.StatusCode
	if code != sip.StatusRinging && body == nil {
		code = sip.StatusRinging // 181/182 and 183 without SDP read as ringing
	}
	if s.rel.required || (reliable && s.rel.supported) {
		s.respondReliable(code, res.Reason, body)
		return
	}
	s.respondA(code, res.Reason, body)
}

// onAnswer takes a leg's 2xx. The first one wins: the caller gets a 200,
// the other legs are cancelled. It returns false for a leg that lost.
func (s *session) onAnswer(l *leg, res *sip.Response) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != ringing {
		return false
	}
	s.state = answered
	s.winner = l
	s.rec.AnsweredAt = s.m.d.Now()
	if s.rec.RangAt.IsZero() {
		s.rec.RangAt = s.rec.AnsweredAt
	}
	s.rec.Destination = l.target.String()
	if l.route != nil {
		s.rec.Trunk = l.route.Name
		if l.route.OutboundCallerID != "" {
			s.rec.OutboundCallerID = l.route.OutboundCallerID
		}
	}
	if s.ringTimer != nil {
		s.ringTimer.Stop()
	}
	l.d.confirmUAC(res)
	s.b = l.d
	key := dialogKey(l.d.callID, l.d.localTag)
	s.keys = append(s.keys, key)
	s.m.addDialog(key, dialogRef{s: s, side: media.B})
	for _, o := range s.legs {
		if o != l {
			o.cancel()
		}
	}
	var body []byte
	if len(res.Body()) > 0 && isSDP(res) {
		b, err := s.rewriteAnswer(res.Body())
		if err != nil {
			s.log.Info("callee answer sdp unusable", "error", err)
		} else {
			body = b
		}
	}
	// Timers first: they count from the 200 whatever the scheduler does.
	s.armSessionTimer()
	s.startCalleeTimer(l, res)
	s.startRecording(body) // record.go
	if s.aDone {
		// Put through from an App: the caller was answered long ago and
		// keeps sending to the same relay port, in the same codec.
		s.log.Info("call put through", "contact", l.name())
		return true
	}
	s.sdpTo[media.A] = body
	res200 := s.respondA(sip.StatusOK, "OK", body)
	close(s.answered)
	transport := s.a.transport
	s.m.goWait(func() { s.retransmit2xx(res200, transport) })
	// If the server's context ends (shutdown without Manager.Close), the
	// call still ends properly and gets its CDR.
	s.stopOnDone = context.AfterFunc(s.ctx, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Second)
		defer cancel()
		s.hangup(ctx, "")
	})
	s.log.Info("call answered", "contact", l.name())
	return true
}

// onLegFailed records a leg's failure; when every leg failed the caller
// gets the best final answer.
func (s *session) onLegFailed(l *leg, code int) {
	s.mu.Lock()
	if s.state != ringing || !slices.Contains(s.legs, l) {
		// A leg of an earlier round (cancelled when an App took the
		// call, which now rings others) counts no more.
		s.mu.Unlock()
		return
	}
	s.codes = append(s.codes, code)
	if l.route != nil && len(s.legs) < len(s.routes) && Failover(code) {
		// The trunk failed, not the callee: try the next route.
		next := &leg{s: s, route: &s.routes[len(s.legs)]}
		s.legs = append(s.legs, next)
		s.log.Info("trunk failed, trying the next route", "trunk", l.route.Name, "status", code, "next", next.route.Name)
		offer := s.sdpTo[media.B]
		s.m.goWait(func() { next.run(offer) })
		s.mu.Unlock()
		return
	}
	if len(s.codes) < len(s.legs) {
		s.mu.Unlock()
		return
	}
	final := finalCode(s.codes)
	if app := s.unansweredApp(final); app != nil {
		fw, direct := s.directForward(app)
		s.mu.Unlock()
		if direct {
			if !s.forwardTo(fw, final) {
				s.endRinging(final)
			}
			return
		}
		s.log.Info("no phone answered, handing the call to its app", "status", final)
		s.serveApp(app, s.target)
		return
	}
	s.state = ended
	s.rec.StatusCode = final
	bye := s.endCaller(final)
	s.mu.Unlock()
	s.finish()
	s.sendBye(bye)
}

// endCaller ends the caller's side of a call that ends while ringing:
// the final answer to its INVITE, or, when an App already answered it and
// the call was being put through (AppCall.Transfer), a BYE returned for
// sending once the call is finished. The caller holds s.mu.
func (s *session) endCaller(code int) *sip.Request {
	if s.aDone {
		return s.a.newRequest(sip.BYE, nil, "")
	}
	s.respondA(code, reasonFor(code), nil)
	close(s.answered)
	return nil
}

// sendBye sends bye (from endCaller) after the call is finished.
func (s *session) sendBye(bye *sip.Request) {
	if bye == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	s.send(ctx, bye)
}

// endRinging ends a call that never got answered with code for the
// caller, and records it.
func (s *session) endRinging(code int) {
	s.mu.Lock()
	if s.state != ringing {
		s.mu.Unlock()
		return
	}
	s.state = ended
	s.rec.StatusCode = code
	for _, l := range s.legs {
		l.cancel()
	}
	bye := s.endCaller(code)
	s.mu.Unlock()
	s.finish()
	s.sendBye(bye)
}

// giveUp ends a ringing call with code for the caller: ring timeout, or
// a reliable provisional never acknowledged.
func (s *session) giveUp(code int, why string) {
	s.mu.Lock()
	if s.state != ringing {
		s.mu.Unlock()
		return
	}
	if app := s.unansweredApp(code); app != nil {
		fw, direct := s.directForward(app)
		s.mu.Unlock()
		if direct {
			if !s.forwardTo(fw, code) { // cancels the legs
				s.endRinging(code)
			}
			return
		}
		s.log.Info("call not answered, handing it to its app", "reason", why)
		s.serveApp(app, s.target) // cancels the legs
		return
	}
	s.state = ended
	s.rec.StatusCode = code
	for _, l := range s.legs {
		l.cancel()
	}
	bye := s.endCaller(code)
	s.mu.Unlock()
	s.log.Info("call not answered", "reason", why, "status", code)
	s.finish()
	s.sendBye(bye)
}

// hangup ends the call from outside the dialogs: the caller's CANCEL, the
// API, a media timeout, shutdown. A ringing call is cancelled (the caller
// gets 487 unless its CANCEL already got it one); an answered call gets a
// BYE on both sides.
func (s *session) hangup(ctx context.Context, reason EndReason) {
	s.mu.Lock()
	switch s.state {
	case ended:
		s.mu.Unlock()
		return
	case ringing:
		s.state = ended
		s.rec.StatusCode = sip.StatusRequestTerminated
		s.rec.EndReason = reason
		for _, l := range s.legs {
			l.cancel()
		}
		var bye *sip.Request
		if s.aDone {
			bye = s.endCaller(0)
		} else {
			if reason != EndCancelled {
				s.respondA(sip.StatusRequestTerminated, "Request Terminated", nil)
			}
			close(s.answered)
		}
		if s.ringTimer != nil {
			s.ringTimer.Stop()
		}
		s.mu.Unlock()
		if bye != nil {
			s.finish()
			s.send(ctx, bye)
			return
		}
	case answered:
		s.state = ended
		s.rec.EndReason = reason
		byes := []*sip.Request{s.a.newRequest(sip.BYE, nil, "")}
		if s.b != nil { // an app's call has no side B
			byes = append(byes, s.b.newRequest(sip.BYE, nil, ""))
		}
		s.mu.Unlock()
		s.finish()
		var wg sync.WaitGroup
		for _, bye := range byes {
			wg.Add(1)
			go func() { defer wg.Done(); s.send(ctx, bye) }()
		}
		wg.Wait()
		return
	}
	s.finish()
}

// byeFrom handles a BYE from one side: the other side gets one too.
func (s *session) byeFrom(ctx context.Context, side media.Side) {
	s.mu.Lock()
	if s.state == ringing && s.aDone && side == media.A {
		// The caller left while being put through from an App.
		s.mu.Unlock()
		s.hangupRinging(EndCallerDisconnected)
		return
	}
	if s.state != answered {
		s.mu.Unlock()
		return
	}
	if x := s.xfer; x != nil && x.side == side {
		// A referrer may leave as soon as its REFER is accepted: the
		// transfer goes on without it.
		x.gone = true
		s.mu.Unlock()
		return
	}
	s.state = ended
	other := s.b
	if side == media.B {
		other = s.a
	}
	s.rec.EndReason = EndCalleeDisconnected
	if side == s.callerSide {
		s.rec.EndReason = EndCallerDisconnected
	}
	if other == nil { // the caller left an app
		s.mu.Unlock()
		s.finish()
		return
	}
	bye := other.newRequest(sip.BYE, nil, "")
	s.mu.Unlock()
	// The call ended when the BYE came: the record says so, whatever the
	// other phone takes to answer its own BYE.
	s.finish()
	s.send(ctx, bye)
}

// send sends an in-dialog request and waits for its final response (or 32
// s). It returns the response, or nil.
func (s *session) send(ctx context.Context, req *sip.Request) *sip.Response {
	ctx, cancel := context.WithTimeout(ctx, 64*sip.T1)
	defer cancel()
	tx, err := s.m.request(ctx, req)
	if err != nil {
		s.log.Info("send request", "method", req.Method, "error", err)
		return nil
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res
		case <-tx.Done():
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// finish writes the CDR and releases the session's resources. The session
// state is ended.
func (s *session) finish() {
	s.mu.Lock()
	s.rec.EndedAt = s.m.d.Now()
	if !s.rec.AnsweredAt.IsZero() {
		s.rec.Duration = int(s.rec.EndedAt.Sub(s.rec.AnsweredAt) / time.Second)
		s.rec.StatusCode = 0
	}
	rec := s.rec
	keys := s.keys
	legs := s.legs
	stop := s.stopOnDone
	if s.sessionTimer != nil {
		s.sessionTimer.Stop()
	}
	s.callee.stop()
	s.endReliable()
	pending := s.reinvite2xx
	s.reinvite2xx = [2]*pending2xx{}
	s.mu.Unlock()
	for _, p := range pending {
		p.stop()
	}
	for _, l := range legs {
		l.end() // the trunks' concurrent calls
	}
	if stop != nil {
		stop()
	}
	s.m.removeSession(s, keys)
	s.closeRelays()
	s.mu.Lock()
	ep := s.endpoint
	s.mu.Unlock()
	if ep != nil {
		ep.Close()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	s.stopRecording(ctx, &rec) // record.go: links the recording to rec
	if err := s.m.d.CDRs.CreateCDR(ctx, s.tenant.ID, &rec); err != nil {
		s.log.Error("write cdr", "error", err)
	}
	s.log.Info("call ended", "end_reason", rec.EndReason, "status", rec.StatusCode, "duration", rec.Duration)
	s.cancel()
}

func (s *session) closeRelays() {
	s.mu.Lock()
	relays := s.relays
	s.relays = nil
	s.mu.Unlock()
	for _, r := range relays {
		if r != nil {
			r.Close()
		}
	}
}

func isSDP(msg interface{ ContentType() *sip.ContentTypeHeader }) bool {
	ct := msg.ContentType()
	if ct == nil {
		return true // a body without a type is taken as SDP, as phones mean it
	}
	v, _, _ := strings.Cut(ct.Value(), ";")
	return strings.EqualFold(strings.TrimSpace(v), "application/sdp")
}
