package call_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/gopbx/gopbx/internal/call"
)

// routerFunc is a Router of one function: the tests' stand-in for the
// routing package.
type routerFunc func(ctx context.Context, o call.Origin, req *sip.Request) (call.Plan, error)

func (f routerFunc) Route(ctx context.Context, o call.Origin, req *sip.Request) (call.Plan, error) {
	return f(ctx, o, req)
}

// route is a trunk route to a carrier played by phone p.
func route(p *phone, name, number string) call.TrunkRoute {
	host := p.addr.Addr().String()
	port := int(p.addr.Port())
	return call.TrunkRoute{
		Name:       name,
		RequestURI: sip.Uri{Scheme: "sip", User: number, Host: host, Port: port},
		From:       sip.Uri{Scheme: "sip", User: "4155550100", Host: "carrier.test"},
		FromName:   "Acme",
		To:         sip.Uri{Scheme: "sip", User: number, Host: "carrier.test"},
		Dest:       p.addr.String(),
		Transport:  "UDP",
		Headers:    []sip.Header{sip.NewHeader("P-Asserted-Identity", "<sip:4155550100@carrier.test>")},
	}
}

// outbound is a Router that sends every call out through routes.
func outbound(e **env, routes ...call.TrunkRoute) call.Router {
	return routerFunc(func(_ context.Context, o call.Origin, req *sip.Request) (call.Plan, error) {
		return call.Plan{Tenant: (*e).tenant, Direction: call.OutboundCall, Trunks: routes, OutboundCallerID: "4155550100"}, nil
	})
}

func TestTrunkFailoverOn503(t *testing.T) {
	caller := newPhone(t, "101", answer)
	down, up := newPhone(t, "c1", unavailable), newPhone(t, "c2", answer)
	var e *env
	e = newEnv(t, envOpts{router: outbound(&e, route(down, "first", "0044207"), route(up, "second", "44207"))})
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "0044207")
	if code != 200 {
		t.Fatalf("status: got %d, want 200 through the second trunk", code)
	}
	if inv := down.invite(); inv.Recipient.User != "0044207" {
		t.Errorf("first trunk's Request-URI user: %q", inv.Recipient.User)
	}
	inv := up.invite()
	if inv.Recipient.User != "44207" || inv.From().Address.User != "4155550100" || inv.From().DisplayName != "Acme" ||
		inv.To().Address.User != "44207" {
		t.Errorf("second trunk's INVITE: R-URI %s From %s To %s", inv.Recipient.String(), inv.From().Value(), inv.To().Value())
	}
	if h := inv.GetHeader("P-Asserted-Identity"); h == nil || h.Value() != "<sip:4155550100@carrier.test>" {
		t.Errorf("P-Asserted-Identity: %v", h)
	}
	up.server()
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	up.next(sip.BYE)
	r := e.cdrs(1)[0]
	if r.Direction != call.OutboundCall || r.Trunk != "second" || r.OutboundCallerID != "4155550100" || r.Callee != "0044207" || r.Caller != "101" {
		t.Errorf("cdr: %+v", r)
	}
}

func TestTrunkBusyDoesNotFailOver(t *testing.T) {
	caller := newPhone(t, "101", answer)
	busyTrunk, other := newPhone(t, "c1", busy), newPhone(t, "c2", answer)
	var e *env
	e = newEnv(t, envOpts{router: outbound(&e, route(busyTrunk, "first", "123"), route(other, "second", "123"))})
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if _, code := caller.dial(ctx, e.addr, "123"); code != 486 {
		t.Fatalf("status: got %d, want 486", code)
	}
	select {
	case inv := <-other.invites:
		t.Fatalf("a busy callee made the call fail over: %s", inv.Recipient.String())
	case <-time.After(200 * time.Millisecond):
	}
	if r := e.cdrs(1)[0]; r.StatusCode != 486 || r.Direction != call.OutboundCall {
		t.Errorf("cdr: %+v", r)
	}
}

func TestTrunkAnswersProxyChallenge(t *testing.T) {
	caller := newPhone(t, "101", answer)
	carrier := newPhone(t, "c1", challenge)
	r := route(carrier, "carrier", "14155550123")
	r.Username, r.Password = "gw1", "s3cret"
	var e *env
	e = newEnv(t, envOpts{router: outbound(&e, r)})
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "14155550123")
	if code != 200 {
		t.Fatalf("status: got %d, want 200", code)
	}
	first, second := carrier.invite(), carrier.invite()
	if first.GetHeader("Proxy-Authorization") != nil {
		t.Fatal("first INVITE already had credentials")
	}
	if second.CSeq().SeqNo <= first.CSeq().SeqNo || second.CallID().Value() != first.CallID().Value() {
		t.Errorf("retried INVITE: CSeq %d after %d, Call-ID %s vs %s", second.CSeq().SeqNo, first.CSeq().SeqNo,
			second.CallID().Value(), first.CallID().Value())
	}
	h := second.GetHeader("Proxy-Authorization")
	if h == nil {
		t.Fatal("retried INVITE has no Proxy-Authorization")
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	chal, _ := digest.ParseChallenge(`Digest realm="carrier.test", nonce="abc123", algorithm=MD5, qop="auth"`)
	want, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: cred.URI, Username: "gw1", Password: "s3cret", Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Username != "gw1" || cred.Response != want.Response || cred.URI != second.Recipient.Addr() {
		t.Errorf("credentials: %+v, want response %s for uri %s", cred, want.Response, second.Recipient.Addr())
	}
	carrier.server()
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	carrier.next(sip.BYE)
}

func TestTrunkConcurrencyLimitFailsOver(t *testing.T) {
	caller := newPhone(t, "101", answer)
	full, spare := newPhone(t, "c1", answer), newPhone(t, "c2", answer)
	var taken, released atomic.Int32
	r1, r2 := route(full, "full", "555"), route(spare, "spare", "555")
	r1.Acquire = func() (func(), bool) { return nil, false }
	r2.Acquire = func() (func(), bool) {
		taken.Add(1)
		return func() { released.Add(1) }, true
	}
	var e *env
	e = newEnv(t, envOpts{router: outbound(&e, r1, r2)})
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()

	sess, code := caller.dial(ctx, e.addr, "555")
	if code != 200 {
		t.Fatalf("status: got %d, want 200 through the spare trunk", code)
	}
	spare.invite()
	spare.server()
	select {
	case <-full.invites:
		t.Fatal("a trunk at its limit got the call")
	default:
	}
	if released.Load() != 0 {
		t.Fatal("the trunk's call was released while it lasts")
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	spare.next(sip.BYE)
	e.cdrs(1)
	if taken.Load() != 1 || released.Load() != 1 {
		t.Errorf("trunk calls taken %d, released %d; want 1 and 1", taken.Load(), released.Load())
	}
}

func TestRouterRejects(t *testing.T) {
	caller := newPhone(t, "101", answer)
	var e *env
	e = newEnv(t, envOpts{router: routerFunc(func(context.Context, call.Origin, *sip.Request) (call.Plan, error) {
		return call.Plan{Tenant: e.tenant, Reject: 403, Reason: "disallowed code", Direction: call.OutboundCall}, nil
	})})
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if _, code := caller.dial(ctx, e.addr, "1900555"); code != 403 {
		t.Fatalf("status: got %d, want 403", code)
	}
	if r := e.cdrs(1)[0]; r.StatusCode != 403 || r.Callee != "1900555" || r.Direction != call.OutboundCall {
		t.Errorf("cdr: %+v", r)
	}
}

func TestAnonymousCallerHiddenFromPhones(t *testing.T) {
	caller, callee := newPhone(t, "101", answer), newPhone(t, "102", answer)
	var e *env
	e = newEnv(t, envOpts{router: routerFunc(func(context.Context, call.Origin, *sip.Request) (call.Plan, error) {
		return call.Plan{Tenant: e.tenant, Direction: call.InboundCall, Extension: "102", Caller: "14155550123", Anonymous: true, DIDCID: "15550100"}, nil
	})})
	e.loc.add(e.tenant.ID, "102", callee)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	sess, code := caller.dial(ctx, e.addr, "15550100")
	if code != 200 {
		t.Fatalf("status: got %d", code)
	}
	inv := callee.invite()
	if f := inv.From(); f.Address.User != "anonymous" || f.Address.Host != "anonymous.invalid" || f.DisplayName != "Anonymous" {
		t.Errorf("callee saw From %s, want Anonymous", f.Value())
	}
	if inv.To().Address.User != "102" {
		t.Errorf("callee saw To %s, want its own number", inv.To().Value())
	}
	callee.server()
	if err := sess.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	callee.next(sip.BYE)
	if r := e.cdrs(1)[0]; r.Caller != "14155550123" || r.Callee != "102" || r.DIDCID != "15550100" || r.Direction != call.InboundCall {
		t.Errorf("cdr: %+v", r)
	}
}
