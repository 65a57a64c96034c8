package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
)

// App is an application that answers a call itself and talks with the
// caller: voicemail, a virtual receptionist, music on hold. The Manager
// answers the caller, hands the App the call's audio, and hangs up when
// Serve returns; when the caller hangs up first, ctx ends.
type App interface {
	Serve(ctx context.Context, c *AppCall) error
}

// AppFunc is an App of one function, as http.HandlerFunc is a Handler.
type AppFunc func(ctx context.Context, c *AppCall) error

// Serve calls f.
func (f AppFunc) Serve(ctx context.Context, c *AppCall) error { return f(ctx, c) }

// AppCall is a call an App answered.
type AppCall struct {
	SessionID pbx.ID
	Tenant    pbx.Tenant
	// Caller and CallerName are who called, as the CDR keeps them.
	Caller, CallerName string
	// Callee is the number dialled (for a call from a trunk, the
	// extension its DID rule chose), Target what the Plan aimed the App at
	// (the voicemail box of a call that was not answered).
	Callee, Target string
	// DID is the number a call from a trunk came to; empty otherwise.
	DID string
	// Media is the caller's audio; the Manager closes it.
	Media *media.Endpoint
	Log   *slog.Logger

	next *appNext
}

// appNext is where an App asked the call to go once it returns.
type appNext struct {
	number    string // dialled as if the App's extension dialled it
	voicemail string // or a mailbox to leave a message in
}

// Transfer asks the PBX to put the caller through to number once Serve
// returns, as if the App dialled it: an extension of the tenant (its
// phones ring while the caller waits), another App's number, or an
// external number through the outbound rules. The App returns right after.
func (c *AppCall) Transfer(number string) { c.next = &appNext{number: number} }

// Voicemail asks the PBX to take a message for box once Serve returns.
func (c *AppCall) Voicemail(box string) { c.next = &appNext{voicemail: box} }

// VoicemailRouter is what a Router offers when it knows the voicemail
// application: the plan that leaves a message in box (AppCall.Voicemail).
type VoicemailRouter interface {
	VoicemailPlan(tenant pbx.Tenant, box string) (Plan, bool)
}

// defaultAppCodecs are the codecs apps speak when Deps.AppCodecs is nil.
var defaultAppCodecs = []string{"PCMU", "PCMA", "G722"}

// appCodecs are the codecs apps speak.
func (m *Manager) appCodecs() []string {
	if m.d.AppCodecs != nil {
		return m.d.AppCodecs
	}
	return defaultAppCodecs
}

// serveApp answers the caller's INVITE with the PBX's own media and runs
// app until it returns or the call ends. The session is ringing (no leg
// answered) and registered; s.mu is not held.
func (s *session) serveApp(app App, target string) {
	body := s.req.Body()
	if len(body) == 0 || !isSDP(s.req) {
		// Apps answer offers only: a late-offer INVITE would need the
		// codec chosen before the caller's answer.
		s.log.Info("app needs an sdp offer")
		s.endRinging(sip.StatusNotAcceptableHere)
		return
	}
	ep, answer, choice, err := s.appEndpoint(body)
	if err != nil {
		s.log.Info("app cannot answer the caller's offer", "error", err)
		code := sip.StatusNotAcceptableHere
		if errors.Is(err, media.ErrNoPorts) {
			code = sip.StatusServiceUnavailable
		}
		s.endRinging(code)
		return
	}
	s.mu.Lock()
	if s.state != ringing {
		s.mu.Unlock()
		ep.Close()
		return
	}
	s.state = answered
	s.endpoint = ep
	s.aDone = true
	s.appChoice = choice
	s.rec.AnsweredAt = s.m.d.Now()
	if s.rec.RangAt.IsZero() {
		s.rec.RangAt = s.rec.AnsweredAt
	}
	if s.ringTimer != nil {
		s.ringTimer.Stop()
	}
	for _, l := range s.legs {
		l.cancel()
	}
	s.armSessionTimer()
	s.sdpTo[media.A] = answer
	res := s.respondA(sip.StatusOK, "OK", answer)
	close(s.answered)
	transport := s.a.transport
	s.m.goWait(func() { s.retransmit2xx(res, transport) })
	s.stopOnDone = context.AfterFunc(s.ctx, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Second)
		defer cancel()
		s.hangup(ctx, "")
	})
	s.mu.Unlock()
	// Relays made for legs that no longer ring are not needed.
	s.closeRelays()

	ep.Start(s.ctx)
	s.log.Info("call answered by app", "target", target, "codec", ep.Codec())
	s.m.goWait(func() { s.runApps(app, target, ep) })
}

// runApps runs app on the caller's media, then whatever it asked the call
// to go to: another App on the same media, or a phone or trunk the caller
// is put through to (putThrough). When nothing follows, the caller is
// hung up (nothing happens if it already hung up).
func (s *session) runApps(app App, target string, ep *media.Endpoint) {
	for app != nil {
		c := &AppCall{SessionID: s.id, Tenant: s.tenant, Caller: s.rec.Caller, CallerName: s.rec.CallerDisplayName,
			Callee: s.rec.Callee, Target: target, DID: s.rec.DIDCID, Media: ep, Log: s.log}
		if err := app.Serve(s.ctx, c); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, media.ErrClosed) {
			s.log.Info("app ended with an error", "error", err)
		}
		app = nil
		if c.next == nil || s.ctx.Err() != nil {
			break
		}
		plan, ok := s.nextPlan(c.next)
		switch {
		case !ok || plan.Reject != 0:
			s.log.Info("app's destination refused", "number", c.next.number, "voicemail", c.next.voicemail, "status", plan.Reject,
				"reason", plan.Reason)
		case plan.App != nil:
			app, target = plan.App, plan.Target
		default:
			if s.putThrough(plan) {
				return
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	s.hangup(ctx, "")
}

// nextPlan asks the Router where an App's destination is.
func (s *session) nextPlan(next *appNext) (Plan, bool) {
	if next.voicemail != "" {
		vr, ok := s.m.d.Router.(VoicemailRouter)
		if !ok {
			return Plan{}, false
		}
		return vr.VoicemailPlan(s.tenant, next.voicemail)
	}
	if s.m.d.Router == nil {
		return Plan{Tenant: s.tenant, Extension: next.number}, true
	}
	req := s.req.Clone()
	req.Recipient.User = next.number
	// The App dials on the caller's behalf: the caller's number shows,
	// and no user's permissions apply (the App's rules were the
	// administrator's).
	origin := Origin{Tenant: s.tenant, User: pbx.User{ExtensionNumber: s.rec.Caller, DisplayName: s.rec.CallerDisplayName},
		Source: s.a.dest, Transport: s.a.transport}
	plan, err := s.m.plan(s.ctx, origin, req)
	if err != nil {
		s.log.Error("route app destination", "error", err)
		return Plan{}, false
	}
	return plan, true
}

// legsFor returns the legs that ring plan's extension (one per phone of the
// callee in the session's tenant) or its first trunk route, and reports
// false when there is nothing to ring. For an extension the call's record
// names the new callee, whose recording settings now count (record.go).
// s.mu is not held.
func (s *session) legsFor(plan Plan) ([]*leg, bool) {
	var legs []*leg
	if plan.Extension != "" {
		callee, err := s.m.d.Users.UserByExtension(s.ctx, s.tenant.ID, plan.Extension)
		if err != nil || !callee.Enabled {
			return nil, false
		}
		bindings, err := s.m.d.Locator.Contacts(s.ctx, s.tenant.ID, plan.Extension)
		if err != nil {
			return nil, false
		}
		for _, b := range bindings {
			if b.Tenant == 0 || b.Tenant == s.tenant.ID {
				legs = append(legs, &leg{s: s, binding: b})
			}
		}
		if len(legs) == 0 {
			return nil, false
		}
		s.mu.Lock()
		s.rec.Callee, s.rec.CalleeDisplayName = plan.Extension, callee.DisplayName
		s.recordPlan = s.recordPlan.withCallee(callee, s.log)
		s.mu.Unlock()
	} else if len(plan.Trunks) > 0 {
		legs = append(legs, &leg{s: s, route: &plan.Trunks[0]})
	}
	return legs, len(legs) > 0
}

// putThrough rings plan's extension or trunks for a caller an App
// answered. The App's media port becomes the relay's side toward the
// caller, so the caller keeps sending where it does; the callee is offered
// the caller's codec. Once a phone answers, the call is recorded as a
// direct call to plan's extension would be (recordingFor, with the callee
// only known now), from that answer on. It reports false when there is
// nothing to ring (the caller is then hung up).
func (s *session) putThrough(plan Plan) bool {
	legs, ok := s.legsFor(plan)
	if !ok {
		return false
	}
	b, err := s.m.d.Ports.Listen()
	if err != nil {
		return false
	}
	s.mu.Lock()
	ep := s.endpoint
	s.mu.Unlock()
	pair, peer := ep.Detach()
	ep.Close() // the sockets stay open: they are the relay's now
	relay := s.newRelayOn(pair, b)
	if peer.IsValid() {
		relay.SetPeer(media.A, peer, netip.AddrPortFrom(peer.Addr(), peer.Port()+1))
	}
	offer := media.AnswerSDP(s.m.d.MediaIP, int(relay.Local(media.B).Port()), s.appChoice, s.id.String())

	s.mu.Lock()
	if s.state != answered {
		s.mu.Unlock()
		relay.Close()
		return true // the caller left meanwhile; its hang-up ended the call
	}
	s.state = ringing
	s.endpoint = nil
	s.relays = []*media.Relay{relay}
	s.legs, s.codes, s.winner, s.b = legs, nil, nil, nil
	s.routes = plan.Trunks
	s.sdpTo[media.B] = offer
	if plan.Direction != "" && plan.Direction != ExtensionCall {
		s.rec.Direction = plan.Direction
	}
	s.ringTimer = s.m.clock.AfterFunc(s.m.d.RingTimeout, func() {
		s.m.goWait(func() { s.giveUp(sip.StatusTemporarilyUnavailable, "ring timeout") })
	})
	for _, l := range legs {
		s.m.goWait(func() { l.run(offer) })
	}
	s.mu.Unlock()
	s.log.Info("putting the caller through", "extension", plan.Extension, "trunks", len(plan.Trunks), "legs", len(legs))
	return true
}

// hangupRinging ends a call being put through from an App whose caller
// hung up: the phones stop ringing and the call is recorded.
func (s *session) hangupRinging(reason EndReason) {
	s.mu.Lock()
	if s.state != ringing {
		s.mu.Unlock()
		return
	}
	s.state = ended
	s.rec.EndReason = reason
	for _, l := range s.legs {
		l.cancel()
	}
	if s.ringTimer != nil {
		s.ringTimer.Stop()
	}
	s.mu.Unlock()
	s.finish()
}

// appEndpoint makes the media endpoint that answers the caller's first
// audio stream, and the SDP answer.
func (s *session) appEndpoint(offer []byte) (*media.Endpoint, []byte, media.Choice, error) {
	d, err := sdp.Parse(offer)
	if err != nil {
		return nil, nil, media.Choice{}, fmt.Errorf("app endpoint: %w", err)
	}
	idx := -1
	for i, m := range d.Media {
		if m.Type == "audio" && m.Port != 0 {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, nil, media.Choice{}, errors.New("app endpoint: no audio stream offered")
	}
	choice, err := media.Choose(d.Media[idx], s.m.appCodecs()...)
	if err != nil {
		return nil, nil, media.Choice{}, fmt.Errorf("app endpoint: %w", err)
	}
	enc, dec, dtmf, err := s.m.codecs(choice.Codec.Name)
	if err != nil {
		return nil, nil, media.Choice{}, fmt.Errorf("app endpoint: %w", err)
	}
	// A codec of dynamic payload type (Opus) goes by the offer's number.
	enc, dec = media.PayloadAs(enc, choice.Codec.PT), media.PayloadAs(dec, choice.Codec.PT)
	pair, err := s.m.d.Ports.Listen()
	if err != nil {
		return nil, nil, media.Choice{}, fmt.Errorf("app endpoint: %w", err)
	}
	cfg := media.EndpointConfig{
		Pair: pair, Encoder: enc, Decoder: dec, EventPT: choice.EventPT, DTMF: dtmf, Peer: d.RTP(idx),
		Pacer: s.m.d.Pacer, Now: s.m.d.Now, Logger: s.log,
	}
	if choice.EventPT < 0 && s.m.d.InBandDTMF != nil {
		if det, err := s.m.d.InBandDTMF(dec.SampleRate()); err == nil {
			cfg.InBand = det
		}
	}
	ep := media.NewEndpoint(cfg)
	answer := media.AnswerSDP(s.m.d.MediaIP, int(pair.Addr().Port()), choice, s.id.String())
	if len(d.Media) > 1 {
		// Only the first audio stream is answered; the others are refused
		// with port 0, as RFC 3264 section 6 asks.
		a, err := sdp.Parse(answer)
		if err == nil {
			media := a.Media[0]
			a.Media = nil
			for i, m := range d.Media {
				if i == idx {
					a.Media = append(a.Media, media)
					continue
				}
				a.Media = append(a.Media, &sdp.Media{Type: m.Type, Port: 0, Proto: m.Proto, Formats: m.Formats})
			}
			answer = a.Marshal()
		}
	}
	return ep, answer, choice, nil
}

// appRequest answers a request inside a call an App answered: a re-INVITE
// or UPDATE gets the PBX's SDP again (and moves the endpoint's peer), a
// SIP INFO with a DTMF body becomes a key press.
func (s *session) appRequest(req *sip.Request, tx sip.ServerTransaction) {
	s.mu.Lock()
	ep, answer := s.endpoint, s.sdpTo[media.A]
	s.mu.Unlock()
	switch req.Method {
	case sip.INVITE, sip.UPDATE:
		if body := req.Body(); len(body) > 0 && isSDP(req) {
			if d, err := sdp.Parse(body); err == nil {
				for i, m := range d.Media {
					if m.Type == "audio" && m.Port != 0 {
						ep.SetPeer(d.RTP(i))
						break
					}
				}
			}
		}
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", answer)
		res.AppendHeader(&sip.ContactHeader{Address: *s.a.contact.Clone()})
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		if err := tx.Respond(res); err != nil {
			s.log.Debug("answer re-invite", "error", err)
		}
		return
	case sip.INFO:
		if d, ok := infoDigit(req); ok {
			ep.PushDigit(d)
		}
	}
	respond(tx, req, sip.StatusOK, "OK")
}

// infoDigit reads a key press from a SIP INFO body: application/dtmf-relay
// ("Signal=5") or application/dtmf ("5").
func infoDigit(req *sip.Request) (rune, bool) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	val := ""
	switch {
	case strings.Contains(ct, "dtmf-relay"):
		for _, line := range strings.Split(string(req.Body()), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				val = v
				break
			}
		}
	case strings.Contains(ct, "application/dtmf"):
		val = string(req.Body())
	}
	val = strings.TrimSpace(val)
	if len(val) != 1 {
		return 0, false
	}
	d := rune(val[0])
	switch {
	case d >= '0' && d <= '9', d == '*', d == '#', d >= 'A' && d <= 'D':
		return d, true
	}
	return 0, false
}

// codecs makes one stream's encoder, decoder and DTMF receiver for a codec.
func (m *Manager) codecs(name string) (enc, dec media.Codec, dtmf media.DTMFReceiver, err error) {
	if m.d.Codecs == nil {
		return nil, nil, nil, errors.New("no codecs configured")
	}
	return m.d.Codecs(name)
}

// hasApp reports whether an App answered the call (its requests are the
// PBX's to answer, there is no other side to forward them to).
func (s *session) hasApp() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpoint != nil
}
