package call

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
)

// INVITE with Replaces (RFC 3891): a phone P of a tenant sends a new
// INVITE whose Replaces names one of the PBX's dialogs of a call of that
// tenant, with phone Q on side qside; P takes Q's place, as when a phone
// completes an attended transfer that it was referred to, or picks up a
// call it was handed. Only answered calls are replaced (an early-only
// Replaces of an answered call gets 486); a dialog of no call, of another
// tenant's or detached gets 481, and a call busy with an offer 491.
//
// The other phone O of the call gets a re-INVITE in its dialog offering
// P's SDP with the relay's ports facing O (so O's ports do not change);
// O's answer, with the ports facing qside, answers P's INVITE. P's dialog
// then takes Q's side of the session, Q gets a BYE (its dialog is
// detached meanwhile, as after a transfer), and the call so far is
// recorded with end reason REPLACED; the rest gets a CDR of its own with
// P in Q's role. When O refuses, P gets O's status and nothing changes.
// P's INVITE must carry an offer, and P's session timer is not taken: the
// 2xx has none. Knowing the dialog's Call-ID and both tags, which only its
// phones and the PBX see, is P's authorisation (RFC 3891 section 7), and
// only within P's tenant; the call is not routed again, so Router rules
// and the tenant's concurrent-call limit do not apply to P.

// replaceHeader returns the Replaces header value of req, if any.
func replaceHeader(req *sip.Request) (string, bool) {
	if h := req.GetHeader("Replaces"); h != nil {
		return h.Value(), true
	}
	return "", false
}

// inviteReplaces handles a dialog-creating INVITE from origin that has a
// Replaces header v.
func (m *Manager) inviteReplaces(ctx context.Context, origin Origin, req *sip.Request, tx sip.ServerTransaction, v string) {
	r, err := parseReplaces(v)
	if err != nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Replaces")
		return
	}
	ref, ok := m.replaced(origin.Tenant.ID, r)
	if !ok || origin.Tenant.ID == 0 {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if r.earlyOnly {
		respond(tx, req, sip.StatusBusyHere, "Busy Here")
		return
	}
	if len(req.Body()) == 0 || !isSDP(req) {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	z, qside := ref.s, ref.side
	if _, code := z.claim(qside, &r); code != 0 {
		if code == sip.StatusForbidden {
			code = sip.StatusCallTransactionDoesNotExists
		}
		respond(tx, req, code, reasonFor(code))
		return
	}
	respond(tx, req, sip.StatusTrying, "Trying")
	z.replaceBy(ctx, origin, qside, req, tx)
}

// replaceBy puts the phone whose INVITE req is in the place of the phone
// on qside, whose call z claimed for it.
func (z *session) replaceBy(ctx context.Context, origin Origin, qside media.Side, req *sip.Request, tx sip.ServerTransaction) {
	octx := context.WithoutCancel(z.ctx)
	oside := 1 - qside
	dest, transport := origin.Source, origin.Transport
	if dest == "" {
		dest = req.Source()
	}
	if transport == "" {
		transport = req.Transport()
	}
	dp := uasDialog(req, newTag(), z.m.contact(transport), dest, transport, z.id.String())

	// O's re-INVITE with P's offer.
	z.mu.Lock()
	saved := z.peersAt(qside)
	toO, err := z.rewrite(req.Body(), qside, true)
	var offer []byte
	if err == nil {
		offer, err = reoffer(toO, z.sdpTo[oside], false)
	}
	timerO := oside == media.B && z.callee.interval > 0
	do := z.dialogAt(oside)
	z.mu.Unlock()
	var reO *sip.Request
	var res *sip.Response
	if err == nil {
		reO, res = z.offer(octx, func() *sip.Request {
			z.mu.Lock()
			defer z.mu.Unlock()
			req := do.newRequest(sip.INVITE, offer, "application/sdp")
			req.AppendHeader(sip.NewHeader("Allow", allow))
			if timerO {
				req.AppendHeader(sip.NewHeader("Supported", "timer"))
				addRefreshHeaders(req, z.callee.interval, z.callee.minSE)
			}
			return req
		})
	}
	if res == nil || !res.IsSuccess() {
		code := failCode(res)
		if err != nil {
			z.log.Info("replacing offer unusable", "error", err)
			code = sip.StatusNotAcceptableHere
		}
		z.restorePeers(qside, saved)
		if z.release() {
			z.hangup(octx, EndReferred)
		}
		respond(tx, req, code, reasonFor(code))
		return
	}
	z.ackReinvite(do, reO, res)

	z.mu.Lock()
	var answer []byte
	if len(res.Body()) > 0 && isSDP(res) {
		answer, err = z.rewrite(res.Body(), oside, false)
	}
	if answer == nil || z.state != answered {
		// O gave no usable answer, or left: P gets no call.
		gone := z.xfer != nil && z.xfer.gone
		z.offering, z.xfer = false, nil
		z.mu.Unlock()
		z.log.Info("replaced call not joined", "error", err)
		if gone {
			z.hangup(octx, EndReferred)
		}
		respond(tx, req, sip.StatusNotAcceptableHere, reasonFor(sip.StatusNotAcceptableHere))
		return
	}
	z.sdpTo[qside], z.sdpTo[oside] = answer, offer
	z.stopHolds() // another phone took qside's place (hold.go)
	if timerO {
		if d, refresher, ok := sessionExpiresRefresher(res); ok && refresher != "uas" {
			z.callee.interval = d
			z.armRefresh(d / 2)
		} else {
			z.callee.interval = 0
			z.callee.stop()
		}
	}
	old := z.dialogAt(qside)
	if qside == media.B {
		z.b = dp
		z.callee.stop()
		z.callee.interval = 0
	} else {
		z.a = dp
		z.sessionInterval = 0
		if z.sessionTimer != nil {
			z.sessionTimer.Stop()
		}
	}
	z.pendingACK[qside] = nil
	pending := z.reinvite2xx[qside]
	z.reinvite2xx[qside] = nil
	oldKey := dialogKey(old.callID, old.localTag)
	key := dialogKey(dp.callID, dp.localTag)
	z.keys = append(z.keys, key)
	z.m.addDialog(key, dialogRef{s: z, side: qside})
	z.m.addDialog(oldKey, dialogRef{s: z, side: qside, detached: true})

	done := z.rec
	now := z.m.d.Now()
	done.EndReason = EndReplaced
	done.EndedAt, done.Duration, done.StatusCode = now, int(now.Sub(done.AnsweredAt)/time.Second), 0
	p := identity{number: origin.User.ExtensionNumber, name: origin.User.DisplayName}
	if p.number == "" {
		if f := req.From(); f != nil {
			p = identity{number: f.Address.User, name: f.DisplayName}
		}
	}
	o := z.peerIdentity(oside)
	caller, callee := p, o
	if qside != z.callerSide {
		caller, callee = o, p
	}
	z.rec = CDR{
		Tenant: z.tenant.ID, SessionID: z.id, CallID: z.rec.CallID,
		Caller: caller.number, CallerDomain: z.tenant.Domain, CallerDisplayName: caller.name,
		Callee: callee.number, CalleeDomain: z.tenant.Domain, CalleeDisplayName: callee.name,
		StartedAt: now, RangAt: now, AnsweredAt: now, Direction: ExtensionCall, Destination: req.Recipient.String(),
	}
	z.peers[qside], z.peers[oside] = p, o
	z.offering = false
	gone := z.xfer.gone
	z.xfer = nil
	var bye *sip.Request
	if !gone {
		bye = old.newRequest(sip.BYE, nil, "")
	}
	ok := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", answer)
	if to := ok.To(); to != nil {
		to.Params.Add("tag", dp.localTag)
	}
	ok.AppendHeader(&sip.ContactHeader{Address: *dp.contact.Clone()})
	ok.AppendHeader(sip.NewHeader("X-Session-Id", z.id.String()))
	ct := sip.ContentTypeHeader("application/sdp")
	ok.AppendHeader(&ct)
	z.mu.Unlock()
	pending.stop()

	z.respond2xx(qside, dp, req, tx, ok)
	z.log.Info("call replaced", "extension", p.number)
	wctx, cancel := context.WithTimeout(octx, 10*time.Second)
	if err := z.m.d.CDRs.CreateCDR(wctx, z.tenant.ID, &done); err != nil {
		z.log.Error("write cdr", "error", err)
	}
	cancel()
	if bye != nil {
		z.send(octx, bye)
	}
	z.m.removeDialog(oldKey)
}
