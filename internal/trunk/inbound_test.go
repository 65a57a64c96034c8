package trunk

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// invite parses an INVITE from the carrier with the given extra headers.
func invite(t *testing.T, ruri, from, to string, extra ...string) *sip.Request {
	t.Helper()
	msg := "INVITE " + ruri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\n" +
		"From: " + from + ";tag=1\r\nTo: " + to + "\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n" +
		strings.Join(append(extra, ""), "\r\n") + "Content-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(msg))
	if err != nil {
		t.Fatalf("parse %q: %v", msg, err)
	}
	return m.(*sip.Request)
}

func TestIncomingDefaults(t *testing.T) {
	c := Config{Username: "4930111", AuthID: "auth99"}
	tests := []struct {
		name                   string
		req                    *sip.Request
		caller, callerName, to string
		anon                   bool
	}{
		{"from", invite(t, "sip:4930200@pbx.test", `"Bob" <sip:+4917012@carrier.test>`, "<sip:4930200@pbx.test>"), "+4917012", "Bob", "4930200", false},
		{"pai wins", invite(t, "sip:4930200@pbx.test", `"Bob" <sip:+4917012@carrier.test>`, "<sip:4930200@pbx.test>",
			`P-Asserted-Identity: "Robert" <sip:+4917099@carrier.test>`), "+4917099", "Robert", "4930200", false},
		{"pai tel", invite(t, "sip:4930200@pbx.test", `<sip:x@carrier.test>`, "<sip:4930200@pbx.test>",
			`P-Asserted-Identity: <tel:+4917077;cpc=ordinary>`), "+4917077", "", "4930200", false},
		{"pai without name", invite(t, "sip:4930200@pbx.test", `"Bob" <sip:1@carrier.test>`, "<sip:4930200@pbx.test>",
			`P-Asserted-Identity: <sip:2@carrier.test>`), "2", "Bob", "4930200", false},
		{"to the registered contact", invite(t, "sip:4930111@203.0.113.5:5060", `<sip:1@carrier.test>`, "<sip:4930222@carrier.test>"), "1", "", "4930222", false},
		{"to the auth id", invite(t, "sip:auth99@203.0.113.5:5060", `<sip:1@carrier.test>`, "<sip:4930222@carrier.test>"), "1", "", "4930222", false},
		{"no user in request-uri", invite(t, "sip:203.0.113.5:5060", `<sip:1@carrier.test>`, "<sip:4930222@carrier.test>"), "1", "", "4930222", false},
		{"privacy id", invite(t, "sip:4930200@pbx.test", `"Anonymous" <sip:anonymous@anonymous.invalid>`, "<sip:4930200@pbx.test>",
			`P-Asserted-Identity: <sip:+4917012@carrier.test>`, "Privacy: id"), "+4917012", "Anonymous", "4930200", true},
		{"privacy user;critical", invite(t, "sip:4930200@pbx.test", `<sip:1@carrier.test>`, "<sip:4930200@pbx.test>", "Privacy: user;critical"), "1", "", "4930200", true},
		{"privacy none", invite(t, "sip:4930200@pbx.test", `<sip:1@carrier.test>`, "<sip:4930200@pbx.test>", "Privacy: none"), "1", "", "4930200", false},
		{"anonymous from", invite(t, "sip:4930200@pbx.test", `<sip:Anonymous@carrier.test>`, "<sip:4930200@pbx.test>"), "Anonymous", "", "4930200", true},
		{"anonymous.invalid", invite(t, "sip:4930200@pbx.test", `<sip:x@anonymous.invalid>`, "<sip:4930200@pbx.test>"), "x", "", "4930200", true},
	}
	for _, tt := range tests {
		caller, name, called, anon := c.Incoming(tt.req)
		if caller != tt.caller || name != tt.callerName || called != tt.to || anon != tt.anon {
			t.Errorf("%s: Incoming = %q, %q, %q, %v; want %q, %q, %q, %v", tt.name, caller, name, called, anon, tt.caller, tt.callerName, tt.to, tt.anon)
		}
	}
}

// TestIncomingFields reads every field of the enum from one request.
func TestIncomingFields(t *testing.T) {
	req := invite(t, "sip:ruri@pbx.test", `"FromName" <sip:fromuser@carrier.test>`, `"ToName" <sip:touser@pbx.test>`,
		"Contact: <sip:contactuser@192.0.2.10:5060>",
		`Remote-Party-ID: "CalledRPID" <sip:calledrpid@carrier.test>;party=called`,
		`Remote-Party-ID: "CallingRPID" <sip:callingrpid@carrier.test>;party=calling;privacy=off`,
		`P-Asserted-Identity: "PAIName" <sip:paiuser@carrier.test>, <tel:+1555>`,
		`P-Preferred-Identity: "PPIName" <sip:ppiuser@carrier.test>`,
		`P-Called-Party-ID: "PCPIDName" <sip:pcpiduser@pbx.test>`)
	want := map[string]string{
		FieldRequestURIUser: "ruri", FieldContactUser: "contactuser", FieldToDisplay: "ToName", FieldToUser: "touser",
		FieldFromDisplay: "FromName", FieldFromUser: "fromuser",
		FieldRPIDCalledName: "CalledRPID", FieldRPIDCalledUser: "calledrpid", FieldRPIDCallingName: "CallingRPID", FieldRPIDCallingUser: "callingrpid",
		FieldPAIDisplay: "PAIName", FieldPAIUser: "paiuser", FieldPPIDisplay: "PPIName", FieldPPIUser: "ppiuser",
		FieldPCPIDDisplay: "PCPIDName", FieldPCPIDUser: "pcpiduser",
	}
	for f, w := range want {
		c := Config{Inbound: InboundParameters{CallerNum: f, CallerDisplayName: f, CalledNum: f}}
		caller, name, called, _ := c.Incoming(req)
		if caller != w || name != w || called != w {
			t.Errorf("%s: Incoming = %q, %q, %q; want %q for each", f, caller, name, called, w)
		}
	}
	// A named header the request lacks falls back to the default, and a
	// Remote-Party-ID without party is the calling party.
	bare := invite(t, "sip:4930200@pbx.test", `"Bob" <sip:1@carrier.test>`, "<sip:4930200@pbx.test>", `Remote-Party-ID: <sip:77@carrier.test>`)
	c := Config{Inbound: InboundParameters{CallerNum: FieldRPIDCallingUser, CallerDisplayName: FieldPPIDisplay, CalledNum: FieldPCPIDUser}}
	caller, name, called, _ := c.Incoming(bare)
	if caller != "77" || name != "Bob" || called != "4930200" {
		t.Errorf("fallbacks: Incoming = %q, %q, %q; want 77, Bob, 4930200", caller, name, called)
	}
	c = Config{Inbound: InboundParameters{CallerNum: "DEFAULT", CalledNum: "to_user_part"}}
	caller, _, called, _ = c.Incoming(invite(t, "sip:x@pbx.test", `<sip:1@carrier.test>`, "<sip:4930200@pbx.test>"))
	if caller != "1" || called != "4930200" {
		t.Errorf("DEFAULT and lower case: Incoming = %q, %q; want 1, 4930200", caller, called)
	}
}
