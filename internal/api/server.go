package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/gopbx/gopbx/internal/prompts"
	"github.com/gopbx/gopbx/internal/store"
)

// Defaults of Config.
const (
	DefaultTokenTTL        = time.Hour
	DefaultRefreshTTL      = 7 * 24 * time.Hour
	DefaultRateLimit       = 5000 // requests per minute per client address, PortSIP's default
	DefaultLoginFailLimit  = 5    // PortSIP web_failed_auth_amount
	DefaultLoginFailWindow = 15 * time.Minute
	DefaultLoginBlock      = 15 * time.Minute
	maxBodyBytes           = 1 << 20
)

// Config holds the API's settings. Zero fields take the defaults above.
type Config struct {
	Version         string
	TokenTTL        time.Duration
	RefreshTTL      time.Duration
	RateLimit       int // requests per minute per client address; <0 disables
	LoginFailLimit  int // failed logins per user, and 4x that per address, before a block
	LoginFailWindow time.Duration
	LoginBlock      time.Duration
	Hash            HashParams
	Data            string // the data folder: uploads, files and voicemail audio live under it
}

func (c *Config) setDefaults() {
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.LoginFailLimit == 0 {
		c.LoginFailLimit = DefaultLoginFailLimit
	}
	if c.LoginFailWindow == 0 {
		c.LoginFailWindow = DefaultLoginFailWindow
	}
	if c.LoginBlock == 0 {
		c.LoginBlock = DefaultLoginBlock
	}
	if c.Hash == (HashParams{}) {
		c.Hash = DefaultHashParams
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// Server is the REST API. Build it with New and serve Handler.
type Server struct {
	cfg    Config
	db     *store.DB
	log    *slog.Logger
	now    func() time.Time
	api    huma.API
	mux    *http.ServeMux
	limit  *rateLimiter
	logins *loginGuard
	sip    atomic.Pointer[SIP]
	// prompts holds the tenants' replacements of system prompts under the
	// data folder; it keeps no state of its own.
	prompts *prompts.Library
}

// New builds the API over db. now is the clock (nil: time.Now).
func New(cfg Config, db *store.DB, log *slog.Logger, now func() time.Time) *Server {
	cfg.setDefaults()
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	installErrorModel()
	s := &Server{
		cfg:     cfg,
		db:      db,
		log:     log,
		now:     now,
		mux:     http.NewServeMux(),
		limit:   newRateLimiter(cfg.RateLimit, time.Minute, now),
		logins:  newLoginGuard(cfg.LoginFailLimit, cfg.LoginFailWindow, cfg.LoginBlock, now),
		prompts: prompts.New(cfg.Data),
	}
	hc := huma.DefaultConfig("gopbx REST API", cfg.Version)
	hc.CreateHooks = nil // no $schema links in bodies: PortSIP's payloads have none
	hc.DocsPath = ""
	hc.SchemasPath = ""
	hc.OpenAPIPath = "/openapi"
	hc.Servers = []*huma.Server{{URL: "/api"}}
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer"},
	}
	s.api = humago.NewWithPrefix(s.mux, "/api", hc)
	s.api.UseMiddleware(s.authenticate)
	for _, register := range []func(){
		s.registerAuth,
		s.registerInfo,
		s.registerAdmin,
		s.registerTenants,
		s.registerTenant,
		s.registerDealers,
		s.registerDealer,
		s.registerUsers,
		s.registerUser,
		s.registerExtensionNumbers,
		s.registerGroups,
		s.registerRoles,
		s.registerLogs,
		s.registerIPFilters,
		s.registerCalls,
		s.registerProviders,
		s.registerHolidays,
		s.registerNumberLists,
		s.registerAllowedCountryCodes,
		s.registerInboundRules,
		s.registerOutboundRules,
		s.registerExports,
		s.registerNotification,
		s.registerVoicemails,
		s.registerRecordings,
		s.registerVoicemailServer,
		s.registerFiles,
		s.registerBlobs,
		s.registerGreetings,
		s.registerIVRs,
		s.registerMOH,
		s.registerPrompts,
	} {
		register()
	}
	return s
}

// Handler returns the HTTP handler for everything under /api.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.limit.allow(clientIP(r)) {
			writeError(w, apiErrorKind(429, "TOO_MANY_REQUESTS", "rate limit exceeded"))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
			writeError(w, apiErrorKind(http.StatusMethodNotAllowed, "NOT_FOUND", "only GET and POST are served"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		// PortSIP's API speaks JSON only; a client that labels its JSON
		// otherwise (curl's default form type) is read as JSON all the same.
		if r.Method == http.MethodPost && !strings.Contains(r.Header.Get("Content-Type"), "json") {
			r.Header.Set("Content-Type", "application/json")
		}
		s.mux.ServeHTTP(w, r)
	})
}

// OpenAPI returns the document the server publishes at /api/openapi.json.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

func apiErrorKind(status int, code, msg string) *ErrorBody {
	return &ErrorBody{status: status, Errors: []ErrorItem{{Code: code, Message: msg}}}
}

func writeError(w http.ResponseWriter, e *ErrorBody) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(e)
}

// clientIP is the address a request came from. Proxies are not trusted:
// X-Forwarded-For would let a client pick its own rate-limit bucket.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type ctxKey int

const (
	principalKey ctxKey = iota
	remoteKey
)

func remoteFrom(ctx context.Context) string {
	s, _ := ctx.Value(remoteKey).(string)
	return s
}
