package signaling

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"time"
)

// Digest algorithms offered and accepted (RFC 7616, RFC 8760).
const (
	algMD5    = "MD5"
	algSHA256 = "SHA-256"
)

// credentials are the parameters of a Digest Authorization or
// Proxy-Authorization header.
type credentials struct {
	username, realm, nonce, uri, response, algorithm string
	cnonce, nc, qop, opaque                          string
}

var errBadCredentials = errors.New("malformed digest credentials")

// parseCredentials parses the value of an Authorization header. Only the
// Digest scheme is accepted; unknown parameters are ignored.
func parseCredentials(v string) (credentials, error) {
	var c credentials
	v = strings.TrimSpace(v)
	if len(v) < 7 || !strings.EqualFold(v[:6], "digest") || (v[6] != ' ' && v[6] != '\t') {
		return c, errBadCredentials
	}
	params, err := parseAuthParams(v[7:])
	if err != nil {
		return c, err
	}
	c.username, c.realm, c.nonce = params["username"], params["realm"], params["nonce"]
	c.uri, c.response, c.algorithm = params["uri"], params["response"], params["algorithm"]
	c.cnonce, c.nc, c.qop, c.opaque = params["cnonce"], params["nc"], params["qop"], params["opaque"]
	if c.username == "" || c.nonce == "" || c.response == "" {
		return c, errBadCredentials
	}
	return c, nil
}

// parseAuthParams splits a comma-separated list of name=value pairs whose
// values are tokens or quoted strings (RFC 7235 auth-param). Names are
// lowercased; a repeated name is an error, so that no parameter can be
// smuggled past the checks.
func parseAuthParams(s string) (map[string]string, error) {
	out := make(map[string]string, 10)
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',' || s[i] == '\r' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, errBadCredentials
		}
		name := strings.ToLower(strings.TrimSpace(s[i : i+eq]))
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val strings.Builder
		if end := strings.IndexByte(s[min(i+1, len(s)):], '"'); i < len(s) && s[i] == '"' && end >= 0 &&
			strings.IndexByte(s[i+1:i+1+end], '\\') < 0 {
			// A quoted value without escapes: a slice of s.
			if _, dup := out[name]; dup || name == "" {
				return nil, errBadCredentials
			}
			out[name] = s[i+1 : i+1+end]
			i += end + 2
			continue
		}
		if i < len(s) && s[i] == '"' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if c == '"' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, errBadCredentials
			}
		} else {
			j := i
			for j < len(s) && s[j] != ',' && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			if _, dup := out[name]; dup || name == "" {
				return nil, errBadCredentials
			}
			out[name] = s[i:j]
			i = j
			continue
		}
		if _, dup := out[name]; dup || name == "" {
			return nil, errBadCredentials
		}
		out[name] = val.String()
	}
}

// newHash returns the hash of a digest algorithm, or nil for one we do not
// accept. An absent algorithm means MD5 (RFC 2617).
func newHash(alg string) hash.Hash {
	switch strings.ToUpper(alg) {
	case "", algMD5:
		return md5.New()
	case algSHA256:
		return sha256.New()
	}
	return nil
}

func hashHex(h hash.Hash, parts ...string) string {
	h.Reset()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// digestResponse computes the request-digest of RFC 7616 section 3.4.1 for
// qop "auth" (or RFC 2069 without qop when qop is empty). It returns "" for
// an unknown algorithm.
func digestResponse(alg, username, realm, password, method, uri, nonce, nc, cnonce, qop string) string {
	h := newHash(alg)
	if h == nil {
		return ""
	}
	ha1 := hashHex(h, username, realm, password)
	ha2 := hashHex(h, method, uri)
	if qop == "" {
		return hashHex(h, ha1, nonce, ha2)
	}
	return hashHex(h, ha1, nonce, nc, cnonce, qop, ha2)
}

// challenge returns the value of a WWW-Authenticate or Proxy-Authenticate
// header offering alg with qop=auth.
func challenge(realm, nonce, alg string, stale bool) string {
	var b strings.Builder
	b.WriteString(`Digest realm="`)
	b.WriteString(quoteEscape(realm))
	b.WriteString(`", nonce="`)
	b.WriteString(nonce)
	b.WriteString(`", algorithm=`)
	b.WriteString(alg)
	b.WriteString(`, qop="auth"`)
	if stale {
		b.WriteString(`, stale=true`)
	}
	return b.String()
}

func quoteEscape(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// nonces makes and checks stateless nonces: the issue time and an HMAC of
// it and the realm, so that any node holding the key can check a nonce
// without remembering it, and a nonce of one realm is useless in another.
type nonces struct {
	key      []byte
	lifetime time.Duration
}

const nonceMACLen = 16

func (n nonces) mac(ts []byte, realm string) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write(ts)
	m.Write([]byte(strings.ToLower(realm)))
	return m.Sum(nil)[:nonceMACLen]
}

// make returns a nonce for realm issued at t.
func (n nonces) make(realm string, t time.Time) string {
	buf := make([]byte, 8, 8+nonceMACLen)
	binary.BigEndian.PutUint64(buf, uint64(t.UnixMilli()))
	buf = append(buf, n.mac(buf, realm)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// check reports whether nonce was made by us for realm (valid) and, if so,
// whether it is older than the lifetime at now (stale). A nonce from the
// future beyond a small skew is invalid.
func (n nonces) check(nonce, realm string, now time.Time) (valid, stale bool) {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != 8+nonceMACLen {
		return false, false
	}
	if !hmac.Equal(raw[8:], n.mac(raw[:8], realm)) {
		return false, false
	}
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(raw[:8])))
	if issued.After(now.Add(time.Minute)) {
		return false, false
	}
	return true, now.Sub(issued) > n.lifetime
}

// validNC reports whether nc is the 8 hex digits RFC 7616 requires.
func validNC(nc string) bool {
	if len(nc) != 8 {
		return false
	}
	_, err := hex.DecodeString(nc)
	return err == nil
}
