package trunk

import (
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/call"
)

// Values of UserPart.Value.
const (
	UserAuthID             = "AUTH_ID"
	UserCallerNum          = "CALLER_NUM"
	UserCalledNum          = "CALLED_NUM"
	UserCallerDisplayName  = "CALLER_DISPLAY_NAME"
	UserOutboundCallerID   = "OUTBOUND_CALLER_ID"
	UserOriginatorCallerID = "ORIGINATOR_CALLER_ID"
	UserOutboundAndOrig    = "OUTBOUND_CALLER_ID_AND_ORIGINATOR_CALLER_ID"
	UserAnonymous          = "ANONYMOUS"
	PartDefault            = "DEFAULT"
	PartCustom             = "CUSTOM"
)

// Values of HostPart.Value.
const (
	HostTrunk     = "TRUNK_HOST_PORT"
	HostOutbound  = "OUT_HOST_PORT"
	HostContact   = "CONTACT_URI"
	HostSIPDomain = "SIP_DOMAIN"
)

// Values of PrivacyTypesSupported.
const (
	PrivacyDefault = "DEFAULT"
	PrivacyNone    = "NONE"
	PrivacyID      = "ID"
	PrivacyUser    = "USER"
	PrivacyHeader  = "HEADER"
	PrivacySession = "SESSION"
)

// The From of a call whose caller withheld their identity, RFC 3323
// section 4.1.1.3.
const (
	anonymousName = "Anonymous"
	anonymousUser = "anonymous"
	anonymousHost = "anonymous.invalid"
)

// Route builds the headers of an INVITE that places tc through the trunk.
// Acquire is left nil: Registry.Route binds it to the trunk's live calls.
//
// Every part follows its outbound parameter. A user or display-name part
// set to
//
//	AUTH_ID              is the trunk's auth_id, else its username
//	CALLER_NUM           is tc.CallerNum
//	CALLED_NUM           is tc.CalledNum
//	CALLER_DISPLAY_NAME  is tc.CallerName
//	OUTBOUND_CALLER_ID   is tc.OutboundCallerID, else tc.CallerNum
//	ORIGINATOR_CALLER_ID is tc.OriginatorCallerID, else tc.CallerNum
//	OUTBOUND_CALLER_ID_AND_ORIGINATOR_CALLER_ID
//	                     is tc.OriginatorCallerID for a forwarded call (a
//	                     carrier that allows it shows the original caller),
//	                     else tc.OutboundCallerID, else tc.CallerNum
//	ANONYMOUS            is "anonymous" (display names: "Anonymous")
//	CUSTOM               is custom_value
//	DEFAULT or unset     is the part's default below
//
// and a host part set to
//
//	TRUNK_HOST_PORT      is the trunk's hostname and port (no port when 0)
//	OUT_HOST_PORT        is the outbound server and its port, else as TRUNK_HOST_PORT
//	CONTACT_URI          is the host and port of Config.Local, the PBX's contact
//	SIP_DOMAIN           is tc.Domain
//	CUSTOM               is custom_value, "host" or "host:port"
//	DEFAULT or unset     is the part's default below.
//
// The defaults are PortSIP's: the Request-URI and To are
// sip:CalledNum@hostname[:port] with no To display name. The From user is
// the caller ID: tc.OutboundCallerID when set, else the trunk's username
// for a REGISTER_AUTH trunk (carriers check that the From is their
// account), else tc.CallerNum; its host is the trunk's hostname and its
// display name tc.CallerName, else tc.OutboundCallerID. The Contact user is
// the trunk's username for a REGISTER_AUTH trunk, so that a carrier that
// routes by Contact finds the account, else tc.CallerNum.
//
// P-Asserted-Identity is sent when one of its parts is set to something
// other than DEFAULT, and also when the From does not carry the caller ID
// to assert: the From user was configured to something else (AUTH_ID,
// CUSTOM...) while tc.OutboundCallerID is set. Its parts default to the
// caller ID (tc.OutboundCallerID, else the From user), the From host and
// the From display name. Remote-Party-ID (party=calling and party=called),
// P-Preferred-Identity and P-Called-Party-ID are sent only when one of
// their parts is set; the calling ones default like P-Asserted-Identity and
// the called ones like To.
//
// A call with tc.Anonymous (RFC 3323, RFC 3325) has the From
// "Anonymous" <sip:anonymous@anonymous.invalid>, a Contact without the
// caller's number unless the trunk is REGISTER_AUTH, Remote-Party-ID with
// privacy=full, and, as privacy_types_supported says:
//
//	DEFAULT, ID or unset  P-Asserted-Identity with the real caller ID, Privacy: id
//	USER                  P-Asserted-Identity, Privacy: user
//	HEADER                P-Asserted-Identity, Privacy: header
//	SESSION               P-Asserted-Identity, Privacy: session
//	NONE                  no Privacy, no P-Asserted-Identity or P-Preferred-Identity
//
// The carrier needs the asserted identity for billing and emergency calls
// and withholds it from the callee because of the Privacy header; a
// carrier that does not support privacy (NONE) would pass the identity on,
// so none is sent and only the From hides the caller.
func (c Config) Route(tc call.TrunkCall) call.TrunkRoute {
	o := c.Outbound
	trunkHP := hostPort{c.Hostname, c.Port}

	ruri := c.uri(c.user(o.RequestURIUser, tc, tc.CalledNum, false), c.host(o.RequestURIHost, tc, trunkHP))
	to := c.uri(c.user(o.ToUser, tc, tc.CalledNum, false), c.host(o.ToHost, tc, trunkHP))
	toName := c.user(o.ToDisplayName, tc, "", true)

	callerID := tc.CallerNum
	if c.AuthMode == RegisterAuth && c.AccountUser() != "" {
		callerID = c.AccountUser()
	}
	if tc.OutboundCallerID != "" {
		callerID = tc.OutboundCallerID
	}
	fromHP := c.host(o.FromHost, tc, hostPort{host: c.Hostname})
	from := c.uri(c.user(o.FromUser, tc, callerID, false), fromHP)
	fromName := c.user(o.FromDisplay, tc, first(tc.CallerName, tc.OutboundCallerID), true)

	contactDefault := tc.CallerNum
	if c.AuthMode == RegisterAuth && c.AccountUser() != "" {
		contactDefault = c.AccountUser()
	} else if tc.Anonymous {
		contactDefault = ""
	}
	contactUser := c.user(o.ContactUser, tc, contactDefault, false)

	// The identity a trusted network may see: the caller ID the From would
	// carry, or the chosen outbound caller ID when the From carries the
	// account instead.
	asserted := from.User
	if tc.OutboundCallerID != "" {
		asserted = tc.OutboundCallerID
	}
	privacy := privacyToken(o.PrivacyTypesSupported)
	withhold := tc.Anonymous && privacy == ""

	var headers []sip.Header
	if (o.PAIDisplay.isSet() || o.PAIUser.isSet() || o.PAIHost.isSet() || asserted != from.User || tc.Anonymous) && !withhold {
		u := c.uri(c.user(o.PAIUser, tc, asserted, false), c.host(o.PAIHost, tc, fromHP))
		headers = append(headers, sip.NewHeader("P-Asserted-Identity", nameAddr(c.user(o.PAIDisplay, tc, fromName, true), u)))
	}
	if (o.PPIDisplay.isSet() || o.PPIUser.isSet() || o.PPIHost.isSet()) && !withhold {
		u := c.uri(c.user(o.PPIUser, tc, asserted, false), c.host(o.PPIHost, tc, fromHP))
		headers = append(headers, sip.NewHeader("P-Preferred-Identity", nameAddr(c.user(o.PPIDisplay, tc, fromName, true), u)))
	}
	if o.RPIDCallingDisplay.isSet() || o.RPIDCallingUser.isSet() || o.RPIDCallingHost.isSet() {
		u := c.uri(c.user(o.RPIDCallingUser, tc, asserted, false), c.host(o.RPIDCallingHost, tc, fromHP))
		v := nameAddr(c.user(o.RPIDCallingDisplay, tc, fromName, true), u) + ";party=calling;screen=yes"
		if tc.Anonymous {
			v += ";privacy=full"
		} else {
			v += ";privacy=off"
		}
		headers = append(headers, sip.NewHeader("Remote-Party-ID", v))
	}
	if o.RPIDCalledDisplay.isSet() || o.RPIDCalledUser.isSet() || o.RPIDCalledHost.isSet() {
		u := c.uri(c.user(o.RPIDCalledUser, tc, to.User, false), c.host(o.RPIDCalledHost, tc, hostPort{to.Host, to.Port}))
		headers = append(headers, sip.NewHeader("Remote-Party-ID", nameAddr(c.user(o.RPIDCalledDisplay, tc, toName, true), u)+";party=called"))
	}
	if o.PCPIDDisplay.isSet() || o.PCPIDUser.isSet() || o.PCPIDHost.isSet() {
		u := c.uri(c.user(o.PCPIDUser, tc, to.User, false), c.host(o.PCPIDHost, tc, hostPort{to.Host, to.Port}))
		headers = append(headers, sip.NewHeader("P-Called-Party-ID", nameAddr(c.user(o.PCPIDDisplay, tc, toName, true), u)))
	}
	if tc.Anonymous {
		from = sip.Uri{Scheme: "sip", User: anonymousUser, Host: anonymousHost}
		fromName = anonymousName
		if privacy != "" {
			headers = append(headers, sip.NewHeader("Privacy", privacy))
		}
	}

	return call.TrunkRoute{
		Trunk: c.ID, Name: c.Name,
		RequestURI: ruri, From: from, To: to, FromName: fromName, ToName: toName,
		ContactUser:      contactUser,
		OutboundCallerID: tc.OutboundCallerID,
		Headers:          headers,
		Dest:             c.Dest(), Transport: c.Transport,
		Username: c.AuthUser(), Password: c.Password,
	}
}

// privacyToken is the Privacy header value for privacy_types_supported,
// empty for NONE.
func privacyToken(v string) string {
	switch strings.ToUpper(v) {
	case PrivacyNone:
		return ""
	case PrivacyUser:
		return "user"
	case PrivacyHeader:
		return "header"
	case PrivacySession:
		return "session"
	}
	return "id"
}

type hostPort struct {
	host string
	port int
}

func (c Config) uri(user string, h hostPort) sip.Uri {
	return sip.Uri{Scheme: "sip", User: user, Host: strings.Trim(h.host, "[]"), Port: h.port}
}

// isSet reports whether a part is configured to something other than its
// default. The API may store an explicit DEFAULT, which must not turn
// optional headers on.
func (p *UserPart) isSet() bool {
	return p != nil && p.Value != "" && !strings.EqualFold(p.Value, PartDefault)
}

// isSet reports whether a part is configured to something other than its
// default.
func (p *HostPart) isSet() bool {
	return p != nil && p.Value != "" && !strings.EqualFold(p.Value, PartDefault)
}

// user resolves a user or display-name part; def is the part's DEFAULT.
func (c Config) user(p *UserPart, tc call.TrunkCall, def string, display bool) string {
	if p == nil {
		return def
	}
	switch strings.ToUpper(p.Value) {
	case UserAuthID:
		return c.AuthUser()
	case UserCallerNum:
		return tc.CallerNum
	case UserCalledNum:
		return tc.CalledNum
	case UserCallerDisplayName:
		return tc.CallerName
	case UserOutboundCallerID:
		return first(tc.OutboundCallerID, tc.CallerNum)
	case UserOriginatorCallerID:
		return first(tc.OriginatorCallerID, tc.CallerNum)
	case UserOutboundAndOrig:
		return first(tc.OriginatorCallerID, tc.OutboundCallerID, tc.CallerNum)
	case UserAnonymous:
		if display {
			return anonymousName
		}
		return anonymousUser
	case PartCustom:
		return p.Custom
	}
	return def
}

// host resolves a host part; def is the part's DEFAULT.
func (c Config) host(p *HostPart, tc call.TrunkCall, def hostPort) hostPort {
	if p == nil {
		return def
	}
	switch strings.ToUpper(p.Value) {
	case HostTrunk:
		return hostPort{c.Hostname, c.Port}
	case HostOutbound:
		if c.OutboundServer == "" {
			return hostPort{c.Hostname, c.Port}
		}
		return hostPort{c.OutboundServer, c.OutboundServerPort}
	case HostContact:
		if c.Local.Host != "" {
			return hostPort{c.Local.Host, c.Local.Port}
		}
	case HostSIPDomain:
		if tc.Domain != "" {
			return hostPort{host: tc.Domain}
		}
	case PartCustom:
		if h, p, err := net.SplitHostPort(p.Custom); err == nil {
			port, _ := strconv.Atoi(p)
			return hostPort{h, port}
		}
		if p.Custom != "" {
			return hostPort{host: p.Custom}
		}
	}
	return def
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// nameAddr writes a name-addr, quoting the display name (RFC 3261 25.1).
func nameAddr(name string, u sip.Uri) string {
	var b strings.Builder
	if name != "" {
		b.WriteByte('"')
		for _, r := range name {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteString(`" `)
	}
	b.WriteByte('<')
	b.WriteString(u.String())
	b.WriteByte('>')
	return b.String()
}
