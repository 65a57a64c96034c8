package signaling

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
)

// TrunkAccounts lets the devices of ACCEPT_REGISTER trunks (a gateway, a
// carrier's SBC) register to the PBX with their trunk's credentials, as a
// phone registers with its extension's. Once registered, the device's
// requests are its trunk's: Trunks.TrunkAt must then also answer for the
// address it registered from. The trunk runtime (trunk.Registry, through
// cmd/gopbx) implements it; its methods must be safe for concurrent use and
// must not block.
type TrunkAccounts interface {
	// TrunkAccount returns the enabled ACCEPT_REGISTER trunk whose auth_id
	// or username is user.
	TrunkAccount(user string) (TrunkAccount, bool)
	// BindTrunk stores the registration of trunk id's device, replacing the
	// one it had. It returns false when the trunk no longer takes
	// registrations (it was disabled or deleted since TrunkAccount).
	BindTrunk(id pbx.ID, b TrunkBinding) bool
	// UnbindTrunk removes the registration of trunk id whose Contact is
	// contact, or any when contact is the wildcard.
	UnbindTrunk(id pbx.ID, contact sip.Uri)
}

// TrunkAccount is an ACCEPT_REGISTER trunk's account: the digest user name
// may be AuthID or Username.
type TrunkAccount struct {
	ID                         pbx.ID
	AuthID, Username, Password string
}

// TrunkBinding is where an ACCEPT_REGISTER trunk's device registered from.
type TrunkBinding struct {
	Contact   sip.Uri
	Source    netip.AddrPort
	Transport string // UDP, TCP or TLS
	ExpiresAt time.Time
}

type accountsBox struct{ a TrunkAccounts }

// SetTrunkAccounts sets (or, with nil, removes) the trunk accounts whose
// devices may register. It may be called at any time.
func (s *Server) SetTrunkAccounts(a TrunkAccounts) { s.accts.Store(&accountsBox{a}) }

// trunkAccount returns the ACCEPT_REGISTER trunk a REGISTER is for: the
// one whose account the To user names. Trunks are system-wide and
// extensions belong to tenants, so a name can be both; the rule is that the
// tenant's extension wins in its own domain. When the request's domain (the
// To host, as authenticate reads it) names a tenant that has an extension
// with that number, enabled or not, the REGISTER is that extension's;
// otherwise (an IP address, an unknown domain, or a tenant without such an
// extension) it is the trunk's. A device therefore registers with the
// PBX's address or any name that is not a tenant's, and no trunk can take
// over a phone's registration.
func (s *Server) trunkAccount(ctx context.Context, req *sip.Request) (TrunkAccount, bool) {
	b := s.accts.Load()
	to := req.To()
	if b == nil || b.a == nil || to == nil || to.Address.User == "" {
		return TrunkAccount{}, false
	}
	user := to.Address.User
	acct, ok := b.a.TrunkAccount(user)
	if !ok {
		return TrunkAccount{}, false
	}
	_, _, err := s.st.TenantUserByExtension(ctx, requestDomain(req), user)
	switch {
	case err == nil:
		return TrunkAccount{}, false
	case pbx.ErrorCode(err) != pbx.ENOTFOUND:
		// The extension path meets the same failure and answers 500;
		// guessing the trunk here could hand a phone's AOR to a trunk.
		return TrunkAccount{}, false
	}
	return acct, true
}

// registerTrunk authenticates a REGISTER of an ACCEPT_REGISTER trunk's
// device with the trunk's password and stores or removes its binding. The
// trunk keeps one binding, from the request's first Contact; its expiry is
// the Contact's expires, else the Expires header, else DefaultExpires,
// bounded like an extension's (423 below MinExpires, capped at
// MaxExpires). A REGISTER without Contact (a query) gets 200 without
// Contact: TrunkAccounts does not report bindings back, and a device has no
// use for them.
func (s *Server) registerTrunk(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, acct TrunkAccount) {
	verdict, res := s.checkDigest(ctx, req, requestDomain(req), false, func(username string) (string, bool, error) {
		if username == "" || (username != acct.AuthID && username != acct.Username) {
			return "", false, nil
		}
		return acct.Password, acct.Password != "", nil
	}, nil)
	if verdict != authOK {
		s.respond(tx, res)
		return
	}
	b := s.accts.Load()
	if b == nil || b.a == nil {
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}

	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			headerExpires = n
		}
	}
	var contact *sip.ContactHeader
	wildcard := false
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Contact", nil))
			return
		}
		if c.Address.Wildcard {
			wildcard = true
		} else if contact == nil {
			contact = c
		}
	}
	now := s.now()
	ok200 := func() *sip.Response {
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
		return res
	}
	switch {
	case wildcard && (contact != nil || headerExpires != 0):
		// RFC 3261 10.3 step 6: "*" only with Expires: 0 and alone.
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Wildcard Contact", nil))
		return
	case wildcard:
		b.a.UnbindTrunk(acct.ID, sip.Uri{Wildcard: true})
		s.respond(tx, ok200())
		return
	case contact == nil:
		s.respond(tx, ok200())
		return
	}

	expires := headerExpires
	if contact.Params != nil {
		if v, ok := contact.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				expires = n
			}
		}
	}
	if expires < 0 {
		expires = s.cfg.DefaultExpires
	}
	if expires == 0 {
		b.a.UnbindTrunk(acct.ID, contact.Address)
		s.respond(tx, ok200())
		return
	}
	if expires < s.cfg.MinExpires {
		res := sip.NewResponseFromRequest(req, sip.StatusIntervalToBrief, "Interval Too Brief", nil)
		res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(s.cfg.MinExpires)))
		s.respond(tx, res)
		return
	}
	expires = min(expires, s.cfg.MaxExpires)
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		s.log.Error("trunk registration source unreadable", "source", req.Source(), "error", err)
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil))
		return
	}
	bound := b.a.BindTrunk(acct.ID, TrunkBinding{
		Contact: contact.Address, Source: src, Transport: strings.ToUpper(req.Transport()),
		ExpiresAt: now.Add(time.Duration(expires) * time.Second),
	})
	if !bound {
		// Disabled between the lookup and now: as if it never existed.
		s.respond(tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	res = ok200()
	res.AppendHeader(sip.NewHeader("Contact", "<"+contact.Address.String()+">;expires="+strconv.Itoa(expires)))
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	s.respond(tx, res)
}
