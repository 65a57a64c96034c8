package call_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
)

func TestCallAnsweredMediaAndCallerBye(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status: got %d, want 200", code)
	}
	inv := <-callee.invites
	sid := inv.GetHeader("X-Session-Id")
	if sid == nil {
		t.Fatal("leg INVITE has no X-Session-Id")
	}
	if got := inv.From().Address.User; got != "101" {
		t.Errorf("leg From user: got %q, want 101", got)
	}
	// Both SDPs point at the relay, not at the other phone.
	answerSDP := sess.InviteResponse.Body()
	if !hasLine(answerSDP, "c=IN IP4 127.0.0.1") {
		t.Fatalf("answer sdp:\n%s", answerSDP)
	}
	offer, _ := sdp.Parse(inv.Body())
	ans, _ := sdp.Parse(answerSDP)
	if offer.RTP(0) == caller.rtp.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatal("offer not rewritten")
	}

	// RTP both ways through the relay.
	caller.sendRTP(answerSDP, "hello-from-101")
	if got, from := callee.recvRTP(); got != "hello-from-101" || from != offer.RTP(0) {
		t.Fatalf("callee got %q from %v, want from relay %v", got, from, offer.RTP(0))
	}
	callee.sendRTP(inv.Body(), "hello-from-102")
	if got, from := caller.recvRTP(); got != "hello-from-102" || from != ans.RTP(0) {
		t.Fatalf("caller got %q from %v", got, from)
	}

	list := e.mgr.Sessions(e.tenant.ID)
	if len(list) != 1 || !list[0].Calls[0].Answered || list[0].Calls[0].Caller != "101" || list[0].ID.String() != sid.Value() {
		t.Fatalf("Sessions: %+v", list)
	}
	if got := e.mgr.Sessions(e.tenant.ID + 1); len(got) != 0 {
		t.Fatalf("other tenant sees sessions: %+v", got)
	}
	if _, err := e.mgr.Session(e.tenant.ID+1, list[0].ID); pbx.ErrorCode(err) != pbx.ENOTFOUND {
		t.Fatalf("other tenant Session: %v", err)
	}

	if err := sess.Bye(ctx); err != nil {
		t.Fatalf("bye: %v", err)
	}
	callee.next(sip.BYE)
	r := e.cdrs(1)[0]
	if r.Caller != "101" || r.Callee != "102" || r.CallerDomain != "acme.test" || r.CalleeDisplayName != "User 102" ||
		r.EndReason != call.EndCallerDisconnected || r.StatusCode != 0 || r.Direction != call.ExtensionCall ||
		r.AnsweredAt.IsZero() || r.RangAt.IsZero() || r.SessionID.String() != sid.Value() || r.CallID != sess.InviteRequest.CallID().Value() {
		t.Errorf("cdr: %+v", r)
	}
	if got := e.mgr.Sessions(e.tenant.ID); len(got) != 0 {
		t.Errorf("session left after bye: %+v", got)
	}
}

func TestCallForkFirstAnswerWinsCalleeBye(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller := newPhone(t, "101", answer)
	desk, mobile := newPhone(t, "102", ringForever), newPhone(t, "102", answer)
	mobile.setDelay(200 * time.Millisecond)
	e.loc.add(e.tenant.ID, "102", desk)
	e.loc.add(e.tenant.ID, "102", mobile)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status: got %d, want 200", code)
	}
	select {
	case <-desk.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("losing leg was not cancelled")
	}
	ds := mobile.server()
	if err := ds.Bye(ctx); err != nil {
		t.Fatalf("callee bye: %v", err)
	}
	caller.next(sip.BYE)
	_ = sess
	r := e.cdrs(1)[0]
	if r.EndReason != call.EndCalleeDisconnected || r.Destination == "" {
		t.Errorf("cdr: %+v", r)
	}
}

func TestCallFailures(t *testing.T) {
	e := newEnv(t, envOpts{ring: 300 * time.Millisecond})
	caller := newPhone(t, "101", answer)
	b1, b2 := newPhone(t, "102", busy), newPhone(t, "102", busy)
	e.loc.add(e.tenant.ID, "102", b1)
	e.loc.add(e.tenant.ID, "102", b2)
	slow := newPhone(t, "103", ringForever)
	e.loc.add(e.tenant.ID, "103", slow)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	for _, tc := range []struct {
		ext  string
		want int
	}{
		{"102", 486}, // every contact busy
		{"999", 404}, // no such extension
		{"103", 480}, // ring timeout
	} {
		if _, code := caller.dial(ctx, e.addr, tc.ext); code != tc.want {
			t.Errorf("call %s: got %d, want %d", tc.ext, code, tc.want)
		}
	}
	select {
	case <-slow.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("ring timeout did not cancel the leg")
	}
	// 101 has no contacts at all: 480 at once.
	if _, code := newPhone(t, "103", answer).dial(ctx, e.addr, "101"); code != 480 {
		t.Errorf("offline: got %d, want 480", code)
	}
	list := e.cdrs(4) // failed calls are on record too
	byCallee := map[string]int{}
	for _, r := range list {
		byCallee[r.Callee] = r.StatusCode
	}
	if byCallee["102"] != 486 || byCallee["103"] != 480 || byCallee["999"] != 404 || byCallee["101"] != 480 {
		t.Errorf("cdr status codes: %v", byCallee)
	}
}

func TestCallCallerCancels(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", ringForever)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithCancel(e.ctx)
	go func() {
		<-callee.invites
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	if _, code := caller.dial(ctx, e.addr, "102"); code != 487 && code != 180 {
		t.Errorf("status: got %d, want 487", code)
	}
	select {
	case <-callee.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("callee leg not cancelled")
	}
	r := e.cdrs(1)[0]
	if r.EndReason != call.EndCancelled || r.StatusCode != 487 || !r.AnsweredAt.IsZero() {
		t.Errorf("cdr: %+v", r)
	}
}

func TestCallReinviteHoldAndInfoPassThrough(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	<-callee.invites

	// Hold: re-INVITE with sendonly.
	req := sip.NewRequest(sip.INVITE, sess.InviteResponse.Contact().Address)
	req.SetBody(caller.sdp("sendonly"))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	res, err := sess.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	ack := sip.NewRequest(sip.ACK, sess.InviteResponse.Contact().Address)
	if err := sess.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	got := callee.next(sip.INVITE)
	if !hasLine(got.Body(), "a=sendonly") || !hasLine(got.Body(), "c=IN IP4 127.0.0.1") {
		t.Errorf("callee's re-INVITE sdp:\n%s", got.Body())
	}
	if !hasLine(res.Body(), "a=recvonly") {
		t.Errorf("caller's re-INVITE answer:\n%s", res.Body())
	}
	callee.next(sip.ACK) // the PBX ACKs the callee's 2xx

	// DTMF by INFO.
	info := sip.NewRequest(sip.INFO, sess.InviteResponse.Contact().Address)
	info.SetBody([]byte("Signal=5\r\nDuration=160\r\n"))
	ict := sip.ContentTypeHeader("application/dtmf-relay")
	info.AppendHeader(&ict)
	res, err = sess.Do(ctx, info)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	gotInfo := callee.next(sip.INFO)
	if string(gotInfo.Body()) != "Signal=5\r\nDuration=160\r\n" || gotInfo.ContentType().Value() != "application/dtmf-relay" {
		t.Errorf("INFO relayed as %q %v", gotInfo.Body(), gotInfo.ContentType())
	}

	// The API hangs up: both phones get a BYE.
	id := e.mgr.Sessions(e.tenant.ID)[0].ID
	if err := e.mgr.Hangup(ctx, e.tenant.ID+1, id); pbx.ErrorCode(err) != pbx.ENOTFOUND {
		t.Fatalf("hangup from another tenant: %v", err)
	}
	if err := e.mgr.Hangup(ctx, e.tenant.ID, id); err != nil {
		t.Fatal(err)
	}
	caller.next(sip.BYE)
	callee.next(sip.BYE)
	e.cdrs(1)
}

func TestCallMediaTimeout(t *testing.T) {
	e := newEnv(t, envOpts{mediaTimeout: 300 * time.Millisecond})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if _, code := caller.dial(ctx, e.addr, "102"); code != 200 {
		t.Fatalf("status %d", code)
	}
	caller.next(sip.BYE)
	callee.next(sip.BYE)
	if r := e.cdrs(1)[0]; r.AnsweredAt.IsZero() {
		t.Errorf("cdr: %+v", r)
	}
}

func TestCallLateOffer(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	uri := sip.Uri{Scheme: "sip", User: "102", Host: e.addr.Addr().String(), Port: int(e.addr.Port())}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "101", Host: "acme.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	sess, err := caller.dua.Invite(ctx, uri, nil, from)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	inv := <-callee.invites
	if len(inv.Body()) != 0 {
		t.Fatalf("leg INVITE has a body:\n%s", inv.Body())
	}
	offer := sess.InviteResponse.Body()
	if !hasLine(offer, "c=IN IP4 127.0.0.1") || len(offer) == 0 {
		t.Fatalf("offer in 2xx:\n%s", offer)
	}
	ack := sip.NewRequest(sip.ACK, sess.InviteResponse.Contact().Address)
	ack.SetBody(caller.sdp("sendrecv"))
	ct := sip.ContentTypeHeader("application/sdp")
	ack.AppendHeader(&ct)
	if err := sess.WriteAck(ctx, ack); err != nil {
		t.Fatal(err)
	}
	got := callee.next(sip.ACK)
	if len(got.Body()) == 0 {
		t.Fatal("callee's ACK has no answer")
	}
	caller.sendRTP(offer, "late")
	if msg, _ := callee.recvRTP(); msg != "late" {
		t.Fatalf("callee got %q", msg)
	}
	callee.sendRTP(got.Body(), "back")
	if msg, _ := caller.recvRTP(); msg != "back" {
		t.Fatalf("caller got %q", msg)
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	callee.next(sip.BYE)
}

func TestCallServerShutdownWritesCDR(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, code := caller.dial(ctx, e.addr, "102"); code != 200 {
		t.Fatalf("status %d", code)
	}
	e.cancel()
	if r := e.cdrs(1)[0]; r.AnsweredAt.IsZero() || r.EndedAt.IsZero() {
		t.Errorf("cdr: %+v", r)
	}
	if got := e.mgr.Sessions(e.tenant.ID); len(got) != 0 {
		t.Errorf("sessions after shutdown: %+v", got)
	}
}

func TestCallTenantMaxConcurrentCalls(t *testing.T) {
	e := newEnv(t, envOpts{maxCalls: 1})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	e.loc.add(e.tenant.ID, "103", newPhone(t, "103", answer))
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("first call: %d", code)
	}
	if _, code := caller.dial(ctx, e.addr, "103"); code != 503 {
		t.Errorf("second call: got %d, want 503", code)
	}
	sess.Bye(ctx)
	e.cdrs(2)
	sess, code = caller.dial(ctx, e.addr, "103")
	if code != 200 {
		t.Fatalf("call after hangup: got %d, want 200", code)
	}
	sess.Bye(ctx)
	e.cdrs(3)
}

func TestCallEarlyMedia(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", earlyMedia)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	uri := sip.Uri{Scheme: "sip", User: "102", Host: e.addr.Addr().String(), Port: int(e.addr.Port())}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "101", Host: "acme.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	ct := sip.ContentTypeHeader("application/sdp")
	sess, err := caller.dua.Invite(ctx, uri, caller.sdp("sendrecv"), from, &ct)
	if err != nil {
		t.Fatal(err)
	}
	var early []byte
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		if res.StatusCode == 183 {
			early = res.Body()
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	sess.Ack(ctx)
	if !hasLine(early, "c=IN IP4 127.0.0.1") {
		t.Fatalf("183 sdp:\n%s", early)
	}
	if msg, from := caller.recvRTP(); msg != "early" {
		t.Fatalf("early media: got %q from %v", msg, from)
	}
	sess.Bye(ctx)
	callee.next(sip.BYE)
}

func TestCallSessionTimer(t *testing.T) {
	e := newEnv(t, envOpts{minSE: 2 * time.Second})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if _, code := caller.dial(ctx, e.addr, "102", sip.NewHeader("Session-Expires", "1"), sip.NewHeader("Supported", "timer")); code != 422 {
		t.Fatalf("interval below Min-SE: got %d, want 422", code)
	}
	sess, code := caller.dial(ctx, e.addr, "102", sip.NewHeader("Session-Expires", "3;refresher=uac"), sip.NewHeader("Supported", "timer"))
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if h := sess.InviteResponse.GetHeader("Session-Expires"); h == nil || h.Value() != "3;refresher=uac" {
		t.Fatalf("2xx Session-Expires: %v", h)
	}
	// A refresh by UPDATE without SDP is answered by the PBX.
	time.Sleep(time.Second)
	upd := sip.NewRequest(sip.UPDATE, sess.InviteResponse.Contact().Address)
	upd.AppendHeader(sip.NewHeader("Session-Expires", "3;refresher=uac"))
	upd.AppendHeader(sip.NewHeader("Supported", "timer"))
	res, err := sess.Do(ctx, upd)
	if err != nil || res.StatusCode != 200 || res.GetHeader("Session-Expires") == nil {
		t.Fatalf("refresh: %v %v", res, err)
	}
	refreshed := time.Now()
	// No more refreshes: the PBX hangs up after 3 s less a third.
	caller.next(sip.BYE)
	if d := time.Since(refreshed); d < 1500*time.Millisecond {
		t.Errorf("hung up %v after the refresh, want about 2 s", d)
	}
	for {
		r := <-callee.reqs
		if r.Method == sip.UPDATE {
			t.Errorf("the refresh reached the callee")
		}
		if r.Method == sip.BYE {
			break
		}
	}
}

func TestCallCalleeReinviteMovesMedia(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	inv := <-callee.invites
	callee.sendRTP(inv.Body(), "before") // latch the callee's first address
	if msg, _ := caller.recvRTP(); msg != "before" {
		t.Fatalf("caller got %q", msg)
	}

	// The callee moves its media to a new socket by re-INVITE.
	newRTP, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer newRTP.Close()
	body := strings.Replace(string(callee.sdp("sendrecv")),
		fmt.Sprintf("m=audio %d ", callee.rtp.LocalAddr().(*net.UDPAddr).Port),
		fmt.Sprintf("m=audio %d ", newRTP.LocalAddr().(*net.UDPAddr).Port), 1)
	ds := callee.server()
	req := sip.NewRequest(sip.INVITE, ds.InviteRequest.Contact().Address)
	req.SetBody([]byte(body))
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	res, err := ds.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("callee re-INVITE: %v %v", res, err)
	}
	ack := sip.NewRequest(sip.ACK, ds.InviteRequest.Contact().Address)
	if err := ds.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	if got := caller.next(sip.INVITE); !hasLine(got.Body(), "c=IN IP4 127.0.0.1") {
		t.Fatalf("caller's re-INVITE:\n%s", got.Body())
	}
	caller.sendRTP(sess.InviteResponse.Body(), "after")
	buf := make([]byte, 100)
	newRTP.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := newRTP.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "after" {
		t.Fatalf("moved media: %q %v", buf[:n], err)
	}
	sess.Bye(ctx)
	callee.next(sip.BYE)
}

func TestCallRouteSetRespected(t *testing.T) {
	e := newEnv(t, envOpts{})
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	// A proxy on the caller's side record-routed the INVITE (here it is
	// the caller's own address, so the requests still arrive).
	rr := &sip.RecordRouteHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: int(caller.addr.Port()),
		UriParams: sip.HeaderParams{{K: "lr", V: ""}}}}
	sess, code := caller.dial(ctx, e.addr, "102", rr)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if got := sess.InviteResponse.GetHeader("Record-Route"); got == nil {
		t.Error("2xx lost the Record-Route")
	}
	if err := callee.server().Bye(ctx); err != nil {
		t.Fatal(err)
	}
	bye := caller.next(sip.BYE)
	route := bye.Route()
	if route == nil || route.Address.Port != int(caller.addr.Port()) {
		t.Errorf("BYE to the caller has Route %v, want the recorded route", route)
	}
}
