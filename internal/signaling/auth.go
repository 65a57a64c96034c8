package signaling

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
)

// requestDomain returns the domain that names the tenant of req: the To
// host for REGISTER, the Request-URI host otherwise, and the From host when
// that one is an IP address (a phone configured with the PBX's address).
func requestDomain(req *sip.Request) string {
	var host string
	if req.Method == sip.REGISTER {
		if to := req.To(); to != nil {
			host = to.Address.Host
		}
	} else {
		host = req.Recipient.Host
	}
	if host == "" || mayBeIP(host) && isIP(host) {
		if from := req.From(); from != nil && from.Address.Host != "" {
			host = from.Address.Host
		}
	}
	return strings.ToLower(host)
}

// mayBeIP reports whether host could be an IP address (it starts with a
// digit or a bracket, or holds a colon), so that the names of tenants'
// domains are not parsed in vain: a failed netip.ParseAddr allocates its
// error, on every request.
func mayBeIP(host string) bool {
	return host[0] >= '0' && host[0] <= '9' || host[0] == '[' || strings.IndexByte(host, ':') >= 0
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

// authenticate checks the digest credentials of req against the user they
// name in the tenant of the request's domain. It returns the tenant and user
// when they are good. Otherwise it returns the response to send: a
// challenge (401 for REGISTER, 407 for the rest) when there are no usable
// credentials or the nonce is stale, 403 when they are wrong, and nil when
// the source has just been blocked and gets no answer. An unknown domain,
// an unknown or disabled user and a wrong password all look the same.
func (s *Server) authenticate(ctx context.Context, req *sip.Request) (pbx.Tenant, pbx.User, *sip.Response) {
	realm := requestDomain(req)
	var tenant pbx.Tenant
	var user pbx.User
	verdict, res := s.checkDigest(ctx, req, realm, false, func(username string) (string, bool, error) {
		t, u, terr, uerr := s.lookupUser(ctx, realm, username)
		if err := firstErr(terr, uerr); err != nil {
			if pbx.ErrorCode(err) == pbx.ENOTFOUND {
				err = nil
			}
			return "", false, err
		}
		tenant, user = t, u
		return u.ExtensionPassword, t.Enabled && u.Enabled && u.ExtensionPassword != "", nil
	}, nil)
	if verdict != authOK {
		return pbx.Tenant{}, pbx.User{}, res
	}
	return tenant, user, nil
}

// authenticateRegister is authenticate for REGISTER: it needs only who the
// credentials name, so it reads them from the credential cache (credcache.go)
// and reaches the store only on a miss, or when a cached password fails
// (it may have changed on another node: the fresh one decides). resent is
// true for a retransmission of a REGISTER accepted before (authResent).
func (s *Server) authenticateRegister(ctx context.Context, req *sip.Request) (cred credential, resent bool, res *sip.Response) {
	realm := requestDomain(req)
	load := func(username string) (string, bool, error) {
		k := credKey{realm, username}
		_, gen, _ := s.creds.get(k, s.now())
		c, err := s.st.ExtensionCredential(ctx, realm, username)
		if err != nil {
			s.creds.drop(k)
			if pbx.ErrorCode(err) == pbx.ENOTFOUND {
				err = nil
			}
			return "", false, err
		}
		cred = credential{tenant: c.Tenant, user: c.User, extension: c.Extension, password: c.Password,
			enabled: c.TenantEnabled && c.UserEnabled && c.Password != "", loaded: s.now()}
		s.creds.put(k, cred, gen)
		return cred.password, cred.enabled, nil
	}
	cached := false
	verdict, res := s.checkDigest(ctx, req, realm, true, func(username string) (string, bool, error) {
		if c, _, hit := s.creds.get(credKey{realm, username}, s.now()); hit {
			cred, cached = c, true
			return c.password, c.enabled, nil
		}
		return load(username)
	}, func(username string) (string, bool, error) {
		if !cached {
			return "", false, errNoRefresh
		}
		return load(username)
	})
	if verdict == authRefused {
		return credential{}, false, res
	}
	return cred, verdict == authResent, nil
}

// authResult is the verdict of checkDigest.
type authResult int

const (
	// authRefused: the credentials are missing, wrong, stale or replayed;
	// the response says what to answer.
	authRefused authResult = iota
	// authOK: good credentials, with a nonce count never used before.
	authOK
	// authResent: good credentials of a REGISTER accepted before, resent
	// in the same transaction (nonceCounts.use's ncResent). The request is
	// a retransmission: it must get the answer the first one got and
	// change nothing, since it may as well be a replay.
	authResent
)

func (r authResult) String() string {
	switch r {
	case authOK:
		return "ok"
	case authResent:
		return "resent"
	}
	return "refused"
}

// checkDigest checks the digest credentials of req in realm; password
// returns the password of the user the credentials name, whether that user
// may authenticate at all, and an error when the lookup failed (not for an
// unknown user). It returns true when the credentials are good. Otherwise
// it returns the response to send, as authenticate describes: a challenge,
// 403 (the failure counted towards the source's block), 500 when the
// lookup failed, or nil when the source has just been blocked. With
// resendOK, a retransmission of a request accepted before is authResent;
// without it (callers whose transactions sipgo keeps for as long as they
// may be retransmitted) any repeated nonce count is a replay. When the
// password fails and refresh is not nil, refresh is asked for the password
// once more (a cache's answer may be stale) and decides; it returns
// errNoRefresh when it has nothing newer. Extensions
// and ACCEPT_REGISTER trunks share it, so that guessing a trunk's password
// is blocked exactly like guessing a phone's.
func (s *Server) checkDigest(ctx context.Context, req *sip.Request, realm string, resendOK bool, password, refresh func(username string) (string, bool, error)) (authResult, *sip.Response) {
	now := s.now()
	creds, found := credentialsFor(req, realm)
	if !found {
		return authRefused, s.challenge(req, realm, false)
	}
	valid, stale := s.nonces.check(creds.nonce, realm, now)
	if !valid {
		// Not our nonce (or one from before a restart): ask again, without
		// counting a failure, since no password was tried.
		return authRefused, s.challenge(req, realm, false)
	}

	pass, known, lerr := password(creds.username)
	if !known {
		// Do the same work as for a real user, so that timing tells nothing.
		pass = string(s.nonces.key)
	}
	ok := creds.qop == "auth" && creds.cnonce != "" && validNC(creds.nc) && s.offered(creds.algorithm)
	if ok {
		ok = matches(creds, req, pass) && known
		if !ok && refresh != nil && lerr == nil {
			if p, k, err := refresh(creds.username); !errors.Is(err, errNoRefresh) {
				if pass, known, lerr = p, k, err; !known {
					pass = string(s.nonces.key)
				}
				ok = matches(creds, req, pass) && known
			}
		}
	}
	if !ok {
		if lerr != nil {
			s.log.Error("authentication lookup failed", "domain", realm, "error", lerr)
			return authRefused, sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil)
		}
		ip := sourceIP(req)
		s.log.Info("authentication failed", "domain", realm, "username", creds.username, "ip", ip.String(), "method", string(req.Method))
		if until := s.guard.authFailed(ip); !until.IsZero() {
			s.block(ctx, ip, until, "sip: too many failed authentications")
			return authRefused, nil
		}
		return authRefused, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
	}
	if stale {
		return authRefused, s.challenge(req, realm, true)
	}
	switch s.ncs.use(creds.nonce, creds.cnonce, creds.username, creds.nc, s.txTag(req), now, now.Add(s.nonces.lifetime)) {
	case ncFresh:
		return authOK, nil
	case ncResent:
		if resendOK {
			return authResent, nil
		}
	}
	// A replay, or a client that does not count: a fresh nonce lets an
	// honest one in, and tells a replayer nothing. No failure is counted,
	// since the password was right.
	s.log.Info("authentication replayed", "domain", realm, "username", creds.username,
		"ip", sourceIP(req).String(), "method", string(req.Method), "nc", creds.nc)
	return authRefused, s.challenge(req, realm, false)
}

// txTag is nonceCounts.txTag of req's transaction: its top Via branch,
// Call-ID and CSeq number; 0 when it has no branch.
func (s *Server) txTag(req *sip.Request) uint64 {
	via := req.Via()
	if via == nil || via.Params == nil {
		return 0
	}
	branch, ok := via.Params.Get("branch")
	if !ok || branch == "" {
		return 0
	}
	var callID string
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	var cseq uint32
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo
	}
	return s.ncs.txTag(branch, callID, cseq)
}

// credentialsFor returns the first digest credentials of req for realm:
// from its Authorization headers for REGISTER, else from its
// Proxy-Authorization headers, and from the other kind when the expected
// one has none. It reads the headers once, without sipgo's GetHeaders,
// which lowercases every header name it passes, an allocation each.
func credentialsFor(req *sip.Request, realm string) (credentials, bool) {
	want, other := "Authorization", "Proxy-Authorization"
	if req.Method != sip.REGISTER {
		want, other = other, want
	}
	var fallback credentials
	haveFallback := false
	for _, h := range req.Headers() {
		name := h.Name()
		preferred := strings.EqualFold(name, want)
		if !preferred && (haveFallback || !strings.EqualFold(name, other)) {
			continue
		}
		c, err := parseCredentials(h.Value())
		if err != nil || !strings.EqualFold(c.realm, realm) {
			continue
		}
		if preferred {
			return c, true
		}
		fallback, haveFallback = c, true
	}
	return fallback, haveFallback
}

// errNoRefresh is what a refresh function of checkDigest returns when it
// has no newer password than the one that failed.
var errNoRefresh = errors.New("no fresher password")

// matches reports whether the digest response of creds is right for pass.
func matches(creds credentials, req *sip.Request, pass string) bool {
	want := digestResponse(creds.algorithm, creds.username, creds.realm, pass, string(req.Method),
		creds.uri, creds.nonce, creds.nc, creds.cnonce, creds.qop)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(creds.response)), []byte(want)) == 1
}

// lookupUser returns the tenant of domain and its user with extension
// number, in one query.
func (s *Server) lookupUser(ctx context.Context, domain, number string) (tenant pbx.Tenant, user pbx.User, terr, uerr error) {
	tenant, user, uerr = s.st.TenantUserByExtension(ctx, domain, number)
	return tenant, user, nil, uerr
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// offered reports whether alg (empty: MD5) is one the challenges offer.
func (s *Server) offered(alg string) bool {
	if alg == "" {
		alg = algMD5
	}
	for _, a := range s.cfg.DigestAlgorithms {
		if strings.EqualFold(a, alg) {
			return true
		}
	}
	return false
}

// challenge returns a 401 (REGISTER) or 407 response with one challenge per
// configured algorithm, all with the same fresh nonce.
func (s *Server) challenge(req *sip.Request, realm string, stale bool) *sip.Response {
	code, reason, hdr := sip.StatusProxyAuthRequired, "Proxy Authentication Required", "Proxy-Authenticate"
	if req.Method == sip.REGISTER {
		code, reason, hdr = sip.StatusUnauthorized, "Unauthorized", "WWW-Authenticate"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	nonce := s.nonces.make(realm, s.now())
	for _, alg := range s.cfg.DigestAlgorithms {
		res.AppendHeader(sip.NewHeader(hdr, challenge(realm, nonce, alg, stale)))
	}
	return res
}
