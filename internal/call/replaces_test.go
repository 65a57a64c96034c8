package call_test

import (
	"context"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
)

// referReplacing builds a REFER for sess whose Refer-To names ext with a
// Replaces of other, the phone's dialog as the phone sees it.
func referReplacing(sess, other *sipgo.DialogClientSession, ext string) *sip.Request {
	toTag, _ := other.InviteResponse.To().Params.Get("tag")
	fromTag, _ := other.InviteRequest.From().Params.Get("tag")
	return referReplacingIDs(sess.InviteResponse.Contact().Address, ext, other.InviteRequest.CallID().Value(), toTag, fromTag)
}

func referReplacingIDs(target sip.Uri, ext, callID, toTag, fromTag string) *sip.Request {
	req := sip.NewRequest(sip.REFER, target)
	req.AppendHeader(sip.NewHeader("Refer-To", "<sip:"+ext+"@acme.test?Replaces="+
		url.QueryEscape(callID)+"%3Bto-tag%3D"+toTag+"%3Bfrom-tag%3D"+fromTag+">"))
	return req
}

// hold puts sess's other phone on hold from p (re-INVITE sendonly) and
// waits until the other phone, held, has got its re-INVITE and ACK.
func hold(t *testing.T, ctx context.Context, p, held *phone, sess *sipgo.DialogClientSession) {
	t.Helper()
	req := sip.NewRequest(sip.INVITE, sess.InviteResponse.Contact().Address)
	req.SetBody(p.sdp("sendonly"))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	res, err := sess.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("hold: %v %v", res, err)
	}
	if err := sess.WriteRequest(sip.NewRequest(sip.ACK, sess.InviteResponse.Contact().Address)); err != nil {
		t.Fatal(err)
	}
	held.next(sip.INVITE)
	held.next(sip.ACK)
}

// gather reads p's in-dialog requests until it has want of each method,
// in whatever order they come; others are dropped.
func gather(t *testing.T, p *phone, want map[sip.RequestMethod]int) map[sip.RequestMethod][]*sip.Request {
	t.Helper()
	got := map[sip.RequestMethod][]*sip.Request{}
	missing := 0
	for _, n := range want {
		missing += n
	}
	deadline := time.After(5 * time.Second)
	for missing > 0 {
		select {
		case r := <-p.reqs:
			if len(got[r.Method]) < want[r.Method] {
				got[r.Method] = append(got[r.Method], r)
				missing--
			}
		case <-deadline:
			t.Fatalf("phone %s: got %v, want %v", p.ext, got, want)
		}
	}
	return got
}

// checkNotify checks a NOTIFY of a REFER's subscription.
func checkNotify(t *testing.T, n *sip.Request, frag, state string) {
	t.Helper()
	if got := n.GetHeader("Event"); got == nil || got.Value() != "refer" {
		t.Errorf("NOTIFY Event %v", got)
	}
	if got := string(n.Body()); got != frag+"\r\n" {
		t.Errorf("NOTIFY sipfrag %q, want %q", got, frag)
	}
	if got := n.GetHeader("Subscription-State"); got == nil || got.Value() != state {
		t.Errorf("NOTIFY Subscription-State %v, want %s", got, state)
	}
}

func rtpPort(t *testing.T, body []byte) uint16 {
	t.Helper()
	s, err := sdp.Parse(body)
	if err != nil {
		t.Fatalf("parse sdp: %v\n%s", err, body)
	}
	return s.RTP(0).Port()
}

// TestAttendedTransfer: 101 talks to 102, holds it, calls 103 and sends
// a REFER with Replaces, on the first call's dialog (as most phones do) or
// on the consultation's: 102 and 103 end up talking through the PBX.
func TestAttendedTransfer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		onFirst bool
	}{{"refer on the held call", true}, {"refer on the consultation", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{})
			a, b, c := newPhone(t, "101", answer), newPhone(t, "102", answer), newPhone(t, "103", answer)
			e.loc.add(e.tenant.ID, "102", b)
			e.loc.add(e.tenant.ID, "103", c)
			ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
			defer cancel()

			s1, code := a.dial(ctx, e.addr, "102")
			if code != 200 {
				t.Fatalf("first call: status %d", code)
			}
			invB := b.invite()
			b.next(sip.ACK)
			dsB := b.server()
			hold(t, ctx, a, b, s1)

			s2, code := a.dial(ctx, e.addr, "103")
			if code != 200 {
				t.Fatalf("consultation: status %d", code)
			}
			invC := c.invite()
			c.next(sip.ACK)
			c.server()

			// The REFER's call keeps its relay: its other phone (the
			// transferee) keeps its ports, the phone coming in gets the
			// ports the referrer had.
			refer, keep, keepPort, move, movePort := referReplacing(s1, s2, "103"), b, rtpPort(t, invB.Body()), c, rtpPort(t, s1.InviteResponse.Body())
			sess := s1
			if !tc.onFirst {
				refer, keep, keepPort, move, movePort = referReplacing(s2, s1, "102"), c, rtpPort(t, invC.Body()), b, rtpPort(t, s2.InviteResponse.Body())
				sess = s2
			}
			res, err := sess.Do(ctx, refer)
			if err != nil || res.StatusCode != 202 {
				t.Fatalf("REFER: %v %v", res, err)
			}
			notify(t, a, "SIP/2.0 100 Trying", "active;expires=60")

			reMove := move.next(sip.INVITE)
			reKeep := keep.next(sip.INVITE)
			for _, x := range []struct {
				who  string
				body []byte
				port uint16
			}{{"moved phone", reMove.Body(), movePort}, {"kept phone", reKeep.Body(), keepPort}} {
				if !hasLine(x.body, "a=sendrecv") || hasLine(x.body, "a=sendonly") || hasLine(x.body, "a=recvonly") || !hasLine(x.body, "c=IN IP4 127.0.0.1") {
					t.Errorf("%s's re-INVITE sdp not sendrecv at the relay:\n%s", x.who, x.body)
				}
				if got := rtpPort(t, x.body); got != x.port {
					t.Errorf("%s's re-INVITE: relay port %d, want %d", x.who, got, x.port)
				}
			}
			move.next(sip.ACK)
			keep.next(sip.ACK)

			// The phone's handlers may queue the BYEs before the NOTIFY
			// they follow: take the three in any order.
			got := gather(t, a, map[sip.RequestMethod]int{sip.NOTIFY: 1, sip.BYE: 2})
			checkNotify(t, got[sip.NOTIFY][0], "SIP/2.0 200 OK", "terminated;reason=noresource")
			byes := map[string]bool{got[sip.BYE][0].CallID().Value(): true, got[sip.BYE][1].CallID().Value(): true}
			if !byes[s1.InviteRequest.CallID().Value()] || !byes[s2.InviteRequest.CallID().Value()] {
				t.Errorf("referrer's BYEs in %v, want both its calls", byes)
			}

			bodyB, bodyC := reKeep.Body(), reMove.Body()
			if !tc.onFirst {
				bodyB, bodyC = bodyC, bodyB
			}
			b.sendRTP(bodyB, "b-to-c")
			if msg, _ := c.recvRTP(); msg != "b-to-c" {
				t.Fatalf("103 got %q", msg)
			}
			c.sendRTP(bodyC, "c-to-b")
			if msg, _ := b.recvRTP(); msg != "c-to-b" {
				t.Fatalf("102 got %q", msg)
			}
			if got := len(e.mgr.Sessions(e.tenant.ID)); got != 1 {
				t.Errorf("live sessions: got %d, want 1", got)
			}

			// The referrer's old dialogs are gone or detached; the join
			// carries in-dialog requests: 102's BYE reaches 103.
			if err := dsB.Bye(ctx); err != nil {
				t.Fatal(err)
			}
			c.next(sip.BYE)
			reasons := map[string]call.EndReason{}
			for _, r := range e.cdrs(3) {
				reasons[r.Caller+">"+r.Callee] = r.EndReason
			}
			want := map[string]call.EndReason{
				"101>102": call.EndConsultTransferCompleted,
				"101>103": call.EndCallerDisconnected,
				"102>103": call.EndCallerDisconnected,
			}
			for k, v := range want {
				if reasons[k] != v {
					t.Errorf("cdr %s: end reason %q, want %q (all: %v)", k, reasons[k], v, reasons)
				}
			}
			if got := len(e.mgr.Sessions(e.tenant.ID)); got != 0 {
				t.Errorf("live sessions after the end: got %d, want 0", got)
			}
		})
	}
}

// TestAttendedTransferRefused: a Replaces that names nobody's dialog, or
// the referrer's own call in another tenant, refuses the REFER and leaves
// both calls alone.
func TestAttendedTransferRefused(t *testing.T) {
	var e *env
	var other pbx.Tenant
	e = newEnv(t, envOpts{router: routerFunc(func(_ context.Context, o call.Origin, req *sip.Request) (call.Plan, error) {
		if req.GetHeader("X-Tenant") != nil {
			return call.Plan{Tenant: other, Extension: req.Recipient.User}, nil
		}
		return call.Plan{Tenant: o.Tenant, Extension: req.Recipient.User}, nil
	})})
	other = pbx.Tenant{Name: "globex", Domain: "globex.test", Enabled: true, Timezone: "UTC", Currency: "USD", Region: "US", MaxExtensions: 10}
	if err := e.db.CreateTenant(e.ctx, &other); err != nil {
		t.Fatal(err)
	}
	u := pbx.User{Name: "g103", DisplayName: "Globex 103", Role: pbx.RoleStandardUser, ExtensionNumber: "103", ExtensionPassword: "pw", Enabled: true}
	if err := e.db.CreateUser(e.ctx, other.ID, &u); err != nil {
		t.Fatal(err)
	}
	a, b, d := newPhone(t, "101", answer), newPhone(t, "102", answer), newPhone(t, "103", answer)
	e.loc.add(e.tenant.ID, "102", b)
	e.loc.add(other.ID, "103", d)
	ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
	defer cancel()

	s1, code := a.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("first call: status %d", code)
	}
	b.invite()
	b.next(sip.ACK)
	// The same phone's call in another tenant: the same extension number
	// and the same flow, only the tenant differs.
	s2, code := a.dial(ctx, e.addr, "103", sip.NewHeader("X-Tenant", "globex"))
	if code != 200 {
		t.Fatalf("other tenant's call: status %d", code)
	}
	d.invite()
	d.next(sip.ACK)
	if got := len(e.mgr.Sessions(other.ID)); got != 1 {
		t.Fatalf("other tenant's sessions: got %d, want 1", got)
	}

	toTag, _ := s2.InviteResponse.To().Params.Get("tag")
	fromTag, _ := s2.InviteRequest.From().Params.Get("tag")
	for _, tc := range []struct {
		name string
		req  *sip.Request
	}{
		{"another tenant's call", referReplacing(s1, s2, "103")},
		{"no such call", referReplacingIDs(s1.InviteResponse.Contact().Address, "103", "nobody@nowhere", toTag, fromTag)},
		{"wrong tags", referReplacingIDs(s1.InviteResponse.Contact().Address, "103", s2.InviteRequest.CallID().Value(), "x"+toTag, fromTag)},
	} {
		res, err := s1.Do(ctx, tc.req)
		if err != nil {
			t.Fatalf("%s: REFER: %v", tc.name, err)
		}
		if res.StatusCode != 403 {
			t.Errorf("%s: REFER got %d, want 403", tc.name, res.StatusCode)
		}
	}
	// Nothing happened: no NOTIFY, no re-INVITE, and both calls go on.
	for _, p := range []*phone{a, b, d} {
		select {
		case r := <-p.reqs:
			t.Errorf("phone %s got %s", p.ext, r.Method)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := s1.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	b.next(sip.BYE)
	if err := s2.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	d.next(sip.BYE)
	for _, r := range e.cdrs(1) {
		if r.EndReason != call.EndCallerDisconnected {
			t.Errorf("cdr %s>%s: end reason %q", r.Caller, r.Callee, r.EndReason)
		}
	}
}

// TestAttendedTransferFails: the transferee refuses its re-INVITE. The
// target is offered its old SDP again, the referrer hears 488, and both
// calls go on as they were.
func TestAttendedTransferFails(t *testing.T) {
	e := newEnv(t, envOpts{})
	a, c := newPhone(t, "101", answer), newPhone(t, "103", answer)
	e.loc.add(e.tenant.ID, "101", a)
	e.loc.add(e.tenant.ID, "103", c)
	ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
	defer cancel()

	// The transferee, a raw UA, calls the referrer.
	tr := newRawUA(t, "102", e.addr)
	tr.invite("101", tr.sdp())
	res := tr.response()
	for res.StatusCode < 200 {
		res = tr.response()
	}
	if res.StatusCode != 200 {
		t.Fatalf("first call: status %d", res.StatusCode)
	}
	tr.confirm(res)
	tr.ack(1)
	answerT := res.Body()
	a.invite()
	a.next(sip.ACK)
	ds := a.server()

	s2, code := a.dial(ctx, e.addr, "103")
	if code != 200 {
		t.Fatalf("consultation: status %d", code)
	}
	invC := c.invite()
	c.next(sip.ACK)

	toTag, _ := s2.InviteResponse.To().Params.Get("tag")
	fromTag, _ := s2.InviteRequest.From().Params.Get("tag")
	refer := referReplacingIDs(ds.InviteRequest.Contact().Address, "103", s2.InviteRequest.CallID().Value(), toTag, fromTag)
	if res, err := ds.Do(ctx, refer); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	notify(t, a, "SIP/2.0 100 Trying", "active;expires=60")
	c.next(sip.INVITE)
	c.next(sip.ACK)

	var re *sip.Request
	for re == nil {
		msg := tr.read(5 * time.Second)
		if msg == nil {
			t.Fatal("transferee got no re-INVITE")
		}
		if r, ok := msg.(*sip.Request); ok && r.Method == sip.INVITE {
			re = r
		}
	}
	tr.send(sip.NewResponseFromRequest(re, 488, "Not Acceptable Here", nil))

	undo := c.next(sip.INVITE)
	if got, want := rtpPort(t, undo.Body()), rtpPort(t, invC.Body()); got != want || !hasLine(undo.Body(), "a=sendrecv") {
		t.Errorf("target's undo re-INVITE: port %d, want %d:\n%s", got, want, undo.Body())
	}
	notify(t, a, "SIP/2.0 488 Not Acceptable Here", "terminated;reason=noresource")

	// Both calls go on: media flows on each as before.
	tr.rtp.WriteToUDPAddrPort([]byte("t-to-a"), mustRTP(t, answerT))
	if msg, _ := a.recvRTP(); msg != "t-to-a" {
		t.Fatalf("referrer got %q from the transferee", msg)
	}
	a.sendRTP(s2.InviteResponse.Body(), "a-to-c")
	if msg, _ := c.recvRTP(); msg != "a-to-c" {
		t.Fatalf("target got %q", msg)
	}
	if got := len(e.mgr.Sessions(e.tenant.ID)); got != 2 {
		t.Errorf("live sessions: got %d, want 2", got)
	}
	if err := s2.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	c.next(sip.BYE)
	tr.next(sip.BYE, nil)
	a.next(sip.BYE)
	reasons := map[string]call.EndReason{}
	for _, r := range e.cdrs(2) {
		reasons[r.Caller+">"+r.Callee] = r.EndReason
	}
	if reasons["102>101"] != call.EndCallerDisconnected || reasons["101>103"] != call.EndCallerDisconnected {
		t.Errorf("cdr end reasons: %v", reasons)
	}
}

func mustRTP(t *testing.T, body []byte) netip.AddrPort {
	t.Helper()
	s, err := sdp.Parse(body)
	if err != nil {
		t.Fatalf("parse sdp: %v\n%s", err, body)
	}
	return s.RTP(0)
}

// TestInviteWithReplaces: 103 takes 101's place in its call with 102 by an
// INVITE whose Replaces names 101's dialog; a Replaces of nothing gets 481.
func TestInviteWithReplaces(t *testing.T) {
	e := newEnv(t, envOpts{})
	a, b, p := newPhone(t, "101", answer), newPhone(t, "102", answer), newPhone(t, "103", answer)
	e.loc.add(e.tenant.ID, "102", b)
	ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
	defer cancel()
	s1, code := a.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("call: status %d", code)
	}
	invB := b.invite()
	b.next(sip.ACK)
	dsB := b.server()

	if _, code := p.dial(ctx, e.addr, "102", sip.NewHeader("Replaces", "nobody@nowhere;to-tag=x;from-tag=y")); code != 481 {
		t.Errorf("Replaces of nothing: status %d, want 481", code)
	}
	toTag, _ := s1.InviteResponse.To().Params.Get("tag")
	fromTag, _ := s1.InviteRequest.From().Params.Get("tag")
	sp, code := p.dial(ctx, e.addr, "102", sip.NewHeader("Replaces", s1.InviteRequest.CallID().Value()+";to-tag="+toTag+";from-tag="+fromTag))
	if code != 200 {
		t.Fatalf("INVITE with Replaces: status %d", code)
	}
	re := b.next(sip.INVITE)
	if got, want := rtpPort(t, re.Body()), rtpPort(t, invB.Body()); got != want {
		t.Errorf("102's re-INVITE: relay port %d, want %d", got, want)
	}
	if got, want := rtpPort(t, sp.InviteResponse.Body()), rtpPort(t, s1.InviteResponse.Body()); got != want {
		t.Errorf("103's answer: relay port %d, want %d", got, want)
	}
	a.next(sip.BYE)

	p.sendRTP(sp.InviteResponse.Body(), "p-to-b")
	if msg, _ := b.recvRTP(); msg != "p-to-b" {
		t.Fatalf("102 got %q", msg)
	}
	b.sendRTP(re.Body(), "b-to-p")
	if msg, _ := p.recvRTP(); msg != "b-to-p" {
		t.Fatalf("103 got %q", msg)
	}
	if err := dsB.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	p.next(sip.BYE)
	reasons := map[string]call.EndReason{}
	for _, r := range e.cdrs(2) {
		reasons[r.Caller+">"+r.Callee] = r.EndReason
	}
	if reasons["101>102"] != call.EndReplaced || reasons["103>102"] != call.EndCalleeDisconnected {
		t.Errorf("cdr end reasons: %v", reasons)
	}
}

// TestAttendedTransferGlare: the transferee's phone answers the PBX's
// re-INVITE 491 (its own offer crossed it); the PBX offers again and the
// transfer completes.
func TestAttendedTransferGlare(t *testing.T) {
	e := newEnv(t, envOpts{})
	a, c := newPhone(t, "101", answer), newPhone(t, "103", answer)
	e.loc.add(e.tenant.ID, "101", a)
	e.loc.add(e.tenant.ID, "103", c)
	ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
	defer cancel()

	tr := newRawUA(t, "102", e.addr)
	tr.invite("101", tr.sdp())
	res := tr.response()
	for res.StatusCode < 200 {
		res = tr.response()
	}
	if res.StatusCode != 200 {
		t.Fatalf("first call: status %d", res.StatusCode)
	}
	tr.confirm(res)
	tr.ack(1)
	a.invite()
	a.next(sip.ACK)
	ds := a.server()
	s2, code := a.dial(ctx, e.addr, "103")
	if code != 200 {
		t.Fatalf("consultation: status %d", code)
	}
	c.invite()
	c.next(sip.ACK)

	toTag, _ := s2.InviteResponse.To().Params.Get("tag")
	fromTag, _ := s2.InviteRequest.From().Params.Get("tag")
	refer := referReplacingIDs(ds.InviteRequest.Contact().Address, "103", s2.InviteRequest.CallID().Value(), toTag, fromTag)
	if res, err := ds.Do(ctx, refer); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v", res, err)
	}
	c.next(sip.INVITE)

	// reinvite returns the next re-INVITE with a CSeq above after:
	// retransmissions of the one answered are skipped.
	reinvite := func(after uint32) *sip.Request {
		t.Helper()
		for {
			msg := tr.read(5 * time.Second)
			if msg == nil {
				t.Fatal("transferee got no re-INVITE")
			}
			if r, ok := msg.(*sip.Request); ok && r.Method == sip.INVITE && r.CSeq().SeqNo > after {
				return r
			}
		}
	}
	first := reinvite(0)
	tr.send(sip.NewResponseFromRequest(first, 491, "Request Pending", nil))
	second := reinvite(first.CSeq().SeqNo)
	if second.CSeq().SeqNo <= first.CSeq().SeqNo || !hasLine(second.Body(), "a=sendrecv") {
		t.Errorf("second offer: CSeq %d after %d\n%s", second.CSeq().SeqNo, first.CSeq().SeqNo, second.Body())
	}
	ok := sip.NewResponseFromRequest(second, 200, "OK", tr.sdp())
	ok.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "102", Host: "127.0.0.1", Port: int(tr.addr.Port())}})
	ct := sip.ContentTypeHeader("application/sdp")
	ok.AppendHeader(&ct)
	tr.send(ok)
	notify(t, a, "SIP/2.0 100 Trying", "active;expires=60")
	got := gather(t, a, map[sip.RequestMethod]int{sip.NOTIFY: 1, sip.BYE: 2})
	checkNotify(t, got[sip.NOTIFY][0], "SIP/2.0 200 OK", "terminated;reason=noresource")

	tr.rtp.WriteToUDPAddrPort([]byte("t-to-c"), mustRTP(t, second.Body()))
	if msg, _ := c.recvRTP(); msg != "t-to-c" {
		t.Fatalf("target got %q", msg)
	}
	tr.next(sip.BYE, nil)
	c.next(sip.BYE)
	reasons := map[string]call.EndReason{}
	for _, r := range e.cdrs(3) {
		reasons[r.Caller+">"+r.Callee] = r.EndReason
	}
	want := map[string]call.EndReason{
		"102>101": call.EndConsultTransferCompleted,
		"101>103": call.EndCallerDisconnected,
		"102>103": call.EndCallerDisconnected,
	}
	for k, v := range want {
		if reasons[k] != v {
			t.Errorf("cdr %s: end reason %q, want %q (all: %v)", k, reasons[k], v, reasons)
		}
	}
}
