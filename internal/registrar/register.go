package registrar

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Request is an authenticated REGISTER and what signalling knows about it.
type Request struct {
	SIP       *sip.Request
	Tenant    pbx.TenantID
	User      pbx.ID // the user that authenticated, owner of the AOR
	Extension string // the user's extension number: the AOR's user part
	Source    string // ip:port the request came from
	Transport string // UDP, TCP, TLS, WS, WSS
	// Resent marks a retransmission of a REGISTER that was accepted
	// before, in the same transaction: it gets 200 with the current
	// bindings and changes nothing (it may be a replay, too). Signalling
	// answers REGISTER without keeping the transaction, so it tells
	// retransmissions apart itself, by their digest nonce count.
	Resent bool
}

// contactIn is one Contact of a REGISTER, with the expiry that applies to it.
type contactIn struct {
	uri      string
	instance string
	regID    int
	expires  int // seconds, already bounded; 0 removes
}

// Register applies an authenticated REGISTER (RFC 3261 section 10.3) and
// returns the response for signalling to send: 200 listing every current
// contact with its expiry, 423 with Min-Expires for a too short expiry, 400
// for a malformed request, 500 for an out-of-order one. The change is made
// in memory and written to the database at the next flush (see Run). A
// Resent request only gets the 200.
func (r *Registrar) Register(ctx context.Context, in Request) *sip.Response {
	req := in.SIP
	ub := r.lock(in.User)
	defer ub.mu.Unlock()
	if in.Resent {
		return answer(req, ub.bs, in.Tenant, r.now())
	}
	// Built only when something is logged: With formats its attributes.
	// Every event here is Info: when that is off, none is even queued.
	info := r.log.Enabled(ctx, slog.LevelInfo)
	log := func() *slog.Logger {
		return r.log.With("tenant", in.Tenant, "extension", in.Extension, "source", in.Source)
	}

	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			headerExpires = n
		}
	}
	var callID string
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	var cseq uint32
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo
	}

	var contacts []contactIn
	wildcard := false
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Contact", nil)
		}
		if c.Address.Wildcard {
			wildcard = true
			continue
		}
		ci := contactIn{uri: c.Address.String(), expires: headerExpires}
		if c.Params != nil {
			if v, ok := c.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					ci.expires = n
				}
			}
			if v, ok := c.Params.Get("+sip.instance"); ok {
				ci.instance = trimInstance(v)
			}
			if v, ok := c.Params.Get("reg-id"); ok {
				ci.regID, _ = strconv.Atoi(v)
			}
		}
		if ci.expires < 0 {
			ci.expires = r.cfg.DefaultExpires
		}
		if ci.expires > 0 && ci.expires < r.cfg.MinExpires {
			res := sip.NewResponseFromRequest(req, sip.StatusIntervalToBrief, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(r.cfg.MinExpires)))
			return res
		}
		if ci.expires > r.cfg.MaxExpires {
			ci.expires = r.cfg.MaxExpires
		}
		contacts = append(contacts, ci)
	}

	// Work on a copy of the user's bindings (those of other tenants are
	// left alone): nothing changes unless the whole request is accepted.
	var existing, others []pbx.Binding
	for _, b := range ub.bs {
		if b.Tenant == in.Tenant {
			existing = append(existing, b)
		} else {
			others = append(others, b)
		}
	}
	now := r.now()

	switch {
	case wildcard && (len(contacts) > 0 || headerExpires != 0):
		// RFC 3261 10.3 step 6: "*" only with Expires: 0 and alone.
		return sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Wildcard Contact", nil)
	case wildcard:
		for _, b := range existing {
			if b.CallID == callID && b.CSeq >= cseq {
				return sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Out Of Order", nil)
			}
		}
		log().Info("unregistered all contacts", "count", len(existing))
		existing = nil
	}

	var logs []func()
	var named []pbx.ID // bindings this request adds or refreshes
	for _, c := range contacts {
		i := match(existing, c)
		if i >= 0 && existing[i].CallID == callID && existing[i].CSeq >= cseq {
			return sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Out Of Order", nil)
		}
		if c.expires == 0 {
			if i >= 0 {
				existing = slices.Delete(existing, i, i+1)
				if info {
					logs = append(logs, func() { log().Info("contact unregistered", "contact", c.uri) })
				}
			}
			continue
		}
		b := pbx.Binding{
			Tenant: in.Tenant, User: in.User, Extension: in.Extension,
			Contact: c.uri, InstanceID: c.instance, RegID: c.regID,
			CallID: callID, CSeq: cseq, Source: in.Source, Transport: strings.ToUpper(in.Transport),
			UserAgent: headerValue(req, "User-Agent"),
			ExpiresAt: now.Add(time.Duration(c.expires) * time.Second),
		}
		if i >= 0 {
			b.ID, b.CreatedAt = existing[i].ID, existing[i].CreatedAt
			existing[i] = b
			named = append(named, b.ID)
		} else {
			b.ID, b.CreatedAt = r.st.NewID(), now
			existing = append(existing, b)
			named = append(named, b.ID)
			if info {
				logs = append(logs, func() {
					log().Info("contact registered", "contact", c.uri, "transport", b.Transport, "expires", c.expires)
				})
			}
		}
	}
	if max := r.cfg.MaxBindings; max > 0 && len(named) > 0 {
		var dropped []pbx.Binding
		var ok bool
		existing, dropped, ok = limit(existing, named, now, max)
		if !ok {
			log().Info("register refused: too many contacts", "count", len(named), "max", max)
			return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Too Many Contacts", nil)
		}
		for _, d := range dropped {
			if info {
				logs = append(logs, func() { log().Info("contact replaced: too many contacts", "contact", d.Contact, "max", max) })
			}
		}
	}
	if wildcard || len(contacts) > 0 {
		r.setLocked(ub, append(others, existing...))
	}
	for _, l := range logs {
		l()
	}
	return answer(req, existing, in.Tenant, now)
}

// answer returns the 200 answering req: every binding of bs that belongs to
// tenant and is live at now, with its expiry.
func answer(req *sip.Request, bs []pbx.Binding, tenant pbx.TenantID, now time.Time) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	outbound := false
	for _, b := range bs {
		if b.Tenant != tenant || !b.ExpiresAt.After(now) {
			continue
		}
		secs := int((b.ExpiresAt.Sub(now) + time.Second/2) / time.Second)
		v := "<" + b.Contact + ">;expires=" + strconv.Itoa(secs)
		if b.InstanceID != "" {
			v += `;+sip.instance="<` + b.InstanceID + `>"`
			if b.RegID > 0 {
				v += ";reg-id=" + strconv.Itoa(b.RegID)
				outbound = true
			}
		}
		res.AppendHeader(sip.NewHeader("Contact", v))
	}
	if outbound {
		// RFC 5626 section 6: the registrar says it kept the flow.
		res.AppendHeader(sip.NewHeader("Require", "outbound"))
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	return res
}

// limit enforces the per-user binding limit (Config.MaxBindings) on the
// bindings bs of one user after a REGISTER added or refreshed those whose
// IDs are in named. The rule:
//
//   - Expired bindings that the sweep has not deleted yet do not count.
//   - A contact that refreshes a binding never takes a new place: with
//     +sip.instance and reg-id (RFC 5626 section 6) the binding of that
//     instance and reg-id is refreshed even from a new contact URI or
//     source, so a phone that moves or reboots replaces itself. Without
//     them the contact URI must be the same.
//   - While more than max live bindings remain, the one registered first
//     (oldest CreatedAt) that the request did not name is removed: the
//     newest device wins, as a phone that was unplugged without
//     unregistering would otherwise lock its user out until it expires.
//   - A request that names more than max contacts itself cannot be
//     satisfied: ok is false and nothing changes.
//
// It returns the bindings to keep and those removed.
func limit(bs []pbx.Binding, named []pbx.ID, now time.Time, max int) (keep, dropped []pbx.Binding, ok bool) {
	if len(named) > max {
		return bs, nil, false
	}
	keep = make([]pbx.Binding, 0, len(bs))
	for _, b := range bs {
		if b.ExpiresAt.After(now) {
			keep = append(keep, b)
		}
	}
	for len(keep) > max {
		oldest := -1
		for i, b := range keep {
			if slices.Contains(named, b.ID) {
				continue
			}
			if oldest < 0 || byAge(b, keep[oldest]) < 0 {
				oldest = i
			}
		}
		dropped = append(dropped, keep[oldest])
		keep = slices.Delete(keep, oldest, oldest+1)
	}
	return keep, dropped, true
}

// match returns the index of the binding of existing that c refreshes: the
// same instance and reg-id for an RFC 5626 phone, else the same contact URI
// (the rule of store.BindingKey); -1 if none.
func match(existing []pbx.Binding, c contactIn) int {
	return slices.IndexFunc(existing, func(b pbx.Binding) bool {
		if c.instance != "" {
			return b.InstanceID == c.instance && b.RegID == c.regID
		}
		return b.InstanceID == "" && b.Contact == c.uri
	})
}

// trimInstance strips the quotes and angle brackets of a +sip.instance
// value: "<urn:uuid:...>" becomes urn:uuid:....
func trimInstance(v string) string {
	return strings.Trim(strings.TrimSpace(v), `"<>`)
}

func headerValue(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}
