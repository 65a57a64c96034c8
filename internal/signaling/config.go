package signaling

import (
	"context"
	"log/slog"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/registrar"
	"github.com/gopbx/gopbx/internal/store"
)

// Defaults of Config. The brute-force ones are PortSIP's
// sip_failed_auth_amount and sip_blacklist_time_interval.
const (
	DefaultNonceLifetime  = 5 * time.Minute
	DefaultAuthFailures   = 50
	DefaultAuthFailWindow = time.Hour
	DefaultBlockFor       = 3600 * time.Second
	DefaultRateLimit      = 200 // requests per second per source IP
	DefaultFilterRefresh  = 10 * time.Second
	DefaultUserAgent      = "gopbx"
)

// Config is the SIP edge's configuration. Zero fields take the defaults.
type Config struct {
	// UDP, TCP and TLS are listen addresses such as ":5060" or
	// "127.0.0.1:0"; an empty one disables the transport.
	UDP, TCP, TLS string
	// WS and WSS are listen addresses of SIP over WebSocket (RFC 7118),
	// for browsers; empty disables them. WSS uses the TLS certificate.
	WS, WSS string
	// TLSCert and TLSKey are PEM files for the TLS and WSS listeners. When
	// both are missing, a self-signed ECDSA certificate is created there.
	TLSCert, TLSKey string
	// TrustCA is PEM: CA certificates trusted, besides the system roots,
	// when the PBX dials TLS (trunks to carriers). Server certificates are
	// always verified.
	TrustCA []byte
	// PublicAddr is the host (an IP address or a name) to put in Via and
	// Contact of requests the PBX sends, when it is behind NAT. Empty means
	// the listen address.
	PublicAddr string

	// Registration bounds, in seconds (registrar.Default* when zero), of
	// extensions and of ACCEPT_REGISTER trunks' devices alike.
	MinExpires, DefaultExpires, MaxExpires int
	// SweepInterval is how often expired bindings are deleted.
	SweepInterval time.Duration
	// MaxBindings is the most contacts one extension may register
	// (registrar.DefaultMaxBindings when zero, no limit when negative); a
	// new one beyond it replaces the oldest (registrar.Config.MaxBindings).
	MaxBindings int

	// NonceLifetime is how long a digest nonce is fresh; an older but
	// otherwise correct answer gets a new challenge with stale=true.
	NonceLifetime time.Duration
	// CredentialTTL is how long the digest credentials of an extension are
	// cached for its REGISTERs (DefaultCredentialTTL when zero, no cache
	// when negative): the longest a password changed outside this node's
	// API (another node, by hand) still works here. CredentialCacheSize
	// bounds the extensions cached (DefaultCredentialCacheSize when zero).
	CredentialTTL       time.Duration
	CredentialCacheSize int
	// NonceKey signs nonces. Nodes that share it accept each other's
	// nonces; nil means a random key per process.
	NonceKey []byte

	// DigestAlgorithms are the digest algorithms challenges offer, one
	// WWW-Authenticate or Proxy-Authenticate header each, in order of
	// preference; only these are accepted. The default is SHA-256 then MD5
	// (RFC 8760). Clients that read only the first challenge and know only
	// MD5 (sipsak 0.9.8, some old phones) need MD5 first.
	DigestAlgorithms []string

	// AuthFailures failed authentications from one IP within
	// AuthFailWindow block it for BlockFor. A negative AuthFailures
	// disables blocking.
	AuthFailures   int
	AuthFailWindow time.Duration
	BlockFor       time.Duration
	// RateLimit is the requests per second one source IP may send, with a
	// burst of twice that; beyond it packets are dropped. Negative disables.
	RateLimit float64
	// AllowList holds IPs and CIDRs that are never limited or blocked.
	AllowList []string
	// FilterRefresh is how often the stored IP filters are reloaded.
	FilterRefresh time.Duration

	// UserAgent names the PBX in User-Agent and Server headers.
	UserAgent string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the edge's messages; nil discards them.
	Logger *slog.Logger
}

// Store is what the SIP edge needs of the database: tenants and users for
// authentication, bindings for the registrar, and IP filters for the flood
// guard. *store.DB implements it.
type Store interface {
	TenantByDomain(ctx context.Context, domain string) (pbx.Tenant, error)
	UserByExtension(ctx context.Context, tenant pbx.TenantID, number string) (pbx.User, error)
	// TenantUserByExtension is TenantByDomain and UserByExtension in one
	// query, for the digest check of every request.
	TenantUserByExtension(ctx context.Context, domain, number string) (pbx.Tenant, pbx.User, error)
	// ExtensionCredential is the part of TenantUserByExtension that
	// REGISTER's digest check needs, in a lighter query.
	ExtensionCredential(ctx context.Context, domain, number string) (store.ExtensionCredential, error)
	registrar.Store
	ActiveIPFilters(ctx context.Context, t time.Time) ([]store.IPFilter, error)
	CreateIPFilter(ctx context.Context, f *store.IPFilter) error
}

var _ Store = (*store.DB)(nil)

// Deps are the SIP edge's collaborators.
type Deps struct {
	Store Store
	// Calls takes authenticated INVITEs and in-dialog requests. It may be
	// nil, and set later with SetCallHandler; without one INVITEs get 503.
	Calls CallHandler
}

func (c *Config) setDefaults() {
	// The registrar applies the same defaults; they are set here too
	// because registrations of trunks' devices are bounded by them as well.
	if c.MinExpires == 0 {
		c.MinExpires = registrar.DefaultMinExpires
	}
	if c.DefaultExpires == 0 {
		c.DefaultExpires = registrar.DefaultDefaultExpires
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = registrar.DefaultMaxExpires
	}
	if c.NonceLifetime <= 0 {
		c.NonceLifetime = DefaultNonceLifetime
	}
	if c.CredentialTTL == 0 {
		c.CredentialTTL = DefaultCredentialTTL
	}
	if c.CredentialCacheSize <= 0 {
		c.CredentialCacheSize = DefaultCredentialCacheSize
	}
	if len(c.DigestAlgorithms) == 0 {
		c.DigestAlgorithms = []string{algSHA256, algMD5}
	}
	if c.AuthFailures == 0 {
		c.AuthFailures = DefaultAuthFailures
	}
	if c.AuthFailWindow <= 0 {
		c.AuthFailWindow = DefaultAuthFailWindow
	}
	if c.BlockFor <= 0 {
		c.BlockFor = DefaultBlockFor
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.FilterRefresh <= 0 {
		c.FilterRefresh = DefaultFilterRefresh
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
