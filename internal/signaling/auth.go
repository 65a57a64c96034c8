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
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); host == "" || err == nil {
		if from := req.From(); from != nil && from.Address.Host != "" {
			host = from.Address.Host
		}
	}
	return strings.ToLower(host)
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
	ok, res := s.checkDigest(ctx, req, realm, func(username string) (string, bool, error) {
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
	if !ok {
		return pbx.Tenant{}, pbx.User{}, res
	}
	return tenant, user, nil
}

// authenticateRegister is authenticate for REGISTER: it needs only who the
// credentials name, so it reads them from the credential cache (credcache.go)
// and reaches the store only on a miss, or when a cached password fails
// (it may have changed on another node: the fresh one decides).
func (s *Server) authenticateRegister(ctx context.Context, req *sip.Request) (credential, *sip.Response) {
	realm := requestDomain(req)
	var cred credential
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
	ok, res := s.checkDigest(ctx, req, realm, func(username string) (string, bool, error) {
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
	if !ok {
		return credential{}, res
	}
	return cred, nil
}

// checkDigest checks the digest credentials of req in realm; password
// returns the password of the user the credentials name, whether that user
// may authenticate at all, and an error when the lookup failed (not for an
// unknown user). It returns true when the credentials are good. Otherwise
// it returns the response to send, as authenticate describes: a challenge,
// 403 (the failure counted towards the source's block), 500 when the
// lookup failed, or nil when the source has just been blocked. When the
// password fails and refresh is not nil, refresh is asked for the password
// once more (a cache's answer may be stale) and decides; it returns
// errNoRefresh when it has nothing newer. Extensions
// and ACCEPT_REGISTER trunks share it, so that guessing a trunk's password
// is blocked exactly like guessing a phone's.
func (s *Server) checkDigest(ctx context.Context, req *sip.Request, realm string, password, refresh func(username string) (string, bool, error)) (bool, *sip.Response) {
	proxy := req.Method != sip.REGISTER
	hdrName := "Authorization"
	if proxy {
		hdrName = "Proxy-Authorization"
	}
	now := s.now()
	var creds credentials
	found := false
	for _, name := range []string{hdrName, "Authorization", "Proxy-Authorization"} {
		for _, h := range req.GetHeaders(name) {
			c, err := parseCredentials(h.Value())
			if err == nil && strings.EqualFold(c.realm, realm) {
				creds, found = c, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return false, s.challenge(req, realm, false)
	}
	valid, stale := s.nonces.check(creds.nonce, realm, now)
	if !valid {
		// Not our nonce (or one from before a restart): ask again, without
		// counting a failure, since no password was tried.
		return false, s.challenge(req, realm, false)
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
			return false, sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil)
		}
		ip := sourceIP(req)
		s.log.Info("authentication failed", "domain", realm, "username", creds.username, "ip", ip.String(), "method", string(req.Method))
		if until := s.guard.authFailed(ip); !until.IsZero() {
			s.block(ctx, ip, until, "sip: too many failed authentications")
			return false, nil
		}
		return false, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
	}
	if stale {
		return false, s.challenge(req, realm, true)
	}
	if !s.ncs.use(creds.nonce, creds.cnonce, creds.username, creds.nc, now, now.Add(s.nonces.lifetime)) {
		// A replay, or a client that does not count: a fresh nonce lets an
		// honest one in, and tells a replayer nothing. No failure is
		// counted, since the password was right.
		s.log.Info("authentication replayed", "domain", realm, "username", creds.username,
			"ip", sourceIP(req).String(), "method", string(req.Method), "nc", creds.nc)
		return false, s.challenge(req, realm, false)
	}
	return true, nil
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
