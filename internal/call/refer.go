package call

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/pbx"
)

// Blind transfer (RFC 3515, RFC 5589): a REFER from either phone (the
// referrer) names an extension of the same tenant (the target). The PBX
// accepts it with 202, calls the target's contact with the SDP it last
// sent the referrer (so the relay's ports the other phone, the
// transferee, sends to do not change), and reports progress to the
// referrer by NOTIFY with a message/sipfrag body. When the target
// answers, the relay is pointed at it, the target's dialog takes the
// referrer's side of the session, the referrer gets the final NOTIFY and
// a BYE, and the call so far is recorded with end reason
// BLIND_TRANSFER_COMPLETED; the rest of the call gets a CDR of its own.
// When the target fails, the referrer hears why and the call goes on.
// The transfer calls the target's first contact only. A Refer-To with
// Replaces is an attended transfer (replaces.go).

// referFrom handles a REFER from side's phone.
func (s *session) referFrom(ctx context.Context, side media.Side, req *sip.Request, tx sip.ServerTransaction) {
	h := req.GetHeader("Refer-To")
	if h == nil {
		h = req.GetHeader("r")
	}
	if h == nil {
		respond(tx, req, sip.StatusBadRequest, "Missing Refer-To")
		return
	}
	if r, ok, err := referReplaces(h.Value()); ok {
		if err != nil {
			respond(tx, req, sip.StatusBadRequest, "Bad Replaces")
			return
		}
		s.referWithReplaces(side, r, req, tx) // attended transfer (replaces.go)
		return
	}
	target, err := contactURI(h.Value())
	if err != nil || target.User == "" {
		respond(tx, req, sip.StatusBadRequest, "Bad Refer-To")
		return
	}
	s.mu.Lock()
	busy := s.state != answered || s.offering
	if !busy {
		s.offering = true // no re-INVITE while the transfer runs
		s.xfer = &referral{side: side}
	}
	s.mu.Unlock()
	if busy {
		respond(tx, req, sip.StatusRequestPending, "Request Pending")
		return
	}
	user, bindings, code := s.findTarget(ctx, target.User)
	if code != 0 {
		s.mu.Lock()
		s.offering = false
		s.xfer = nil
		s.mu.Unlock()
		respond(tx, req, code, reasonFor(code))
		return
	}
	respond(tx, req, sip.StatusAccepted, "Accepted")
	s.m.goWait(func() { s.transfer(side, user, bindings[0]) })
}

// findTarget finds the transfer target's user and contacts in the
// session's tenant; code is the status for the REFER when it fails.
func (s *session) findTarget(ctx context.Context, number string) (pbx.User, []pbx.Binding, int) {
	tenant := s.tenant.ID
	u, err := s.m.d.Users.UserByExtension(ctx, tenant, number)
	if err != nil {
		return pbx.User{}, nil, statusFor(err)
	}
	if !u.Enabled {
		return pbx.User{}, nil, sip.StatusTemporarilyUnavailable
	}
	all, err := s.m.d.Locator.Contacts(ctx, tenant, number)
	if err != nil {
		return pbx.User{}, nil, statusFor(err)
	}
	var bindings []pbx.Binding
	for _, b := range all {
		if b.Tenant == 0 || b.Tenant == tenant {
			bindings = append(bindings, b)
		}
	}
	if len(bindings) == 0 {
		return pbx.User{}, nil, sip.StatusTemporarilyUnavailable
	}
	return u, bindings, 0
}

// transfer calls the target for the referrer on side and, when it
// answers, puts it in the referrer's place.
func (s *session) transfer(side media.Side, target pbx.User, b pbx.Binding) {
	ctx := context.WithoutCancel(s.ctx)
	s.notifyRefer(ctx, side, sip.StatusTrying, "Trying", false)

	l := &leg{s: s, binding: b}
	s.mu.Lock()
	offer := s.sdpTo[side]
	err := l.prepare()
	if err == nil {
		// The target sees a call from the transferee.
		peer := s.peerIdentity(1 - side)
		l.d.local, l.d.localName = sip.Uri{Scheme: "sip", User: peer.number, Host: s.tenant.Domain}, peer.name
		l.d.remote, l.d.remoteName = sip.Uri{Scheme: "sip", User: target.ExtensionNumber, Host: s.tenant.Domain}, target.DisplayName
	}
	s.mu.Unlock()
	if err != nil || len(offer) == 0 {
		s.log.Info("transfer not possible", "error", err)
		s.endTransfer(ctx, side, sip.StatusServiceUnavailable)
		return
	}
	res := l.call(offer)
	if res == nil || !res.IsSuccess() {
		code := sip.StatusRequestTimeout
		if res != nil {
			code = res.StatusCode
		}
		s.log.Info("transfer target did not answer", "status", code)
		s.endTransfer(ctx, side, code)
		return
	}

	s.mu.Lock()
	l.d.confirmUAC(res)
	ack := l.d.newACK(l.d.inviteCSeq, nil, "")
	if s.state != answered {
		// The transferee hung up meanwhile.
		bye := l.d.newRequest(sip.BYE, nil, "")
		s.offering = false
		s.xfer = nil
		s.mu.Unlock()
		s.m.write(ack)
		s.send(ctx, bye)
		return
	}
	if body := res.Body(); len(body) > 0 && isSDP(res) {
		if _, err := s.rewrite(body, side, true); err != nil {
			s.log.Info("transfer target sdp unusable", "error", err)
		}
	}
	old := s.a
	if side == media.B {
		old = s.b
		s.b = l.d
		s.callee.stop()
		s.callee.interval = 0
	} else {
		s.a = l.d
		s.sessionInterval = 0
		if s.sessionTimer != nil {
			s.sessionTimer.Stop()
		}
	}
	s.pendingACK[side] = nil
	s.stopHolds() // the phone that held, or was held, is gone (hold.go)
	oldKey := dialogKey(old.callID, old.localTag)
	key := dialogKey(l.d.callID, l.d.localTag)
	s.keys = append(s.keys, key)
	s.m.addDialog(key, dialogRef{s: s, side: side})
	s.m.addDialog(oldKey, dialogRef{s: s, side: side, detached: true})
	done := s.rec
	now := s.m.d.Now()
	done.EndReason = EndBlindTransferCompleted
	done.EndedAt = now
	done.Duration = int(now.Sub(done.AnsweredAt) / time.Second)
	done.StatusCode = 0
	peer := s.peerIdentity(1 - side)
	s.rec = CDR{
		Tenant: s.tenant.ID, SessionID: s.id, CallID: s.rec.CallID,
		Caller: peer.number, CallerDomain: s.tenant.Domain, CallerDisplayName: peer.name,
		Callee: target.ExtensionNumber, CalleeDomain: s.tenant.Domain, CalleeDisplayName: target.DisplayName,
		StartedAt: now, RangAt: now, AnsweredAt: now, Direction: ExtensionCall, Destination: l.target.String(),
	}
	s.peers[1-side] = peer
	s.peers[side] = identity{number: target.ExtensionNumber, name: target.DisplayName}
	s.callerSide = 1 - side
	s.offering = false
	gone := s.xfer.gone
	s.xfer = nil
	bye := old.newRequest(sip.BYE, nil, "")
	s.mu.Unlock()

	if err := s.m.write(ack); err != nil {
		s.log.Info("ack transfer target", "error", err)
	}
	s.log.Info("blind transfer completed", "target", target.ExtensionNumber)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := s.m.d.CDRs.CreateCDR(wctx, s.tenant.ID, &done); err != nil {
		s.log.Error("write cdr", "error", err)
	}
	cancel()
	if !gone {
		s.notifyReferDialog(ctx, old, res.StatusCode, res.Reason, true)
		s.send(ctx, bye)
	}
	s.m.removeDialog(oldKey)
}

// call sends the transfer leg's INVITE and waits for its final response,
// PRACKing reliable provisionals, cancelling it after the ring timeout or
// when the call ends. It ACKs nothing.
func (l *leg) call(offer []byte) *sip.Response {
	s := l.s
	req := l.newInvite(offer)
	l.mu.Lock()
	l.invite = req
	l.mu.Unlock()
	tx, err := s.m.request(s.ctx, req)
	if err != nil {
		return nil
	}
	ring := s.m.clock.AfterFunc(s.m.d.RingTimeout, l.cancel)
	defer ring.Stop()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				l.gotProvisional()
				l.prackCallee(res)
				continue
			}
			if !res.IsSuccess() {
				tx.Terminate()
			}
			return res
		case <-tx.Done():
			return nil
		case <-s.ctx.Done():
			l.cancel()
			l.drain(tx) // a late 2xx is hung up: the call is over
			return nil
		}
	}
}

// referral is a blind transfer in progress, guarded by s.mu.
type referral struct {
	side media.Side // the referrer's
	gone bool       // the referrer hung up after its REFER
}

// endTransfer reports a failed transfer to the referrer, and the call
// goes on; if the referrer already left, the transferee is hung up.
func (s *session) endTransfer(ctx context.Context, side media.Side, code int) {
	s.mu.Lock()
	s.offering = false
	gone := s.xfer != nil && s.xfer.gone
	s.xfer = nil
	s.mu.Unlock()
	if gone {
		s.hangup(ctx, EndReferred)
		return
	}
	s.notifyRefer(ctx, side, code, reasonFor(code), true)
}

func (s *session) notifyRefer(ctx context.Context, side media.Side, code int, reason string, final bool) {
	s.mu.Lock()
	d := s.a
	if side == media.B {
		d = s.b
	}
	s.mu.Unlock()
	s.notifyReferDialog(ctx, d, code, reason, final)
}

// notifyReferDialog sends the referrer on d the progress of its REFER's
// implicit subscription (RFC 3515 section 2.4.5).
func (s *session) notifyReferDialog(ctx context.Context, d *dialog, code int, reason string, final bool) {
	body := []byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason))
	s.mu.Lock()
	req := d.newRequest(sip.NOTIFY, body, "message/sipfrag;version=2.0")
	s.mu.Unlock()
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	if res := s.send(ctx, req); res == nil || !res.IsSuccess() {
		s.log.Debug("notify referrer", "status", code)
	}
}

// detachedRequest answers a request in the dialog of a referrer that left
// the call: its BYE ends that dialog only.
func (s *session) detachedRequest(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.ACK:
	case sip.BYE:
		respond(tx, req, sip.StatusOK, "OK")
		s.m.removeDialog(dialogKey(callID(req), toTag(req)))
	case sip.NOTIFY, sip.INFO, sip.OPTIONS:
		respond(tx, req, sip.StatusOK, "OK")
	default:
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
}

func toTag(req *sip.Request) string {
	if to := req.To(); to != nil {
		tag, _ := to.Params.Get("tag")
		return tag
	}
	return ""
}

// identity is who a side's phone is, as the other phones are told.
type identity struct{ number, name string }

// peerIdentity is side's party. The caller holds s.mu.
func (s *session) peerIdentity(side media.Side) identity {
	if p := s.peers[side]; p.number != "" {
		return p
	}
	if side == media.A {
		return identity{s.rec.Caller, s.rec.CallerDisplayName}
	}
	return identity{s.rec.Callee, s.rec.CalleeDisplayName}
}
