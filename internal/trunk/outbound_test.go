package trunk

import (
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/google/go-cmp/cmp"

	"github.com/gopbx/gopbx/internal/call"
)

// flatRoute is a TrunkRoute as text, for readable diffs.
type flatRoute struct {
	RURI, From, To, Contact string
	Headers                 []string
}

func flatten(rt call.TrunkRoute) flatRoute {
	f := flatRoute{RURI: rt.RequestURI.String(), From: nameAddr(rt.FromName, rt.From), To: nameAddr(rt.ToName, rt.To), Contact: rt.ContactUser}
	for _, h := range rt.Headers {
		f.Headers = append(f.Headers, h.Name()+": "+h.Value())
	}
	return f
}

func up(v string) *UserPart       { return &UserPart{Value: v} }
func hpart(v, c string) *HostPart { return &HostPart{Value: v, Custom: c} }
func custom(v string) *UserPart   { return &UserPart{Value: PartCustom, Custom: v} }
func ipTrunk() Config {
	return Config{ID: 1, Name: "ip", Enabled: true, AuthMode: IPAuth, Transport: "UDP", Hostname: "sip.carrier.test", Port: 5070, OutboundServer: "sbc.carrier.test", OutboundServerPort: 5080, Username: "", Password: ""}
}
func regTrunk() Config {
	return Config{ID: 2, Name: "reg", Enabled: true, AuthMode: RegisterAuth, Transport: "TCP", Hostname: "voip.carrier.test", AuthID: "auth99", Username: "4930111", Password: "pw"}
}
func withOut(c Config, o OutboundParameters) Config { c.Outbound = o; return c }

func TestRouteDefaults(t *testing.T) {
	tc := call.TrunkCall{CallerNum: "101", CallerName: "Alice", CalledNum: "004930999", Domain: "acme.test"}
	tests := []struct {
		name string
		c    Config
		tc   call.TrunkCall
		want flatRoute
	}{
		{"ip auth", ipTrunk(), tc, flatRoute{
			RURI: "sip:004930999@sip.carrier.test:5070", To: "<sip:004930999@sip.carrier.test:5070>",
			From: `"Alice" <sip:101@sip.carrier.test>`, Contact: "101"}},
		{"ip auth with outbound caller id", ipTrunk(), call.TrunkCall{CallerNum: "101", CallerName: "Alice", CalledNum: "9", OutboundCallerID: "4930555"}, flatRoute{
			RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>",
			From: `"Alice" <sip:4930555@sip.carrier.test>`, Contact: "101"}},
		{"register auth", regTrunk(), tc, flatRoute{
			RURI: "sip:004930999@voip.carrier.test", To: "<sip:004930999@voip.carrier.test>",
			From: `"Alice" <sip:4930111@voip.carrier.test>`, Contact: "4930111"}},
		{"register auth with outbound caller id", regTrunk(), call.TrunkCall{CallerNum: "101", CalledNum: "9", OutboundCallerID: "4930555"}, flatRoute{
			RURI: "sip:9@voip.carrier.test", To: "<sip:9@voip.carrier.test>",
			From: `"4930555" <sip:4930555@voip.carrier.test>`, Contact: "4930111"}},
		{"from carries the account, outbound caller id asserted", withOut(regTrunk(), OutboundParameters{FromUser: up(UserAuthID)}),
			call.TrunkCall{CallerNum: "101", CallerName: "Alice", CalledNum: "9", OutboundCallerID: "4930555"}, flatRoute{
				RURI: "sip:9@voip.carrier.test", To: "<sip:9@voip.carrier.test>",
				From: `"Alice" <sip:auth99@voip.carrier.test>`, Contact: "4930111",
				Headers: []string{`P-Asserted-Identity: "Alice" <sip:4930555@voip.carrier.test>`}}},
	}
	for _, tt := range tests {
		got := flatten(tt.c.Route(tt.tc))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestRouteFields(t *testing.T) {
	c := regTrunk()
	rt := c.Route(call.TrunkCall{CalledNum: "9"})
	if rt.Trunk != 2 || rt.Name != "reg" || rt.Dest != "voip.carrier.test:5060" || rt.Transport != "TCP" ||
		rt.Username != "auth99" || rt.Password != "pw" || rt.Acquire != nil {
		t.Errorf("Route = %+v, want trunk 2 reg, dest voip.carrier.test:5060 TCP, auth99/pw, no Acquire", rt)
	}
	c.AuthID = ""
	if got := c.Route(call.TrunkCall{}).Username; got != "4930111" {
		t.Errorf("Username without auth_id = %q, want the username", got)
	}
}

// TestRouteUserParts sets the From user to each value of the enum.
func TestRouteUserParts(t *testing.T) {
	tc := call.TrunkCall{CallerNum: "101", CallerName: "Alice", CalledNum: "9", OutboundCallerID: "555", OriginatorCallerID: "777", Domain: "acme.test"}
	noIDs := call.TrunkCall{CallerNum: "101", CalledNum: "9"}
	tests := []struct {
		part *UserPart
		tc   call.TrunkCall
		want string
	}{
		{up(UserAuthID), tc, "auth99"},
		{up(UserCallerNum), tc, "101"},
		{up(UserCalledNum), tc, "9"},
		{up(UserCallerDisplayName), tc, "Alice"},
		{up(UserOutboundCallerID), tc, "555"},
		{up(UserOutboundCallerID), noIDs, "101"},
		{up(UserOriginatorCallerID), tc, "777"},
		{up(UserOriginatorCallerID), noIDs, "101"},
		{up(UserOutboundAndOrig), tc, "777"},
		{up(UserOutboundAndOrig), call.TrunkCall{CallerNum: "101", OutboundCallerID: "555"}, "555"},
		{up(UserOutboundAndOrig), noIDs, "101"},
		{up(UserAnonymous), tc, "anonymous"},
		{up(PartDefault), tc, "555"},
		{up(""), noIDs, "4930111"},
		{up("NO_SUCH_VALUE"), noIDs, "4930111"},
		{custom("+4930123"), tc, "+4930123"},
		{&UserPart{Value: "caller_num"}, tc, "101"},
	}
	for _, tt := range tests {
		c := withOut(regTrunk(), OutboundParameters{FromUser: tt.part})
		if got := c.Route(tt.tc).From.User; got != tt.want {
			t.Errorf("from_user_part %+v: From user = %q, want %q", *tt.part, got, tt.want)
		}
	}
	// Display names: ANONYMOUS is a name there.
	c := withOut(regTrunk(), OutboundParameters{FromDisplay: up(UserAnonymous), ToDisplayName: up(UserCalledNum)})
	rt := c.Route(tc)
	if rt.FromName != "Anonymous" || rt.ToName != "9" {
		t.Errorf("FromName, ToName = %q, %q, want Anonymous, 9", rt.FromName, rt.ToName)
	}
}

// TestRouteHostParts sets the Request-URI host to each value of the enum.
func TestRouteHostParts(t *testing.T) {
	tc := call.TrunkCall{CalledNum: "9", Domain: "acme.test"}
	local := sip.Uri{Scheme: "sip", Host: "203.0.113.5", Port: 5062}
	tests := []struct {
		part *HostPart
		c    Config
		tc   call.TrunkCall
		want string
	}{
		{hpart(HostTrunk, ""), ipTrunk(), tc, "sip:9@sip.carrier.test:5070"},
		{hpart(HostOutbound, ""), ipTrunk(), tc, "sip:9@sbc.carrier.test:5080"},
		{hpart(HostOutbound, ""), regTrunk(), tc, "sip:9@voip.carrier.test"},
		{hpart(HostContact, ""), func() Config { c := ipTrunk(); c.Local = local; return c }(), tc, "sip:9@203.0.113.5:5062"},
		{hpart(HostContact, ""), ipTrunk(), tc, "sip:9@sip.carrier.test:5070"},
		{hpart(HostSIPDomain, ""), ipTrunk(), tc, "sip:9@acme.test"},
		{hpart(HostSIPDomain, ""), ipTrunk(), call.TrunkCall{CalledNum: "9"}, "sip:9@sip.carrier.test:5070"},
		{hpart(PartCustom, "gw.example.test:5099"), ipTrunk(), tc, "sip:9@gw.example.test:5099"},
		{hpart(PartCustom, "gw.example.test"), ipTrunk(), tc, "sip:9@gw.example.test"},
		{hpart(PartDefault, ""), ipTrunk(), tc, "sip:9@sip.carrier.test:5070"},
	}
	for _, tt := range tests {
		c := withOut(tt.c, OutboundParameters{RequestURIHost: tt.part})
		if rt := c.Route(tt.tc); rt.RequestURI.String() != tt.want {
			got := rt.RequestURI.String()
			t.Errorf("request_line_uri_host_part %+v: Request-URI = %q, want %q", *tt.part, got, tt.want)
		}
	}
	// Each host part applies to its own header.
	c := withOut(ipTrunk(), OutboundParameters{ToHost: hpart(HostSIPDomain, ""), FromHost: hpart(HostOutbound, ""),
		RequestURIUser: custom("+49309"), ToUser: up(UserCallerNum), ContactUser: custom("trunk1")})
	got := flatten(c.Route(call.TrunkCall{CallerNum: "101", CalledNum: "9", Domain: "acme.test"}))
	want := flatRoute{RURI: "sip:+49309@sip.carrier.test:5070", To: "<sip:101@acme.test>", From: "<sip:101@sbc.carrier.test:5080>", Contact: "trunk1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("per-header parts (-want +got):\n%s", diff)
	}
}

func TestRouteIdentityHeaders(t *testing.T) {
	tc := call.TrunkCall{CallerNum: "101", CallerName: "Alice", CalledNum: "9", OutboundCallerID: "555"}
	tests := []struct {
		name string
		o    OutboundParameters
		want []string
	}{
		{"none by default", OutboundParameters{}, nil},
		{"explicit DEFAULT adds nothing", OutboundParameters{PAIUser: up(PartDefault), RPIDCallingUser: up(PartDefault)}, nil},
		{"pai", OutboundParameters{PAIUser: up(UserOutboundCallerID), PAIHost: hpart(PartCustom, "carrier.test")},
			[]string{`P-Asserted-Identity: "Alice" <sip:555@carrier.test>`}},
		{"pai display only", OutboundParameters{PAIDisplay: up(UserCallerNum)},
			[]string{`P-Asserted-Identity: "101" <sip:555@sip.carrier.test>`}},
		{"ppi", OutboundParameters{PPIUser: up(UserCallerNum)},
			[]string{`P-Preferred-Identity: "Alice" <sip:101@sip.carrier.test>`}},
		{"rpid calling", OutboundParameters{RPIDCallingUser: up(UserOutboundCallerID)},
			[]string{`Remote-Party-ID: "Alice" <sip:555@sip.carrier.test>;party=calling;screen=yes;privacy=off`}},
		{"rpid called", OutboundParameters{RPIDCalledHost: hpart(PartCustom, "x.test")},
			[]string{`Remote-Party-ID: <sip:9@x.test>;party=called`}},
		{"p-called-party-id", OutboundParameters{PCPIDUser: up(UserCalledNum), PCPIDDisplay: custom(`Sales "EU"`)},
			[]string{`P-Called-Party-ID: "Sales \"EU\"" <sip:9@sip.carrier.test:5070>`}},
	}
	for _, tt := range tests {
		got := flatten(withOut(ipTrunk(), tt.o).Route(tc)).Headers
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestRouteAnonymous(t *testing.T) {
	tc := call.TrunkCall{CallerNum: "101", CallerName: "Alice", CalledNum: "9", OutboundCallerID: "555", Anonymous: true}
	anonFrom := `"Anonymous" <sip:anonymous@anonymous.invalid>`
	tests := []struct {
		name    string
		c       Config
		privacy string
		o       OutboundParameters
		want    flatRoute
	}{
		{"default privacy", ipTrunk(), "", OutboundParameters{}, flatRoute{RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>", From: anonFrom,
			Headers: []string{`P-Asserted-Identity: "Alice" <sip:555@sip.carrier.test>`, "Privacy: id"}}},
		{"DEFAULT", ipTrunk(), PrivacyDefault, OutboundParameters{}, flatRoute{RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>", From: anonFrom,
			Headers: []string{`P-Asserted-Identity: "Alice" <sip:555@sip.carrier.test>`, "Privacy: id"}}},
		{"ID", ipTrunk(), PrivacyID, OutboundParameters{}, flatRoute{RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>", From: anonFrom,
			Headers: []string{`P-Asserted-Identity: "Alice" <sip:555@sip.carrier.test>`, "Privacy: id"}}},
		{"USER", ipTrunk(), PrivacyUser, OutboundParameters{}, flatRoute{RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>", From: anonFrom,
			Headers: []string{`P-Asserted-Identity: "Alice" <sip:555@sip.carrier.test>`, "Privacy: user"}}},
		{"HEADER", ipTrunk(), PrivacyHeader, OutboundParameters{}, flatRoute{RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>", From: anonFrom,
			Headers: []string{`P-Asserted-Identity: "Alice" <sip:555@sip.carrier.test>`, "Privacy: header"}}},
		{"SESSION", ipTrunk(), PrivacySession, OutboundParameters{}, flatRoute{RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>", From: anonFrom,
			Headers: []string{`P-Asserted-Identity: "Alice" <sip:555@sip.carrier.test>`, "Privacy: session"}}},
		{"NONE", ipTrunk(), PrivacyNone, OutboundParameters{PAIUser: up(UserCallerNum)}, flatRoute{RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>", From: anonFrom}},
		{"register auth keeps the account contact", regTrunk(), "", OutboundParameters{RPIDCallingUser: up(UserOutboundCallerID)}, flatRoute{RURI: "sip:9@voip.carrier.test", To: "<sip:9@voip.carrier.test>", From: anonFrom, Contact: "4930111",
			Headers: []string{`P-Asserted-Identity: "Alice" <sip:555@voip.carrier.test>`,
				`Remote-Party-ID: "Alice" <sip:555@voip.carrier.test>;party=calling;screen=yes;privacy=full`, "Privacy: id"}}},
		{"configured from still hidden", ipTrunk(), "", OutboundParameters{FromUser: custom("999")}, flatRoute{RURI: "sip:9@sip.carrier.test:5070", To: "<sip:9@sip.carrier.test:5070>", From: anonFrom,
			Headers: []string{`P-Asserted-Identity: "Alice" <sip:555@sip.carrier.test>`, "Privacy: id"}}},
	}
	for _, tt := range tests {
		tt.o.PrivacyTypesSupported = tt.privacy
		got := flatten(withOut(tt.c, tt.o).Route(tc))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// Without an outbound caller ID the asserted identity is the caller's.
	got := flatten(ipTrunk().Route(call.TrunkCall{CallerNum: "101", CalledNum: "9", Anonymous: true})).Headers
	want := []string{"P-Asserted-Identity: <sip:101@sip.carrier.test>", "Privacy: id"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("anonymous without caller id (-want +got):\n%s", diff)
	}
}
