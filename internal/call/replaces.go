package call

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
)

// Attended transfer (RFC 3515 REFER with RFC 3891 Replaces): a phone, the
// referrer, has two calls through the PBX: the call where its REFER comes
// (session s, the referrer on side) and the call its Refer-To's Replaces
// names by the referrer's own dialog with the PBX (session o, the
// referrer on oside). The Replaces is looked up among the live dialogs of
// s's tenant only; a dialog of another tenant, of nobody, or of another
// phone than the referrer's (another extension and another flow) refuses
// the REFER with 403, not 481, which would end the REFER's own dialog
// (RFC 5057 section 5.1); nothing changes then.
//
// The PBX joins the two other phones, here the transferee T (the other
// party of s) and the target U (the other party of o), itself, without
// asking either to call anybody: U's dialog moves into s in the
// referrer's place, and s's relays, whose sockets facing T do not move,
// carry T's and U's media; o's relays are let go with o.
//
//  1. The REFER gets 202 and the referrer NOTIFY 100 Trying. Both calls
//     refuse re-INVITEs meanwhile (491), and a BYE from the referrer on
//     either is answered and taken as leaving (the join goes on).
//  2. U gets a re-INVITE in its dialog of o offering T's last SDP as s's
//     relays show it to the referrer's side (ports facing the referrer's
//     side of s, which now face U), sendrecv, under the o= line U knows
//     with its version raised. U's answer is anchored on s's referrer side
//     (the latch of the referrer's phone is forgotten).
//  3. T gets a re-INVITE in its dialog of s offering U's answer as s's
//     relays show it to T (T's own relay ports), sendrecv: T comes off
//     hold, and the codec is one U took from T's own list.
//  4. U's dialog and trunk leg move from o to s; o ends and is recorded
//     (its CDR keeps what it was), s's CDR so far is written, and the
//     joined call starts a CDR of its own. Of the two calls, the older
//     one (the referrer's first) ends with CONSULT_TRANSFER_COMPLETED and
//     the other (the consultation) as the referrer hanging up; the joined
//     call's caller is the older call's other party (T when, as most
//     phones do, the REFER came in the first call) and its callee the
//     consultation's.
//  5. The referrer gets the final NOTIFY (200) on its REFER's dialog and a
//     BYE on both of its dialogs, which are detached meanwhile: a request
//     in them is answered as after a blind transfer (detachedRequest).
//
// A re-INVITE answered 491 (the phone's own offer crossed it) is sent once
// more after a random wait of up to 2 s (RFC 3261 section 14.1). When a
// re-INVITE fails the transfer fails: the referrer hears the status
// in the final NOTIFY and both calls go on. If T refused, U is offered its
// previous SDP again (toward o's relays, still up) and s's relays go back
// to the referrer's media address; the referrer resumes T itself. If the
// referrer left meanwhile, the calls it left are hung up.
//
// Session timers of the moved dialog are turned off: the re-INVITE to U
// carries no Session-Expires (RFC 4028 section 9), and s's timer of the
// referrer's side stops; T's timer goes on. The o= line a phone sees is
// kept at the join only: later offers pass the other phone's o= through
// as for any call.
//
// Not supported: a Replaces naming a call that is still ringing (a
// semi-attended transfer) is refused with 403, and the referrer's phone
// may latch the relay's socket facing U if it still sends media there
// before U does (until its BYE, plus the relay's relatch delay).

// replaces is a Replaces header (RFC 3891 section 6.1).
type replaces struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

// referReplaces returns the Replaces of a Refer-To value: its URI's
// Replaces header, URL-decoded. ok is false when there is none.
func referReplaces(referTo string) (r replaces, ok bool, err error) {
	v := referTo
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j >= 0 {
			v = v[i+1 : i+j]
		}
	}
	_, query, found := strings.Cut(v, "?")
	if !found {
		return replaces{}, false, nil
	}
	for _, kv := range strings.Split(query, "&") {
		k, val, _ := strings.Cut(kv, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "Replaces") {
			continue
		}
		dec, err := url.PathUnescape(val)
		if err != nil {
			return replaces{}, true, fmt.Errorf("parse replaces: %w", err)
		}
		r, err := parseReplaces(dec)
		return r, true, err
	}
	return replaces{}, false, nil
}

// parseReplaces parses a Replaces header value: call-id, to-tag and
// from-tag (both required, RFC 3891 section 3) and early-only.
func parseReplaces(v string) (replaces, error) {
	parts := strings.Split(v, ";")
	r := replaces{callID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "to-tag":
			r.toTag = strings.TrimSpace(val)
		case "from-tag":
			r.fromTag = strings.TrimSpace(val)
		case "early-only":
			r.earlyOnly = true
		}
	}
	if r.callID == "" || r.toTag == "" || r.fromTag == "" {
		return replaces{}, fmt.Errorf("parse replaces %q: call-id, to-tag and from-tag are required", v)
	}
	return r, nil
}

// replaced finds the live dialog r names in tenant's calls: one of the
// PBX's dialogs whose Call-ID is r's and whose tags are r's, either way
// round (phones name it as they see it, the PBX's tag as to-tag, but
// some swap them). Detached dialogs and other tenants' never match.
func (m *Manager) replaced(tenant pbx.TenantID, r replaces) (dialogRef, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, tags := range [][2]string{{r.toTag, r.fromTag}, {r.fromTag, r.toTag}} {
		ref, ok := m.dialogs[dialogKey(r.callID, tags[0])]
		if !ok || ref.detached || ref.s.tenant.ID != tenant {
			continue
		}
		// The remote tag is checked under the session's lock (claim).
		return ref, true
	}
	return dialogRef{}, false
}

// dialogAt returns side's dialog. The caller holds s.mu.
func (s *session) dialogAt(side media.Side) *dialog {
	if side == media.B {
		return s.b
	}
	return s.a
}

// claimed is what claim tells about the referrer's side of a call.
type claimed struct {
	who     identity
	flow    string // transport and address of the referrer's phone
	started time.Time
}

// claim reserves an answered call for an attended transfer by the phone on
// side: no re-INVITE, UPDATE with SDP or other transfer runs meanwhile.
// When r is not nil, side's dialog must be the one it names. code is 0
// when the call is reserved, 491 when it is busy and 403 when it is gone
// or its dialog is not r's.
func (s *session) claim(side media.Side, r *replaces) (c claimed, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != answered || s.a == nil || s.b == nil {
		// Gone, or answered by an app rather than a phone.
		return claimed{}, sip.StatusForbidden
	}
	d := s.dialogAt(side)
	if r != nil {
		if d.callID != r.callID || !(d.localTag == r.toTag && d.remoteTag == r.fromTag || d.localTag == r.fromTag && d.remoteTag == r.toTag) {
			return claimed{}, sip.StatusForbidden
		}
	}
	if s.offering || s.xfer != nil {
		return claimed{}, sip.StatusRequestPending
	}
	s.offering = true
	s.xfer = &referral{side: side}
	return claimed{s.peerIdentity(side), strings.ToUpper(d.transport) + " " + d.dest, s.rec.StartedAt}, 0
}

// release undoes claim and reports whether the referrer left meanwhile.
func (s *session) release() (gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gone = s.xfer != nil && s.xfer.gone
	s.offering = false
	s.xfer = nil
	return gone
}

// referWithReplaces handles a REFER from side's phone whose Refer-To has
// Replaces r: an attended transfer.
func (s *session) referWithReplaces(side media.Side, r replaces, req *sip.Request, tx sip.ServerTransaction) {
	ref, ok := s.m.replaced(s.tenant.ID, r)
	if !ok || r.earlyOnly {
		// early-only: the PBX's dialogs named by a REFER are confirmed.
		respond(tx, req, sip.StatusForbidden, reasonFor(sip.StatusForbidden))
		return
	}
	o, oside := ref.s, ref.side
	if o == s {
		respond(tx, req, sip.StatusBadRequest, "Replaces Names This Call")
		return
	}
	me, code := s.claim(side, nil)
	if code != 0 {
		respond(tx, req, code, reasonFor(code))
		return
	}
	them, code := o.claim(oside, &r)
	if code != 0 {
		s.release()
		respond(tx, req, code, reasonFor(code))
		return
	}
	if (me.who.number == "" || me.who.number != them.who.number) && me.flow != them.flow {
		// Only the referrer's own other call may be taken over.
		s.release()
		o.release()
		s.log.Info("attended transfer refused", "reason", "replaces names another phone's call")
		respond(tx, req, sip.StatusForbidden, reasonFor(sip.StatusForbidden))
		return
	}
	respond(tx, req, sip.StatusAccepted, "Accepted")
	j := &join{s: s, side: side, o: o, oside: oside, original: !them.started.Before(me.started)}
	s.m.goWait(j.run)
}

// join is an attended transfer in progress: the referrer is on side of s
// (where its REFER came) and on oside of o (the call its Replaces named).
type join struct {
	s, o        *session
	side, oside media.Side
	// original is true when s is the older call, the one the referrer
	// consulted about; o is then the consultation.
	original bool
}

func (j *join) run() {
	s, o := j.s, j.o
	ctx := context.WithoutCancel(s.ctx)
	s.notifyRefer(ctx, j.side, sip.StatusTrying, "Trying", false)

	// 2. The target U, in its dialog of o.
	s.mu.Lock()
	offerU := s.sdpTo[j.side]
	s.mu.Unlock()
	o.mu.Lock()
	du := o.dialogAt(1 - j.oside)
	prevU := o.sdpTo[1-j.oside]
	o.mu.Unlock()
	bodyU, err := reoffer(offerU, prevU, true)
	if err != nil {
		s.log.Info("attended transfer not possible", "error", err)
		j.fail(ctx, sip.StatusServiceUnavailable)
		return
	}
	reU, resU := o.offer(ctx, func() *sip.Request {
		o.mu.Lock()
		defer o.mu.Unlock()
		req := du.newRequest(sip.INVITE, bodyU, "application/sdp")
		req.AppendHeader(sip.NewHeader("Allow", allow))
		return req
	})
	if resU == nil || !resU.IsSuccess() {
		j.fail(ctx, failCode(resU))
		return
	}
	o.ackReinvite(du, reU, resU)

	// 3. The transferee T, in its dialog of s.
	s.mu.Lock()
	saved := s.peersAt(j.side)
	var reT *sip.Request
	var bodyT []byte
	if len(resU.Body()) > 0 && isSDP(resU) {
		var toT []byte
		if toT, err = s.rewrite(resU.Body(), j.side, true); err == nil {
			bodyT, err = reoffer(toT, s.sdpTo[1-j.side], true)
		}
	} else {
		err = fmt.Errorf("target's answer has no sdp")
	}
	dt := s.dialogAt(1 - j.side)
	timerT := 1-j.side == media.B && s.callee.interval > 0
	s.mu.Unlock()
	var resT *sip.Response
	if err == nil {
		reT, resT = s.offer(ctx, func() *sip.Request {
			s.mu.Lock()
			defer s.mu.Unlock()
			req := dt.newRequest(sip.INVITE, bodyT, "application/sdp")
			req.AppendHeader(sip.NewHeader("Allow", allow))
			if timerT {
				req.AppendHeader(sip.NewHeader("Supported", "timer"))
				addRefreshHeaders(req, s.callee.interval, s.callee.minSE)
			}
			return req
		})
	} else {
		s.log.Info("attended transfer not possible", "error", err)
	}
	if resT == nil || !resT.IsSuccess() {
		code := failCode(resT)
		if err != nil {
			code = sip.StatusNotAcceptableHere
		}
		j.undo(ctx, du, prevU, bodyU, saved)
		j.fail(ctx, code)
		return
	}
	s.ackReinvite(dt, reT, resT)
	s.mu.Lock()
	if len(resT.Body()) > 0 && isSDP(resT) {
		if _, err := s.rewrite(resT.Body(), 1-j.side, false); err != nil {
			s.log.Info("transferee answer sdp unusable", "error", err)
		}
	}
	s.sdpTo[j.side], s.sdpTo[1-j.side] = bodyU, bodyT
	s.stopHolds() // T is off hold and talks to U (hold.go)
	if timerT {
		if d, refresher, ok := sessionExpiresRefresher(resT); ok && refresher != "uas" {
			s.callee.interval = d
			s.armRefresh(d / 2)
		} else {
			s.callee.interval = 0
			s.callee.stop()
		}
	}
	s.mu.Unlock()
	j.commit(ctx, du, saved)
}

// commit moves U's dialog du from o into s in the referrer's place, ends
// o, records both calls and lets the referrer go.
func (j *join) commit(ctx context.Context, du *dialog, saved []netip.AddrPort) {
	s, o := j.s, j.o
	keyU := dialogKey(du.callID, du.localTag)

	o.mu.Lock()
	if o.state != answered {
		// U hung up meanwhile: o is over, s goes on as it was.
		o.mu.Unlock()
		s.restorePeers(j.side, saved)
		s.log.Info("attended transfer target left")
		j.fail(ctx, sip.StatusRequestTerminated)
		return
	}
	o.state = ended
	o.keys = slices.DeleteFunc(o.keys, func(k string) bool { return k == keyU })
	var moved []*leg
	o.legs = slices.DeleteFunc(o.legs, func(l *leg) bool {
		if l.d == du {
			moved = append(moved, l)
			return true
		}
		return false
	})
	goneO := o.xfer.gone
	o.xfer, o.offering = nil, false
	o.rec.EndReason = j.leaving(o, j.oside)
	if !j.original {
		o.rec.EndReason = EndConsultTransferCompleted
	}
	oa := o.dialogAt(j.oside)
	keyOA := dialogKey(oa.callID, oa.localTag)
	var byeO *sip.Request
	if !goneO {
		byeO = oa.newRequest(sip.BYE, nil, "")
	}
	u := o.peerIdentity(1 - j.oside)
	uDest := du.remoteTarget.String()
	o.mu.Unlock()
	s.m.addDialog(keyU, dialogRef{s: s, side: j.side})
	o.finish()
	if !goneO {
		s.m.addDialog(keyOA, dialogRef{s: o, side: j.oside, detached: true})
	}

	s.mu.Lock()
	if s.state != answered {
		// T hung up meanwhile: U has nobody left to talk to.
		byeU := du.newRequest(sip.BYE, nil, "")
		s.mu.Unlock()
		s.m.removeDialog(keyU)
		j.release(moved)
		s.log.Info("attended transfer transferee left")
		s.send(ctx, byeU)
		j.byeReferrer(ctx, nil, false, keyOA, byeO)
		return
	}
	old := s.dialogAt(j.side)
	du.sessionID = s.id.String()
	if j.side == media.B {
		s.b = du
		s.callee.stop()
		s.callee.interval = 0
	} else {
		s.a = du
		s.sessionInterval = 0
		if s.sessionTimer != nil {
			s.sessionTimer.Stop()
		}
	}
	s.pendingACK[j.side] = nil
	pending := s.reinvite2xx[j.side]
	s.reinvite2xx[j.side] = nil
	oldKey := dialogKey(old.callID, old.localTag)
	s.keys = append(s.keys, keyU)
	s.legs = append(s.legs, moved...)
	s.m.addDialog(oldKey, dialogRef{s: s, side: j.side, detached: true})

	done := s.rec
	now := s.m.d.Now()
	done.EndReason = EndConsultTransferCompleted
	if !j.original {
		done.EndReason = j.leaving(s, j.side)
	}
	done.EndedAt, done.Duration, done.StatusCode = now, int(now.Sub(done.AnsweredAt)/time.Second), 0
	t := s.peerIdentity(1 - j.side)
	caller, callee, callerSide := t, u, 1-j.side
	if !j.original {
		// s was the consultation: its other party is the target.
		caller, callee, callerSide = u, t, j.side
	}
	s.rec = CDR{
		Tenant: s.tenant.ID, SessionID: s.id, CallID: s.rec.CallID,
		Caller: caller.number, CallerDomain: s.tenant.Domain, CallerDisplayName: caller.name,
		Callee: callee.number, CalleeDomain: s.tenant.Domain, CalleeDisplayName: callee.name,
		StartedAt: now, RangAt: now, AnsweredAt: now, Direction: ExtensionCall, Destination: uDest,
	}
	s.peers[j.side], s.peers[1-j.side] = u, t
	s.callerSide = callerSide
	s.offering = false
	gone := s.xfer.gone
	s.xfer = nil
	var bye *sip.Request
	if !gone {
		bye = old.newRequest(sip.BYE, nil, "")
	}
	s.mu.Unlock()
	pending.stop()

	s.log.Info("attended transfer completed", "transferee", t.number, "target", u.number)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := s.m.d.CDRs.CreateCDR(wctx, s.tenant.ID, &done); err != nil {
		s.log.Error("write cdr", "error", err)
	}
	cancel()
	if !gone {
		s.notifyReferDialog(ctx, old, sip.StatusOK, "OK", true)
	}
	j.byeReferrer(ctx, bye, gone, keyOA, byeO)
	s.m.removeDialog(oldKey)
}

// byeReferrer hangs up the referrer's dialogs that it has not left itself
// and forgets them.
func (j *join) byeReferrer(ctx context.Context, byeS *sip.Request, goneS bool, keyOA string, byeO *sip.Request) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if byeO != nil {
			j.o.send(ctx, byeO)
			j.s.m.removeDialog(keyOA)
		}
	}()
	if byeS != nil && !goneS {
		j.s.send(ctx, byeS)
	}
	<-done
}

// release gives back the trunk calls of legs that left with a dialog
// nobody carries any more.
func (j *join) release(legs []*leg) {
	for _, l := range legs {
		l.end()
	}
}

// leaving is the end reason of session x when the referrer on side left it.
// The caller holds x.mu.
func (j *join) leaving(x *session, side media.Side) EndReason {
	if side == x.callerSide {
		return EndCallerDisconnected
	}
	return EndCalleeDisconnected
}

// undo offers U its previous SDP prevU again (version above sent, the
// offer it got since), toward o's relays, and points s's relays on the
// referrer's side back where they sent before.
func (j *join) undo(ctx context.Context, du *dialog, prevU, sent []byte, saved []netip.AddrPort) {
	s, o := j.s, j.o
	s.restorePeers(j.side, saved)
	if len(prevU) == 0 {
		return
	}
	o.mu.Lock()
	body, err := reoffer(prevU, sent, false)
	if err != nil || o.state != answered {
		o.mu.Unlock()
		return
	}
	o.sdpTo[1-j.oside] = body
	req := du.newRequest(sip.INVITE, body, "application/sdp")
	o.mu.Unlock()
	if res := o.send(ctx, req); res != nil && res.IsSuccess() {
		o.ackReinvite(du, req, res)
		o.mu.Lock()
		if len(res.Body()) > 0 && isSDP(res) {
			if _, err := o.rewrite(res.Body(), 1-j.oside, false); err != nil {
				o.log.Info("target answer sdp unusable", "error", err)
			}
		}
		o.mu.Unlock()
	}
}

// restorePeers points s's relays on side back at saved (peersAt).
func (s *session) restorePeers(side media.Side, saved []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.relays {
		if r != nil && i < len(saved) && saved[i].IsValid() {
			r.ResetPeer(side, saved[i], netip.AddrPort{})
		}
	}
}

// fail ends a transfer that did not happen: the referrer hears code in
// its final NOTIFY and both calls go on. A call the referrer left
// meanwhile is hung up, as after a failed blind transfer.
func (j *join) fail(ctx context.Context, code int) {
	goneS, goneO := j.s.release(), j.o.release()
	j.s.log.Info("attended transfer failed", "status", code)
	if goneO {
		j.o.hangup(ctx, EndReferred)
	}
	if goneS {
		j.s.hangup(ctx, EndReferred)
		return
	}
	j.s.notifyRefer(ctx, j.side, code, reasonFor(code), true)
}

// peersAt returns where s's relays send side's media now. The caller
// holds s.mu.
func (s *session) peersAt(side media.Side) []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.relays))
	for i, r := range s.relays {
		if r != nil {
			out[i] = r.Peer(side)
		}
	}
	return out
}

// ackReinvite ACKs the 2xx res to the re-INVITE req the PBX sent on d,
// taking the target refresh of its Contact.
func (s *session) ackReinvite(d *dialog, req *sip.Request, res *sip.Response) {
	s.mu.Lock()
	if c := res.Contact(); c != nil {
		d.remoteTarget = c.Address
	}
	ack := d.newACK(req.CSeq().SeqNo, nil, "")
	s.mu.Unlock()
	if err := s.m.write(ack); err != nil {
		s.log.Info("ack re-invite", "error", err)
	}
}

// glareWait is the most the PBX waits before offering again after a 491
// (RFC 3261 section 14.1: 0 to 2 s for the side that did not make the
// Call-ID; the phone that made it waits 2.1 to 4 s).
const glareWait = 2 * time.Second

// offer sends the re-INVITE build makes on d and waits for its final
// response; after a 491 (the phone's own offer crossed it) it waits a
// random while and offers once more. It returns the request last sent and
// its response (nil for none).
func (s *session) offer(ctx context.Context, build func() *sip.Request) (*sip.Request, *sip.Response) {
	req := build()
	res := s.send(ctx, req)
	if res == nil || res.StatusCode != sip.StatusRequestPending {
		return req, res
	}
	wait := make(chan struct{})
	t := s.m.clock.AfterFunc(rand.N(glareWait), func() { close(wait) })
	select {
	case <-wait:
	case <-s.ctx.Done():
		t.Stop()
		return req, res
	}
	req = build()
	return req, s.send(ctx, req)
}

func failCode(res *sip.Response) int {
	if res == nil {
		return sip.StatusRequestTimeout
	}
	return res.StatusCode
}

// reoffer makes body an offer for a phone that last got prev from the
// PBX in its dialog, under prev's o= line with its version raised (RFC
// 3264 section 8), so that the phone sees a new version of its session
// rather than another session; with sendrecv every stream is offered
// sendrecv (off hold).
func reoffer(body, prev []byte, sendrecv bool) ([]byte, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("reoffer: no sdp")
	}
	d, err := sdp.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("reoffer: %w", err)
	}
	origin := ""
	if p, err := sdp.Parse(prev); err == nil {
		for _, l := range p.Lines {
			if strings.HasPrefix(l, "o=") {
				origin = l
			}
		}
	}
	version := uint64(0)
	for i, l := range d.Lines {
		if !strings.HasPrefix(l, "o=") {
			continue
		}
		f := strings.Fields(l)
		if of := strings.Fields(origin); len(of) == 6 && len(f) == 6 {
			// Keep the address the relay wrote; take the phone's known
			// username and session id.
			f[0], f[1] = of[0], of[1]
			version, _ = strconv.ParseUint(of[2], 10, 64)
		} else if len(f) == 6 {
			version, _ = strconv.ParseUint(f[2], 10, 64)
		}
		if len(f) == 6 {
			f[2] = strconv.FormatUint(version+1, 10)
			d.Lines[i] = strings.Join(f, " ")
		}
	}
	if !sendrecv {
		return d.Marshal(), nil
	}
	d.Lines = slices.DeleteFunc(d.Lines, isDirection)
	for _, m := range d.Media {
		m.Lines = slices.DeleteFunc(m.Lines, isDirection)
		if m.Port != 0 {
			m.Lines = append(m.Lines, "a=sendrecv")
		}
	}
	return d.Marshal(), nil
}

func isDirection(l string) bool {
	switch l {
	case "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive":
		return true
	}
	return false
}
