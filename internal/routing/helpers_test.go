package routing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/routing"
	"github.com/gopbx/gopbx/internal/store"
)

var _ routing.Store = (*store.DB)(nil)

// countingStore counts the store calls the Router makes, so that tests can
// check that a cached tenant costs at most one or two queries per call.
type countingStore struct {
	*store.DB
	configs, lookups atomic.Int64
}

func (s *countingStore) RoutingConfig(ctx context.Context, tenant pbx.TenantID) (store.RoutingConfig, error) {
	s.configs.Add(1)
	return s.DB.RoutingConfig(ctx, tenant)
}

func (s *countingStore) UserByExtension(ctx context.Context, tenant pbx.TenantID, number string) (pbx.User, error) {
	s.lookups.Add(1)
	return s.DB.UserByExtension(ctx, tenant, number)
}

func (s *countingStore) UserRole(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (pbx.Role, json.RawMessage, error) {
	s.lookups.Add(1)
	return s.DB.UserRole(ctx, tenant, id)
}

// fakeTrunks is an in-process Trunks: every trunk in names exists; Route
// records the TrunkCall it was given and puts the called number in the
// Request-URI; Incoming reads From and the Request-URI.
type fakeTrunks struct {
	mu       sync.Mutex
	names    map[pbx.ID]string
	disabled map[pbx.ID]bool
	calls    []call.TrunkCall
}

func (f *fakeTrunks) Route(id pbx.ID, tc call.TrunkCall) (call.TrunkRoute, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name, ok := f.names[id]
	if !ok || f.disabled[id] {
		return call.TrunkRoute{}, false
	}
	f.calls = append(f.calls, tc)
	return call.TrunkRoute{Trunk: id, Name: name, RequestURI: sip.Uri{User: tc.CalledNum, Host: name + ".test"}}, true
}

func (f *fakeTrunks) Incoming(id pbx.ID, req *sip.Request) (string, string, string, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.names[id]; !ok {
		return "", "", "", false, false
	}
	from := req.From()
	return from.Address.User, from.DisplayName, req.Recipient.User, strings.EqualFold(from.Address.User, "anonymous"), true
}

// lastCalls returns and forgets the TrunkCalls recorded so far.
func (f *fakeTrunks) lastCalls() []call.TrunkCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// invite builds an INVITE to number@domain from user, with extra headers.
func invite(t testing.TB, number, domain, from, display string, headers ...string) *sip.Request {
	t.Helper()
	raw := "INVITE sip:" + number + "@" + domain + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
		"From: \"" + display + "\" <sip:" + from + "@" + domain + ">;tag=1\r\nTo: <sip:" + number + "@" + domain + ">\r\n" +
		"Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
	for _, h := range headers {
		raw += h + "\r\n"
	}
	raw += "Content-Length: 0\r\n\r\n"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatalf("parse INVITE: %v", err)
	}
	return msg.(*sip.Request)
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type obj = map[string]any

// day is an office_hours weekday in the API's JSON.
func day(enabled bool, ranges ...string) obj {
	rs := []obj{}
	for _, r := range ranges {
		from, to, _ := strings.Cut(r, "-")
		rs = append(rs, obj{"from": from, "to": to})
	}
	return obj{"enabled": enabled, "ranges": rs}
}

// weekdays are office hours open Monday to Friday within ranges.
func weekdays(mode string, ranges ...string) obj {
	o := obj{"mode": mode, "saturday": day(false), "sunday": day(false)}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
		o[d] = day(true, ranges...)
	}
	return o
}

// route is an outbound rule route in the API's JSON.
func route(p pbx.ID, strip int, prepend, callerID string) obj {
	return obj{"enabled": true, "provider_id": p.String(), "strip_digits": strip, "prepend": prepend, "outbound_caller_id": callerID}
}

// forward is an inbound forward rule in the API's JSON.
func forward(action, number string) obj { return obj{"action": action, "number": number} }

// outRule creates an outbound rule of tenant with Settings in the API's
// format.
func outRule(t testing.TB, db *store.DB, tenant pbx.TenantID, name string, prio int, prefix, length, strategy string, hours obj,
	holidays []string, routes ...obj) store.OutboundRule {
	t.Helper()
	if holidays == nil {
		holidays = []string{}
	}
	st := obj{"number_mask": "", "office_hours": hours, "holiday_ids": holidays, "routes": routes}
	if hours == nil {
		st["office_hours"] = nil
	}
	r := store.OutboundRule{Name: name, Enabled: true, Priority: prio, NumberPrefix: prefix, NumberLength: length, RoutingStrategy: strategy,
		Settings: mustJSON(t, st)}
	must(t, db.CreateOutboundRule(context.Background(), tenant, &r))
	return r
}

// inRule creates an inbound rule of tenant with Settings in the API's format.
func inRule(t testing.TB, db *store.DB, tenant pbx.TenantID, name string, provider pbx.ID, dids, cidMask string, hours obj, holidays []string,
	office, outside, holiday obj) store.InboundRule {
	t.Helper()
	st := obj{"cid_number_mask": cidMask, "office_hours_forward_rule": office, "non_office_hours_forward_rule": outside,
		"holiday_forward_rule": holiday, "office_hours": hours, "holiday_ids": holidays, "enable_advanced_routing": false,
		"advanced_routing": "", "play_recording_disclaimer": false}
	if hours == nil {
		st["office_hours"] = nil
	}
	r := store.InboundRule{Name: name, Enabled: true, DIDNumbers: dids, Provider: provider, Settings: mustJSON(t, st)}
	must(t, db.CreateInboundRule(context.Background(), tenant, &r))
	return r
}

func user(t testing.TB, db *store.DB, tenant pbx.TenantID, ext string, role pbx.Role, settings obj) pbx.User {
	t.Helper()
	u := pbx.User{Name: "u" + ext, Email: ext + "@example.test", DisplayName: "User " + ext, Role: role, ExtensionNumber: ext,
		ExtensionPassword: "pw", Enabled: true, Settings: mustJSON(t, settings)}
	must(t, db.CreateUser(context.Background(), tenant, &u))
	return u
}

// trunkNames returns the trunk names of a plan's routes and the number each
// would call, "name:number".
func trunkNames(p call.Plan) []string {
	var out []string
	for _, r := range p.Trunks {
		out = append(out, fmt.Sprintf("%s:%s", r.Name, r.RequestURI.User))
	}
	return out
}

// at returns a time in New York.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC() // the Router must convert to the tenant's zone itself
}
