package trunk

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Header fields of PortSIP's inbound_parameters enum: where an incoming
// request carries a number or a name.
const (
	FieldRequestURIUser  = "REQUEST_LINE_URI_USER_PART"
	FieldContactUser     = "CONTACT_USER_PART"
	FieldToDisplay       = "TO_DISPLAY_NAME"
	FieldToUser          = "TO_USER_PART"
	FieldFromDisplay     = "FROM_DISPLAY_NAME"
	FieldFromUser        = "FROM_USER_PART"
	FieldRPIDCalledName  = "REMOTE_PARTY_ID_CALLED_PARTY_DISPLAY_NAME"
	FieldRPIDCalledUser  = "REMOTE_PARTY_ID_CALLED_PARTY_USER_PART"
	FieldRPIDCallingName = "REMOTE_PARTY_ID_CALLING_PARTY_DISPLAY_NAME"
	FieldRPIDCallingUser = "REMOTE_PARTY_ID_CALLING_PARTY_USER_PART"
	FieldPAIDisplay      = "P_ASSERTED_IDENTITY_DISPLAY_NAME"
	FieldPAIUser         = "P_ASSERTED_IDENTITY_USER_PART"
	FieldPPIDisplay      = "P_PREFERRED_IDENTIFY_DISPLAY_NAME"
	FieldPPIUser         = "P_PREFERRED_IDENTIFY_USER_PART"
	FieldPCPIDDisplay    = "P_CALLED_PARTY_ID_DISPLAY_NAME"
	FieldPCPIDUser       = "P_CALLED_PARTY_ID_USER_PART"
)

// Incoming reads who calls whom from an INVITE the trunk sent. Each of
// caller_num, caller_display_name and called_num names the header part it
// comes from (the Field constants; a Remote-Party-ID without a party
// parameter is the calling party). DEFAULT, an unknown value, or a named
// header the request lacks falls back to the default:
//
//   - called: the Request-URI user, except when it is empty or the trunk's
//     username or auth_id (a carrier that sends to the Contact the PBX
//     registered), then the To user;
//   - caller: the P-Asserted-Identity user when present, else the From
//     user;
//   - caller name: the P-Asserted-Identity display name when present, else
//     the From display name.
//
// A tel: URI's number is its user part. anonymous is true when the caller
// withheld their identity: a Privacy header with id or user, or a From
// whose user is "anonymous" or whose host is anonymous.invalid. The caller
// number is then still the asserted one when the request carries one,
// since the trunk is a trusted network (RFC 3325) and the CDR and the
// callback need it; whoever shows it to a callee must honour anonymous.
func (c Config) Incoming(req *sip.Request) (callerNum, callerName, calledNum string, anonymous bool) {
	in := c.Inbound
	calledNum = field(req, in.CalledNum)
	if calledNum == "" {
		calledNum = req.Recipient.User
		if calledNum == "" || (c.Username != "" && calledNum == c.Username) || (c.AuthID != "" && calledNum == c.AuthID) {
			if to := req.To(); to != nil && to.Address.User != "" {
				calledNum = to.Address.User
			}
		}
	}
	callerNum = field(req, in.CallerNum)
	if callerNum == "" {
		if callerNum = field(req, FieldPAIUser); callerNum == "" {
			callerNum = field(req, FieldFromUser)
		}
	}
	callerName = field(req, in.CallerDisplayName)
	if callerName == "" {
		if callerName = field(req, FieldPAIDisplay); callerName == "" {
			callerName = field(req, FieldFromDisplay)
		}
	}
	return callerNum, callerName, calledNum, withheld(req)
}

// withheld reports whether the caller asked for privacy (RFC 3323).
func withheld(req *sip.Request) bool {
	for _, h := range req.GetHeaders("Privacy") {
		for _, tok := range strings.FieldsFunc(h.Value(), func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
			if strings.EqualFold(tok, "id") || strings.EqualFold(tok, "user") {
				return true
			}
		}
	}
	if f := req.From(); f != nil {
		return strings.EqualFold(f.Address.User, anonymousUser) || strings.EqualFold(f.Address.Host, anonymousHost)
	}
	return false
}

// field returns the part of req that f names, or "" for DEFAULT, an
// unknown name or a missing header.
func field(req *sip.Request, f string) string {
	f = strings.ToUpper(f)
	switch f {
	case FieldRequestURIUser:
		return req.Recipient.User
	case FieldContactUser:
		if h := req.Contact(); h != nil {
			return uriUser(h.Address)
		}
	case FieldToDisplay:
		if h := req.To(); h != nil {
			return h.DisplayName
		}
	case FieldToUser:
		if h := req.To(); h != nil {
			return uriUser(h.Address)
		}
	case FieldFromDisplay:
		if h := req.From(); h != nil {
			return h.DisplayName
		}
	case FieldFromUser:
		if h := req.From(); h != nil {
			return uriUser(h.Address)
		}
	case FieldRPIDCalledName, FieldRPIDCalledUser, FieldRPIDCallingName, FieldRPIDCallingUser:
		want := "calling"
		if f == FieldRPIDCalledName || f == FieldRPIDCalledUser {
			want = "called"
		}
		for _, h := range req.GetHeaders("Remote-Party-ID") {
			for _, v := range splitAddrs(h.Value()) {
				name, u, params, ok := parseAddr(v)
				if !ok {
					continue
				}
				party, _ := params.Get("party")
				if party == "" {
					party = "calling"
				}
				if !strings.EqualFold(party, want) {
					continue
				}
				if f == FieldRPIDCalledName || f == FieldRPIDCallingName {
					return name
				}
				return u
			}
		}
	case FieldPAIDisplay, FieldPAIUser:
		return identity(req, "P-Asserted-Identity", f == FieldPAIDisplay)
	case FieldPPIDisplay, FieldPPIUser:
		return identity(req, "P-Preferred-Identity", f == FieldPPIDisplay)
	case FieldPCPIDDisplay, FieldPCPIDUser:
		return identity(req, "P-Called-Party-ID", f == FieldPCPIDDisplay)
	}
	return ""
}

// identity returns the display name or user of the first address in the
// named header that has one. A P-Asserted-Identity may carry a sip: and a
// tel: URI (RFC 3325 9.1); either serves.
func identity(req *sip.Request, name string, display bool) string {
	for _, h := range req.GetHeaders(name) {
		for _, v := range splitAddrs(h.Value()) {
			n, u, _, ok := parseAddr(v)
			if !ok {
				continue
			}
			if display && n != "" {
				return n
			}
			if !display && u != "" {
				return u
			}
		}
	}
	return ""
}

// parseAddr parses one name-addr or addr-spec and returns its display name
// and user (a tel: URI's number).
func parseAddr(v string) (name, user string, params sip.HeaderParams, ok bool) {
	var u sip.Uri
	params = sip.NewParams()
	name, err := sip.ParseAddressValue(strings.TrimSpace(v), &u, &params)
	if err != nil {
		return "", "", nil, false
	}
	return name, uriUser(u), params, true
}

// uriUser is a URI's user, or a tel: URI's number without its parameters.
func uriUser(u sip.Uri) string {
	if strings.EqualFold(u.Scheme, "tel") {
		n, _, _ := strings.Cut(u.Raw(), ";")
		return n
	}
	return u.User
}

// splitAddrs splits a header value holding several name-addrs at the
// commas outside quotes and angle brackets.
func splitAddrs(v string) []string {
	var out []string
	quoted, angle, start := false, 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case '<':
			if !quoted {
				angle++
			}
		case '>':
			if !quoted && angle > 0 {
				angle--
			}
		case ',':
			if !quoted && angle == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}
