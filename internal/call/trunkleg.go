package call

import (
	"fmt"
	"sync"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// name says which contact or trunk the leg goes to, for logs.
func (l *leg) name() string {
	if l.route != nil {
		return l.route.Name
	}
	return l.binding.Contact
}

// acquire takes one of the trunk's concurrent calls for a trunk leg; it
// reports false when the trunk is at its limit. Phone legs always get one.
func (l *leg) acquire() bool {
	if l.route == nil || l.route.Acquire == nil {
		return true
	}
	release, ok := l.route.Acquire()
	if !ok {
		return false
	}
	l.s.mu.Lock()
	l.release = sync.OnceFunc(release)
	l.s.mu.Unlock()
	return true
}

// end gives back the trunk's concurrent call of a leg that failed or whose
// call ended; it may run more than once.
func (l *leg) end() {
	l.s.mu.Lock()
	release := l.release
	l.s.mu.Unlock()
	if release != nil {
		release()
	}
}

// challenged reports whether res is a trunk's first digest challenge,
// which the leg answers with the route's credentials. A challenge to a
// phone leg, or a second one, is a failure like any other.
func (l *leg) challenged(res *sip.Response) bool {
	if l.route == nil || l.route.Username == "" || l.authed {
		return false
	}
	return res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired
}

// authorize adds the answer to the trunk's challenge res to req, the
// INVITE sent again (RFC 3261 section 22.2).
func (l *leg) authorize(req *sip.Request, res *sip.Response) error {
	l.authed = true
	challengeName, answerName := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		challengeName, answerName = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(challengeName)
	if h == nil {
		return fmt.Errorf("authorize invite: %d without %s", res.StatusCode, challengeName)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return fmt.Errorf("authorize invite: %w", err)
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: string(req.Method), URI: req.Recipient.Addr(), Username: l.route.Username, Password: l.route.Password, Count: 1,
	})
	if err != nil {
		return fmt.Errorf("authorize invite: %w", err)
	}
	req.AppendHeader(sip.NewHeader(answerName, cred.String()))
	return nil
}
