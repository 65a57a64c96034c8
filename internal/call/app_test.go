package call_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/media/sdp"
	"github.com/gopbx/gopbx/internal/pbx"
)

// codecs is call.Deps.Codecs over the audio package, without DTMF events.
func codecs(name string) (enc, dec media.Codec, dtmf media.DTMFReceiver, err error) {
	mk, ok := audio.CodecByName(name)
	if !ok {
		return nil, nil, nil, fmt.Errorf("no codec %s", name)
	}
	return mk(), mk(), nil, nil
}

// toneApp plays a tone to the caller, listens for another, and ends on a
// key press.
type toneApp struct {
	calls chan *call.AppCall
	heard chan [2]float64 // power at 440 Hz and at 1000 Hz of what it heard
	digit chan rune
}

func (a *toneApp) Serve(ctx context.Context, c *call.AppCall) error {
	a.calls <- c
	ep := c.Media
	gen, _ := audio.NewToneGenerator(ep.SampleRate(), 8000, 1000)
	frame := make([]int16, ep.FrameSamples())
	for i := 0; i < 25; i++ { // half a second
		gen.Read(frame)
		if err := ep.Write(ctx, frame); err != nil {
			return err
		}
	}
	var heard []float64
	for len(heard) < 4000 {
		f, err := ep.Read(ctx)
		if err != nil {
			return err
		}
		for _, v := range f {
			heard = append(heard, float64(v))
		}
		ep.Release(f)
	}
	a.heard <- [2]float64{goertzel(heard, 440, 8000), goertzel(heard, 1000, 8000)}
	select {
	case d := <-ep.Digits():
		a.digit <- d
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func goertzel(x []float64, f float64, rate int) float64 {
	w := 2 * math.Pi * f / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s := v + c*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// rtpTone sends n frames of a PCMU tone at f Hz from conn to to.
func rtpTone(t *testing.T, conn *net.UDPConn, to net.Addr, f float64, n int) {
	t.Helper()
	gen, _ := audio.NewToneGenerator(8000, 8000, f)
	enc := audio.PCMU{}
	pcm := make([]int16, 160)
	for i := 0; i < n; i++ {
		gen.Read(pcm)
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 7},
			Payload: enc.Encode(nil, pcm)}
		b, _ := p.Marshal()
		if _, err := conn.WriteTo(b, to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAppAnswersAndTalks(t *testing.T) {
	caller := newPhone(t, "101", answer)
	app := &toneApp{calls: make(chan *call.AppCall, 1), heard: make(chan [2]float64, 1), digit: make(chan rune, 1)}
	var e *env
	e = newEnv(t, envOpts{codecs: codecs, router: routerFunc(func(context.Context, call.Origin, *sip.Request) (call.Plan, error) {
		return call.Plan{Tenant: e.tenant, Direction: call.ExtensionCall, App: app, Target: "101", Callee: "777"}, nil
	})})
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "777")
	if code != 200 {
		t.Fatalf("status: got %d, want the app's 200", code)
	}
	ans, err := sdp.Parse(sess.InviteResponse.Body())
	if err != nil || !hasLine(sess.InviteResponse.Body(), "a=rtpmap:0 PCMU/8000") {
		t.Fatalf("answer sdp (%v):\n%s", err, sess.InviteResponse.Body())
	}
	c := <-app.calls
	if c.Caller != "101" || c.Callee != "777" || c.Target != "101" || c.Tenant.ID != e.tenant.ID || c.Media.Codec() != "PCMU" {
		t.Errorf("app call: %+v", c)
	}

	// The caller hears the app's 1000 Hz tone.
	dec := audio.PCMU{}
	var heard []float64
	buf := make([]byte, 1500)
	caller.rtp.SetReadDeadline(time.Now().Add(3 * time.Second))
	for len(heard) < 3200 {
		n, err := caller.rtp.Read(buf)
		if err != nil {
			t.Fatalf("caller heard %d samples: %v", len(heard), err)
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != 0 {
			t.Fatalf("not PCMU RTP: %x", buf[:n])
		}
		for _, v := range dec.Decode(nil, p.Payload) {
			heard = append(heard, float64(v))
		}
	}
	if p1000, p440 := goertzel(heard, 1000, 8000), goertzel(heard, 440, 8000); p1000 < 100*p440 {
		t.Errorf("caller did not hear the app's tone: 1000 Hz %.3g, 440 Hz %.3g", p1000, p440)
	}
	// The app hears the caller's 440 Hz tone.
	rtpTone(t, caller.rtp, net.UDPAddrFromAddrPort(ans.RTP(0)), 440, 40)
	if p := <-app.heard; p[0] < 100*p[1] {
		t.Errorf("app did not hear the caller's tone: 440 Hz %.3g, 1000 Hz %.3g", p[0], p[1])
	}
	// A key press by SIP INFO reaches the app, which then ends the call.
	info := sip.NewRequest(sip.INFO, sess.InviteResponse.Contact().Address)
	info.SetBody([]byte("Signal=5\r\nDuration=160\r\n"))
	ct := sip.ContentTypeHeader("application/dtmf-relay")
	info.AppendHeader(&ct)
	if res, err := sess.Do(ctx, info); err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	if d := <-app.digit; d != '5' {
		t.Errorf("app got digit %q", d)
	}
	caller.next(sip.BYE)
	r := e.cdrs(1)[0]
	if r.AnsweredAt.IsZero() || r.Callee != "777" || r.StatusCode != 0 {
		t.Errorf("cdr: %+v", r)
	}
}

// TestUnansweredGoesToApp has a busy extension's call taken by its
// Unanswered app, as a forward-to-voicemail rule does.
func TestUnansweredGoesToApp(t *testing.T) {
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", busy)
	app := &toneApp{calls: make(chan *call.AppCall, 1), heard: make(chan [2]float64, 1), digit: make(chan rune, 1)}
	var e *env
	e = newEnv(t, envOpts{codecs: codecs, router: routerFunc(func(context.Context, call.Origin, *sip.Request) (call.Plan, error) {
		return call.Plan{Tenant: e.tenant, Direction: call.ExtensionCall, Extension: "102", Unanswered: call.AlwaysApp(app), Target: "102"}, nil
	})})
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("status: got %d, want the app's 200", code)
	}
	callee.invite()
	if c := <-app.calls; c.Target != "102" || c.Callee != "102" {
		t.Errorf("app call: %+v", c)
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if r := e.cdrs(1)[0]; r.AnsweredAt.IsZero() || r.EndReason != call.EndCallerDisconnected {
		t.Errorf("cdr: %+v", r)
	}
	// With nobody registered the app takes the call at once.
	e.loc.mu.Lock()
	e.loc.m = map[string][]pbx.Binding{}
	e.loc.mu.Unlock()
	sess, code = caller.dial(ctx, e.addr, "102")
	if code != 200 {
		t.Fatalf("offline: status %d", code)
	}
	<-app.calls
	sess.Bye(ctx)
}

// transferApp puts the caller through to a number at once.
type transferApp struct{ to string }

func (a transferApp) Serve(ctx context.Context, c *call.AppCall) error {
	c.Transfer(a.to)
	return nil
}

// TestAppTransfersToExtension has an App put its caller through to
// extension 102: 102's phone rings while the caller waits, answers, and
// media flows between them through the port the caller already sends to;
// the caller's hang-up reaches 102.
func TestAppTransfersToExtension(t *testing.T) {
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	var e *env
	e = newEnv(t, envOpts{codecs: codecs, router: routerFunc(func(_ context.Context, _ call.Origin, req *sip.Request) (call.Plan, error) {
		if req.Recipient.User == "800" {
			return call.Plan{Tenant: e.tenant, Direction: call.ExtensionCall, App: transferApp{to: "102"}, Callee: "800"}, nil
		}
		return call.Plan{Tenant: e.tenant, Direction: call.ExtensionCall, Extension: req.Recipient.User}, nil
	})})
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "800")
	if code != 200 {
		t.Fatalf("status: got %d, want the app's 200", code)
	}
	inv := callee.invite()
	if inv.From().Address.User != "101" || !hasLine(inv.Body(), "a=rtpmap:0 PCMU/8000") {
		t.Errorf("callee's INVITE: From %s\n%s", inv.From().Value(), inv.Body())
	}
	callee.server()
	// Media both ways: the caller keeps sending to the app's port.
	ans, _ := sdp.Parse(sess.InviteResponse.Body())
	offer, _ := sdp.Parse(inv.Body())
	time.Sleep(100 * time.Millisecond) // the relay starts with the callee's 200
	caller.sendRTP(sess.InviteResponse.Body(), "from-caller")
	if got, from := callee.recvRTP(); got != "from-caller" || from != offer.RTP(0) {
		t.Fatalf("callee got %q from %v, want from %v", got, from, offer.RTP(0))
	}
	callee.sendRTP(inv.Body(), "from-callee")
	if got, from := caller.recvRTP(); got != "from-callee" || from != ans.RTP(0) {
		t.Fatalf("caller got %q from %v, want from the app's port %v", got, from, ans.RTP(0))
	}
	// The caller hangs up: the callee gets the BYE.
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	callee.next(sip.BYE)
	r := e.cdrs(1)[0]
	if r.Callee != "102" || r.AnsweredAt.IsZero() || r.EndReason != call.EndCallerDisconnected {
		t.Errorf("cdr: %+v", r)
	}
}

// keyApp reports the first key its caller presses.
type keyApp struct{ keys chan rune }

func (a keyApp) Serve(ctx context.Context, c *call.AppCall) error {
	select {
	case k := <-c.Media.Digits():
		a.keys <- k
	case <-ctx.Done():
	}
	return nil
}

// TestAppHearsInBandDTMF has a caller without telephone-event press 7 as
// a tone: the App gets the key from the audio.
func TestAppHearsInBandDTMF(t *testing.T) {
	caller := newPhone(t, "101", answer)
	caller.noEvents = true
	app := keyApp{keys: make(chan rune, 1)}
	var e *env
	e = newEnv(t, envOpts{codecs: codecs,
		inBand: func(rate int) (media.InBandDetector, error) { return audio.NewToneDetector(rate) },
		router: routerFunc(func(context.Context, call.Origin, *sip.Request) (call.Plan, error) {
			return call.Plan{Tenant: e.tenant, Direction: call.ExtensionCall, App: app, Callee: "800"}, nil
		})})
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "800")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if hasLine(sess.InviteResponse.Body(), "telephone-event") {
		t.Fatalf("answer offers telephone-event the caller did not:\n%s", sess.InviteResponse.Body())
	}
	ans, _ := sdp.Parse(sess.InviteResponse.Body())
	gen, _ := audio.DTMFTone(8000, '7', 8000)
	enc := audio.PCMU{}
	pcm := make([]int16, 160)
	to := net.UDPAddrFromAddrPort(ans.RTP(0))
	for i := 0; i < 10; i++ { // 200 ms of tone, then silence
		if i < 5 {
			gen.Read(pcm)
		} else {
			clear(pcm)
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 9}, Payload: enc.Encode(nil, pcm)}
		b, _ := p.Marshal()
		caller.rtp.WriteTo(b, to)
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case k := <-app.keys:
		if k != '7' {
			t.Errorf("app heard key %q, want 7", k)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("app heard no key")
	}
	caller.next(sip.BYE)
}
