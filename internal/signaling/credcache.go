package signaling

import (
	"strings"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Defaults of the credential cache (Config.CredentialTTL and
// Config.CredentialCacheSize).
const (
	// DefaultCredentialTTL bounds how long a password changed in the
	// database by another node (or by hand) is still accepted here; writes
	// through this node's API invalidate at once (InvalidateCredentials).
	DefaultCredentialTTL = 30 * time.Second
	// DefaultCredentialCacheSize is the most extensions cached, about
	// 100 bytes each.
	DefaultCredentialCacheSize = 100_000
)

// credKey names an extension by the domain of its tenant, as a request
// does.
type credKey struct {
	domain    string
	extension string
}

// credential is what the digest check of a REGISTER needs of a tenant and
// its user: who they are, whether they may register, and the password.
type credential struct {
	tenant    pbx.TenantID
	user      pbx.ID
	extension string
	password  string
	enabled   bool // tenant and user both enabled
	loaded    time.Time
}

// credCache holds the credentials of recently seen extensions, so that a
// REGISTER (and its refreshes) costs no database query. It is bounded by
// size, entries live at most ttl, and InvalidateCredentials drops a
// tenant's entries when the API changes a user or tenant. Unknown
// extensions are not cached: a guessed name always costs a query, as
// before, and the guard counts its failures. Safe for concurrent use.
type credCache struct {
	ttl time.Duration
	max int

	mu sync.RWMutex
	m  map[credKey]credential
	// gen counts invalidations: a lookup started before one must not
	// store what it read (see get and put).
	gen uint64
}

func newCredCache(ttl time.Duration, max int) *credCache {
	return &credCache{ttl: ttl, max: max, m: map[credKey]credential{}}
}

// get returns the cached credential of k, if fresh at now, and the
// generation that a put of a freshly read one must quote.
func (c *credCache) get(k credKey, now time.Time) (credential, uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cr, ok := c.m[k]
	if ok && now.Sub(cr.loaded) >= c.ttl {
		ok = false
	}
	return cr, c.gen, ok
}

// put stores cr under k unless an invalidation happened since the get that
// returned gen: what was read before it may be stale.
func (c *credCache) put(k credKey, cr credential, gen uint64) {
	if c.max <= 0 || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		// Full: drop some entry (map order is arbitrary), expired ones
		// first if the first few probed are.
		var victim credKey
		n := 0
		for vk, v := range c.m {
			victim = vk
			if n++; cr.loaded.Sub(v.loaded) >= c.ttl || n >= 8 {
				break
			}
		}
		delete(c.m, victim)
	}
	// k's strings may be slices of a request (its To host, its
	// Authorization header): copies keep the entry from pinning it.
	k.domain, k.extension = strings.Clone(k.domain), strings.Clone(k.extension)
	c.m[k] = cr
}

// drop forgets k, as after a failed check of a cached password.
func (c *credCache) drop(k credKey) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// invalidate forgets the credentials of tenant, or of every tenant when
// tenant is 0.
func (c *credCache) invalidate(tenant pbx.TenantID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if tenant == 0 {
		clear(c.m)
		return
	}
	for k, cr := range c.m {
		if cr.tenant == tenant {
			delete(c.m, k)
		}
	}
}

// InvalidateCredentials makes the next request of tenant's extensions (of
// every tenant when tenant is 0) read their credentials from the store
// again. The API calls it, through main's ConfigChanged hook, after every
// write of a user or tenant, so that a changed password, a disabled user or
// a moved domain applies at once. Safe for concurrent use.
func (s *Server) InvalidateCredentials(tenant pbx.TenantID) {
	s.creds.invalidate(tenant)
}
