package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/siptest"
)

// The trunk tests: a real Kamailio plays the carrier (internal/siptest's
// StartCarrier) with "PSTN" phones registered to it; gopbx reaches it
// through a REGISTER_AUTH trunk (carrier side A, 127.0.0.2) and an IP_AUTH
// trunk (side B, 127.0.0.3), configured through the REST API alone.

const (
	trunkUser     = "acmegw"
	trunkPassword = "Gw#Secret-2026"
	// didA is a DID of the REGISTER_AUTH trunk, didB of the IP_AUTH one.
	didA, didB = "15550100", "16660100"
	// pstnIn calls the tenant; pstnOut is called by it (national numbers,
	// audio checked), pstnIntl and pstnSOS are Go UAs that check headers.
	pstnIn, pstnOut, pstnIntl, pstnSOS = "14155550123", "13125550199", "442071234567", "911"
	toneIn, toneOut                    = 700, 1200 // Hz, what pstnIn and 102 send
)

// trunkEnv is a PBX with one tenant, two trunks to a Kamailio carrier and
// its rules, all made through the API.
type trunkEnv struct {
	m        *Main
	tn       testTenant
	sys      string // the system admin's token (not switched)
	car      *siptest.Carrier
	regTrunk string // provider IDs
	ipTrunk  string
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func newTrunkEnv(t *testing.T) *trunkEnv {
	t.Helper()
	return newTrunkEnvAt(t, nil)
}

// newTrunkEnvAt is newTrunkEnv with the server's clock (see mustRunMainAt).
func newTrunkEnvAt(t *testing.T, now func() time.Time) *trunkEnv {
	t.Helper()
	return newTrunkEnvWith(t, trunkEnvOptions{Now: now})
}

// trunkEnvOptions are newTrunkEnvWith's variations.
type trunkEnvOptions struct {
	// Now is the server's clock (see mustRunMainAt); nil is the real one.
	Now func() time.Time
	// TLS has carrier side B also listen over TLS (Carrier.BTLS).
	TLS bool
	// TrustCA, with TLS, starts gopbx with --sip-trust-ca set to the
	// carrier's test CA.
	TrustCA bool
}

// newTrunkEnvWith is newTrunkEnv with options.
func newTrunkEnvWith(t *testing.T, o trunkEnvOptions) *trunkEnv {
	t.Helper()
	siptest.NeedKamailio(t)
	carCfg := siptest.CarrierConfig{
		TrunkUser: trunkUser, TrunkPassword: trunkPassword,
		Phones:     map[string]string{pstnIn: "Pstn#In1", pstnOut: "Pstn#Out2", pstnIntl: "Pstn#Intl3", pstnSOS: "Pstn#Sos4"},
		DIDPrefixA: "1555", DIDPrefixB: "1666",
		// The registered trunk cannot reach international numbers: calls
		// to them fail over to the IP trunk.
		FailPrefixA: "44",
		TLS:         o.TLS,
	}
	var m *Main
	var car *siptest.Carrier
	if o.TLS {
		// gopbx must start trusting the carrier's CA, which the carrier
		// makes, and the carrier must know gopbx's UDP address: pick that
		// port first (free a moment ago) and start the carrier before gopbx.
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pbx := pc.LocalAddr().String()
		pc.Close()
		carCfg.PBX = pbx
		car = siptest.StartCarrier(t, carCfg)
		extra := []string{"--sip-udp", pbx}
		if o.TrustCA {
			ca := filepath.Join(t.TempDir(), "carrier-ca.pem")
			if err := os.WriteFile(ca, car.CAPEM, 0o644); err != nil {
				t.Fatal(err)
			}
			extra = append(extra, "--sip-trust-ca", ca)
		}
		m = mustRunMainAt(t, o.Now, extra...)
		if got := m.SIP.Addr("udp"); got != pbx {
			t.Fatalf("gopbx listens on %s, the carrier sends to %s", got, pbx)
		}
	} else {
		m = mustRunMainAt(t, o.Now)
		carCfg.PBX = m.SIP.Addr("udp")
		car = siptest.StartCarrier(t, carCfg)
	}
	e := &trunkEnv{m: m, tn: provisionTenant(t, m, "acme.test", "101", "102", "103"), sys: login(t, m, "admin", "Admin#12345", ""), car: car}
	aHost, aPort := splitHostPort(t, e.car.A)
	bHost, bPort := splitHostPort(t, e.car.B)
	var id struct {
		ID string `json:"id"`
	}
	if st := apiCall(t, m, "POST", "/api/providers", e.sys, map[string]any{"name": "carrier-reg", "auth_mode": "REGISTER_AUTH", "transport": "UDP",
		"hostname": aHost, "port": aPort, "outbound_server": aHost, "outbound_server_port": aPort, "username": trunkUser, "auth_id": trunkUser,
		"password": trunkPassword, "register_interval": 120, "keep_alive": true, "keep_alive_interval": 30, "concurrency": 10}, &id); st != 201 {
		t.Fatalf("create the registered trunk: status %d", st)
	}
	e.regTrunk = id.ID
	if st := apiCall(t, m, "POST", "/api/providers", e.sys, map[string]any{"name": "carrier-ip", "auth_mode": "IP_AUTH", "transport": "UDP",
		"hostname": bHost, "port": bPort, "outbound_server": bHost, "outbound_server_port": bPort, "keep_alive": true, "keep_alive_interval": 30,
		"concurrency": 10}, &id); st != 201 {
		t.Fatalf("create the IP trunk: status %d", st)
	}
	e.ipTrunk = id.ID
	for _, a := range []struct{ trunk, dids string }{{e.regTrunk, "15550100-15550199"}, {e.ipTrunk, "16660100-16660199"}} {
		if st := apiCall(t, m, "POST", "/api/providers/"+a.trunk+"/assignees/"+e.tn.ID, e.sys, map[string]any{"did_numbers": a.dids, "concurrency": 10}, nil); st/100 != 2 {
			t.Fatalf("assign trunk %s: status %d", a.trunk, st)
		}
	}

	// The tenant's rules, by its administrator.
	fwd := func(number string) map[string]any {
		return map[string]any{"action": "FORWARD_TO_NUMBER", "number": number}
	}
	rules := []struct {
		path string
		body map[string]any
	}{
		// The registered trunk's DID rings 101 in office hours (a new
		// tenant's hours are always open).
		{"/api/inbound_rules", map[string]any{"name": "main", "did_numbers": didA, "provider_id": e.regTrunk,
			"office_hours_forward_rule": fwd("101"), "non_office_hours_forward_rule": fwd("102"), "holiday_forward_rule": fwd("102")}},
		// The IP trunk's DID has office hours that are never open: calls
		// go to the outside-hours destination, 103.
		{"/api/inbound_rules", map[string]any{"name": "support", "did_numbers": didB, "provider_id": e.ipTrunk,
			"office_hours":              map[string]any{"mode": "CUSTOM"},
			"office_hours_forward_rule": fwd("101"), "non_office_hours_forward_rule": fwd("103"), "holiday_forward_rule": fwd("101")}},
		// National numbers (10 digits) leave by the registered trunk with a
		// 1 in front; international ones (011...) by it too, failing over to
		// the IP trunk.
		{"/api/outbound_rules", map[string]any{"name": "national", "number_length": "10", "priority": 10,
			"routes": []map[string]any{{"provider_id": e.regTrunk, "prepend": "1", "outbound_caller_id": didA}}}},
		{"/api/outbound_rules", map[string]any{"name": "international", "number_prefix": "011", "priority": 20,
			"routes": []map[string]any{{"provider_id": e.regTrunk, "strip_digits": 3, "outbound_caller_id": didA},
				{"provider_id": e.ipTrunk, "strip_digits": 3, "outbound_caller_id": didB}}}},
		{"/api/outbound_rules", map[string]any{"name": "emergency", "number_prefix": "911", "number_length": "3", "priority": 1,
			"routes": []map[string]any{{"provider_id": e.ipTrunk, "outbound_caller_id": didB}}}},
		{"/api/emergency_numbers", map[string]any{"number_prefix": "911", "description": "emergency"}},
		// Nothing that starts with 9 may be dialled, except 911.
		{"/api/disallowed_codes", map[string]any{"number_prefix": "9", "description": "premium"}},
	}
	for _, r := range rules {
		if st := apiCall(t, m, "POST", r.path, e.tn.Admin, r.body, nil); st/100 != 2 {
			t.Fatalf("POST %s %v: status %d", r.path, r.body["name"], st)
		}
	}
	e.waitTrunkStatus(t, e.regTrunk, "ONLINE", "REGISTERED")
	return e
}

type trunkStatus struct {
	Status             string  `json:"status"`
	RegistrationStatus string  `json:"registration_status"`
	LastError          *string `json:"last_error"`
	LiveCalls          int     `json:"live_calls"`
}

// waitTrunkStatus polls GET /providers/{id}/status until it says status
// and registration.
func (e *trunkEnv) waitTrunkStatus(t *testing.T, id, status, registration string) trunkStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st trunkStatus
		code := apiCall(t, e.m, "GET", "/api/providers/"+id+"/status", e.sys, nil, &st)
		if code == 200 && st.Status == status && st.RegistrationStatus == registration {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("trunk %s status: %d %+v, want %s %s\ncarrier log:\n%s", id, code, st, status, registration, e.car.LogTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// extUA registers a Go UA as extension ext of the tenant.
func (e *trunkEnv) extUA(ctx context.Context, t *testing.T, ext string) *siptest.UA {
	t.Helper()
	u := siptest.New(t, siptest.Config{Server: e.m.SIP.Addr("udp"), Domain: e.tn.Domain, User: ext, Password: sipPassword(e.tn.Domain, ext)})
	if res, err := u.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("register %s: %v %v", ext, res, err)
	}
	return u
}

// pstnUA registers a Go UA as PSTN phone number at the carrier.
func (e *trunkEnv) pstnUA(ctx context.Context, t *testing.T, number, password string) *siptest.UA {
	t.Helper()
	u := siptest.New(t, siptest.Config{Server: e.car.A, Domain: e.car.Domain, User: number, Password: password})
	if res, err := u.Register(ctx, 300); err != nil || res.StatusCode != 200 {
		t.Fatalf("register %s at the carrier: %v %v", number, res, err)
	}
	return u
}

type trunkCDRs struct {
	Count int `json:"count"`
	Items []struct {
		Caller           string  `json:"caller"`
		Callee           string  `json:"callee"`
		Direction        string  `json:"direction"`
		Trunk            *string `json:"trunk"`
		DIDCID           *string `json:"did_cid"`
		OutboundCallerID *string `json:"outbound_caller_id"`
		StatusCode       int     `json:"status_code"`
		AnsweredAt       *string `json:"answered_at"`
	} `json:"items"`
}

// wantCDR waits for a CDR of the tenant from caller to callee and checks
// its routing fields; an empty want field is not checked.
func (e *trunkEnv) wantCDR(t *testing.T, caller, callee, direction, trunk, did, callerID string) {
	t.Helper()
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list trunkCDRs
		apiCall(t, e.m, "GET", "/api/cdrs?top=100", e.tn.Admin, nil, &list)
		for _, c := range list.Items {
			if c.Caller != caller || c.Callee != callee {
				continue
			}
			if c.Direction != direction || (trunk != "" && deref(c.Trunk) != trunk) || (did != "" && deref(c.DIDCID) != did) ||
				(callerID != "" && deref(c.OutboundCallerID) != callerID) {
				t.Errorf("cdr %s -> %s: direction %s trunk %q did %q caller id %q; want %s %q %q %q", caller, callee, c.Direction,
					deref(c.Trunk), deref(c.DIDCID), deref(c.OutboundCallerID), direction, trunk, did, callerID)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cdr %s -> %s among %+v", caller, callee, list.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTrunkRoutingThroughKamailio checks every routing rule type against
// the Kamailio carrier with Go UAs, which see the headers gopbx sent.
func TestTrunkRoutingThroughKamailio(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newTrunkEnv(t)
	ext103 := e.extUA(ctx, t, "103")
	ext103.Answer(func(*sip.Request) (int, []byte) { return 200, siptest.SDP("127.0.0.1:9") })
	intl, sos := e.pstnUA(ctx, t, pstnIntl, "Pstn#Intl3"), e.pstnUA(ctx, t, pstnSOS, "Pstn#Sos4")
	for _, u := range []*siptest.UA{intl, sos} {
		u.Answer(func(*sip.Request) (int, []byte) { return 200, siptest.SDP("127.0.0.1:9") })
	}
	noInvite := func(u *siptest.UA, who string) {
		t.Helper()
		select {
		case req := <-u.Incoming():
			t.Fatalf("%s got an INVITE it must not: %s from %s", who, req.Recipient.String(), req.From().Value())
		case <-time.After(300 * time.Millisecond):
		}
	}
	call := func(from *siptest.UA, uri string) {
		t.Helper()
		d, err := from.Invite(ctx, uri, siptest.SDP("127.0.0.1:9"))
		if err != nil {
			t.Fatalf("call %s: %v", uri, err)
		}
		if err := d.Bye(ctx); err != nil {
			t.Fatalf("bye %s: %v", uri, err)
		}
	}

	t.Run("international fails over to the IP trunk with its caller ID", func(t *testing.T) {
		call(ext103, "sip:011"+pstnIntl+"@acme.test")
		req := <-intl.Incoming()
		if req.Recipient.User != pstnIntl || req.From().Address.User != didB || req.To().Address.User != pstnIntl {
			t.Errorf("carrier phone got R-URI %s From %s To %s; want user %s from %s", req.Recipient.String(), req.From().Value(),
				req.To().Value(), pstnIntl, didB)
		}
		e.wantCDR(t, "103", "011"+pstnIntl, "OUTBOUND_CALL", "carrier-ip", "", didB)
	})

	t.Run("emergency number goes out past the disallowed code", func(t *testing.T) {
		call(ext103, "sip:911@acme.test")
		if req := <-sos.Incoming(); req.Recipient.User != "911" || req.From().Address.User != didB {
			t.Errorf("emergency phone got R-URI %s From %s", req.Recipient.String(), req.From().Value())
		}
	})

	t.Run("IP trunk over TCP", func(t *testing.T) {
		if st := apiCall(t, e.m, "POST", "/api/providers/"+e.ipTrunk, e.sys, map[string]any{"transport": "TCP"}, nil); st/100 != 2 {
			t.Fatalf("switch the IP trunk to TCP: %d", st)
		}
		defer apiCall(t, e.m, "POST", "/api/providers/"+e.ipTrunk, e.sys, map[string]any{"transport": "UDP"}, nil)
		// The trunks reload in the background after the API's change: try
		// until a call leaves over TCP.
		var req *sip.Request
		tcp := false
		for try := 0; try < 20 && !tcp; try++ {
			call(ext103, "sip:011"+pstnIntl+"@acme.test")
			req = <-intl.Incoming()
			for _, h := range req.GetHeaders("Via") {
				if v, ok := h.(*sip.ViaHeader); ok && strings.EqualFold(v.Transport, "TCP") {
					tcp = true
				}
			}
			if !tcp {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if !tcp || req.From().Address.User != didB {
			t.Errorf("INVITE through the TCP trunk: From %s, Via %v", req.From().Value(), req.GetHeaders("Via"))
		}
	})

	t.Run("disallowed code is refused", func(t *testing.T) {
		req, _ := ext103.NewRequest(sip.INVITE, "sip:9005550123@acme.test")
		req.SetBody(siptest.SDP("127.0.0.1:9"))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res, err := ext103.Do(ctx, req)
		if err != nil || res.StatusCode != 403 {
			t.Fatalf("disallowed code: %v %v, want 403", res, err)
		}
		noInvite(intl, "the carrier")
	})

	t.Run("DID on the IP trunk outside office hours reaches 103", func(t *testing.T) {
		call(intl, "sip:"+didB+"@"+e.car.Domain)
		req := <-ext103.Incoming()
		if req.From().Address.User != pstnIntl || req.To().Address.User != "103" {
			t.Errorf("103 got From %s To %s; want the PSTN caller %s", req.From().Value(), req.To().Value(), pstnIntl)
		}
		e.wantCDR(t, pstnIntl, "103", "INBOUND_CALL", "carrier-ip", didB, "")
	})

	t.Run("blacklisted caller is refused", func(t *testing.T) {
		if st := apiCall(t, e.m, "POST", "/api/blacklisted_numbers", e.tn.Admin, map[string]any{"number": pstnIntl}, nil); st/100 != 2 {
			t.Fatalf("blacklist: status %d", st)
		}
		if _, err := intl.Invite(ctx, "sip:"+didB+"@"+e.car.Domain, siptest.SDP("127.0.0.1:9")); err == nil {
			t.Fatal("a blacklisted caller got through")
		}
		noInvite(ext103, "103")
	})

	t.Run("stranger's INVITE reaches nothing", func(t *testing.T) {
		// A UA on an address that is no trunk sends the DID straight to
		// gopbx: it is challenged like any extension and never routed.
		stranger := siptest.New(t, siptest.Config{Server: e.m.SIP.Addr("udp"), Domain: "acme.test", User: didA, LocalIP: "127.0.0.9"})
		req, _ := stranger.NewRequest(sip.INVITE, "sip:"+didA+"@acme.test")
		req.SetBody(siptest.SDP("127.0.0.9:9"))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res, err := stranger.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode/100 == 2 || res.StatusCode/100 == 1 {
			t.Fatalf("stranger's INVITE: %d", res.StatusCode)
		}
		noInvite(ext103, "103")
	})

	var st trunkStatus
	apiCall(t, e.m, "GET", "/api/providers/"+e.ipTrunk+"/status", e.sys, nil, &st)
	if st.Status != "ONLINE" || st.RegistrationStatus != "NOT_APPLICABLE" || st.LiveCalls != 0 {
		t.Errorf("IP trunk status: %+v", st)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// viaTransport reports whether one of req's Via headers has transport tr.
func viaTransport(req *sip.Request, tr string) bool {
	for _, h := range req.GetHeaders("Via") {
		if v, ok := h.(*sip.ViaHeader); ok && strings.EqualFold(v.Transport, tr) {
			return true
		}
	}
	return false
}

// TestTrunkOverTLS switches the IP trunk to TLS, to the carrier's TLS
// socket on B, whose certificate a test CA issued: with --sip-trust-ca
// naming that CA, an international call reaches the PSTN phone over TLS;
// without it, the carrier's certificate is refused and the call fails.
func TestTrunkOverTLS(t *testing.T) {
	for _, trust := range []bool{true, false} {
		name := "trusted CA"
		if !trust {
			name = "untrusted CA"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			e := newTrunkEnvWith(t, trunkEnvOptions{TLS: true, TrustCA: trust})
			ext103 := e.extUA(ctx, t, "103")
			intl := e.pstnUA(ctx, t, pstnIntl, "Pstn#Intl3")
			intl.Answer(func(*sip.Request) (int, []byte) { return 200, siptest.SDP("127.0.0.1:9") })
			_, port := splitHostPort(t, e.car.BTLS)
			if st := apiCall(t, e.m, "POST", "/api/providers/"+e.ipTrunk, e.sys, map[string]any{"transport": "TLS", "port": port,
				"outbound_server_port": port}, nil); st/100 != 2 {
				t.Fatalf("switch the IP trunk to TLS: %d", st)
			}
			// The trunks reload in the background after the API's change:
			// calls may still leave over UDP for a moment.
			for try := 0; ; try++ {
				if try == 30 {
					t.Fatalf("no call went over TLS nor failed\ncarrier log:\n%s", e.car.LogTail(30))
				}
				d, err := ext103.Invite(ctx, "sip:011"+pstnIntl+"@acme.test", siptest.SDP("127.0.0.1:9"))
				if err != nil {
					if trust {
						t.Fatalf("call over the TLS trunk: %v\ncarrier log:\n%s", err, e.car.LogTail(30))
					}
					// Untrusted: the call fails once the trunk is on TLS.
					var st trunkStatus
					apiCall(t, e.m, "GET", "/api/providers/"+e.ipTrunk+"/status", e.sys, nil, &st)
					t.Logf("call failed as it must: %v; IP trunk status %+v last error %q", err, st, deref(st.LastError))
					return
				}
				d.Bye(ctx)
				req := <-intl.Incoming()
				if viaTransport(req, "TLS") {
					if !trust {
						t.Fatalf("a call went over TLS to a carrier whose CA is not trusted: Via %v", req.GetHeaders("Via"))
					}
					if req.From().Address.User != didB || req.Recipient.User != pstnIntl {
						t.Errorf("INVITE through the TLS trunk: R-URI %s From %s", req.Recipient.String(), req.From().Value())
					}
					e.wantCDR(t, "103", "011"+pstnIntl, "OUTBOUND_CALL", "carrier-ip", "", didB)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

// TestTrunkCallsWithAudio has a PSTN baresip phone call the registered
// trunk's DID and reach baresip 101, and baresip 102 call a national
// number that reaches another PSTN phone; both calls carry audio both ways.
func TestTrunkCallsWithAudio(t *testing.T) {
	siptest.NeedBaresip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newTrunkEnv(t)
	ext := func(n string, tone int) *siptest.Baresip {
		return siptest.StartBaresip(t, siptest.BaresipConfig{Ext: n, Password: sipPassword(e.tn.Domain, n), Domain: e.tn.Domain,
			PBX: e.m.SIP.Addr("udp"), ToneHz: tone, Register: true})
	}
	pstn := func(n, pw string, tone int) *siptest.Baresip {
		return siptest.StartBaresip(t, siptest.BaresipConfig{Ext: n, Password: pw, Domain: e.car.Domain, PBX: e.car.A, ToneHz: tone, Register: true})
	}
	ext101, ext102 := ext("101", toneCallee), ext("102", toneOut)
	in, out := pstn(pstnIn, "Pstn#In1", toneIn), pstn(pstnOut, "Pstn#Out2", toneCaller)
	for _, p := range []*siptest.Baresip{ext101, ext102, in, out} {
		if err := p.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Dial(ctx, "sip:"+didA+"@"+e.car.Domain); err != nil {
		t.Fatal(err)
	}
	if err := ext102.Dial(ctx, "sip:"+pstnOut[1:]+"@acme.test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*siptest.Baresip{in, ext101, ext102, out} {
		if _, err := p.WaitEstablished(ctx); err != nil {
			t.Fatalf("%v\ncarrier log:\n%s", err, e.car.LogTail(40))
		}
	}
	var st trunkStatus
	apiCall(t, e.m, "GET", "/api/providers/"+e.regTrunk+"/status", e.sys, nil, &st)
	if st.LiveCalls != 1 {
		t.Errorf("registered trunk's live calls: got %d, want 1 (the outbound call)", st.LiveCalls)
	}
	time.Sleep(2500 * time.Millisecond) // let the tones flow
	for _, p := range []*siptest.Baresip{in, ext102} {
		if err := p.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*siptest.Baresip{in, ext101, ext102, out} {
		if _, err := p.WaitClosed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.wantCDR(t, pstnIn, "101", "INBOUND_CALL", "carrier-reg", didA, "")
	e.wantCDR(t, "102", pstnOut[1:], "OUTBOUND_CALL", "carrier-reg", "", didA)
	for _, p := range []*siptest.Baresip{in, ext101, ext102, out} {
		p.Stop()
	}
	for _, c := range []struct {
		p           *siptest.Baresip
		name        string
		want, other float64
	}{{in, "PSTN caller", toneCallee, toneIn}, {ext101, "101", toneIn, toneCallee}, {ext102, "102", toneCaller, toneOut}, {out, "PSTN callee", toneOut, toneCaller}} {
		pw, err := c.p.Heard(c.want, c.other)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		t.Logf("%s heard %.0f Hz at %.3g and %.0f Hz at %.3g", c.name, c.want, pw[0], c.other, pw[1])
		if pw[0] < toneRatio*pw[1] || pw[0] < 1000 {
			t.Errorf("%s did not hear the other side's %.0f Hz tone: power %.3g, at %.0f Hz %.3g", c.name, c.want, pw[0], c.other, pw[1])
		}
	}
}

// TestTrunkDIDFollowsTheClock gives the tenant office hours (weekdays 9 to
// 17 in New York) and runs the server on a clock that says Sunday 03:00
// there: the registered trunk's DID, which rings 101 in office hours, goes
// to its outside-hours destination, 102.
func TestTrunkDIDFollowsTheClock(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database")
	}
	base, start := time.Date(2026, 11, 29, 3, 0, 0, 0, ny), time.Now()
	e := newTrunkEnvAt(t, func() time.Time { return base.Add(time.Since(start)) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	day := map[string]any{"enabled": true, "ranges": []map[string]any{{"from": "09:00", "to": "17:00"}}}
	if st := apiCall(t, e.m, "POST", "/api/tenant", e.tn.Admin, map[string]any{"timezone": "America/New_York",
		"office_hours": map[string]any{"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day}}, nil); st/100 != 2 {
		t.Fatalf("office hours: %d", st)
	}
	ext101, ext102 := e.extUA(ctx, t, "101"), e.extUA(ctx, t, "102")
	for _, u := range []*siptest.UA{ext101, ext102} {
		u.Answer(func(*sip.Request) (int, []byte) { return 200, siptest.SDP("127.0.0.1:9") })
	}
	caller := e.pstnUA(ctx, t, pstnIntl, "Pstn#Intl3")
	d, err := caller.Invite(ctx, "sip:"+didA+"@"+e.car.Domain, siptest.SDP("127.0.0.1:9"))
	if err != nil {
		t.Fatal(err)
	}
	d.Bye(ctx)
	select {
	case req := <-ext102.Incoming():
		if req.From().Address.User != pstnIntl {
			t.Errorf("102 got From %s", req.From().Value())
		}
	case req := <-ext101.Incoming():
		t.Fatalf("the office-hours destination 101 got the call on Sunday night: %s", req.From().Value())
	case <-time.After(5 * time.Second):
		t.Fatal("nobody got the call")
	}
}
