// Package ivr is the virtual receptionist (PortSIP's IVR): it answers a
// call to an IVR's extension number, plays the IVR's menu prompt, and
// sends the caller where the keys pressed say: a custom rule's destination
// for the time of day, an extension dialled directly, voicemail, an
// outside line after a PIN (DISA), or where an action URL (the customer's
// web service) answers. It never connects calls itself: it asks the call
// (Forwarder) to put the caller through once it returns.
package ivr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gopbx/gopbx/internal/apps/menu"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/dialplan"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
	"github.com/gopbx/gopbx/internal/store"
)

// Store is what the virtual receptionist reads; *store.DB has it.
type Store interface {
	IVR(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (store.IVR, error)
	IVRNumbers(ctx context.Context, tenant pbx.TenantID) (map[string]pbx.ID, error)
	ActionURLs(ctx context.Context, tenant pbx.TenantID, ivr pbx.ID) ([]store.ActionURL, error)
	Extension(ctx context.Context, tenant pbx.TenantID, number string) (pbx.Extension, error)
	HasLongerExtension(ctx context.Context, tenant pbx.TenantID, prefix string) (bool, error)
	File(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (store.File, error)
	Holiday(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (store.Holiday, error)
}

var _ Store = (*store.DB)(nil)

// Forwarder is where the menu sends the caller once Serve returns;
// *call.AppCall has it.
type Forwarder interface {
	// Transfer puts the caller through to number as if the IVR dialled it.
	Transfer(number string)
	// Voicemail takes a message for box.
	Voicemail(box string)
}

// Defaults of Config.
const (
	DefaultPINAttempts  = 3
	DefaultInvalidLimit = 3
	DefaultKeyTimeout   = 5 * time.Second
)

// Config is the virtual receptionist's settings.
type Config struct {
	// Data is the data folder that uploaded prompt files live under.
	Data string
	// HTTP asks action URLs; nil means a client of its own.
	HTTP *http.Client
	// PINAttempts is how many wrong DISA PINs end the call.
	PINAttempts int
	// InvalidLimit is how many invalid inputs in a row send the caller to
	// the failure forward rule (or hang up).
	InvalidLimit int
	// KeyTimeout is how long DISA waits for each key of a PIN or number.
	KeyTimeout time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service is the virtual receptionist application.
type Service struct {
	cfg     Config
	st      Store
	prompts menu.Prompts
	log     *slog.Logger
}

// New returns the virtual receptionist Service.
func New(cfg Config, st Store, p menu.Prompts) *Service {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.PINAttempts <= 0 {
		cfg.PINAttempts = DefaultPINAttempts
	}
	if cfg.InvalidLimit <= 0 {
		cfg.InvalidLimit = DefaultInvalidLimit
	}
	if cfg.KeyTimeout <= 0 {
		cfg.KeyTimeout = DefaultKeyTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, st: st, prompts: p, log: cfg.Logger}
}

// App is the call.App of every virtual receptionist: the call's Target is
// the IVR's ID.
func (s *Service) App() call.App {
	return call.AppFunc(func(ctx context.Context, c *call.AppCall) error { return s.Serve(ctx, c, c.Media, c) })
}

// Numbers returns tenant's virtual receptionists' IDs by extension number;
// routing compiles them with the rest of the tenant.
func (s *Service) Numbers(ctx context.Context, tenant pbx.TenantID) (map[string]string, error) {
	m, err := s.st.IVRNumbers(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("virtual receptionist numbers: %w", err)
	}
	out := make(map[string]string, len(m))
	for n, id := range m {
		out[n] = id.String()
	}
	return out, nil
}

// Serve runs the menu of IVR c.Target for the caller on m, and tells fw
// where the caller goes next, if anywhere. It returns when the caller is
// sent on, hung up on, or hangs up (ctx ends).
func (s *Service) Serve(ctx context.Context, c *call.AppCall, m menu.Media, fw Forwarder) error {
	id, err := pbx.ParseID(c.Target)
	if err != nil {
		return fmt.Errorf("virtual receptionist %q: %w", c.Target, err)
	}
	v, err := s.st.IVR(ctx, c.Tenant.ID, id)
	if err != nil {
		return fmt.Errorf("virtual receptionist %s: %w", c.Target, err)
	}
	st := defaultSettings()
	if len(v.Settings) > 0 {
		if err := json.Unmarshal(v.Settings, &st); err != nil {
			return fmt.Errorf("virtual receptionist %s: settings: %w", c.Target, err)
		}
	}
	lang := st.Language
	if lang == "" {
		lang = prompts.DefaultLang
	}
	log := c.Log
	if log == nil {
		log = s.log
	}
	x := &session{s: s, c: c, ivr: v, set: st, fw: fw, log: log.With("ivr", v.ExtensionNumber),
		m: &menu.Caller{Media: m, Prompts: s.prompts, Tenant: c.Tenant.ID, Lang: lang}}
	return x.run(ctx)
}

// settings are an IVR's settings as internal/api/ivrs.go stores them; only
// the fields the menu reads are declared.
type settings struct {
	Language             string       `json:"language"`
	DTMFInterval         int          `json:"dtmf_interval"`
	PromptFileID         string       `json:"prompt_file_id"`
	TransferPromptFileID string       `json:"transfer_prompt_file_id"`
	EnablePIN            bool         `json:"enable_pin"`
	PIN                  string       `json:"pin"`
	Timeout              timeoutRule  `json:"timeout_forward_rule"`
	Failure              *forward     `json:"failure_forward_rule"`
	CustomRules          []customRule `json:"custom_forward_rules"`
	BlockedNumbers       string       `json:"blocked_extension_numbers"`
}

type forward struct {
	Action string `json:"action"`
	Number string `json:"number"`
}

type timeoutRule struct {
	Timeout     int    `json:"timeout"`
	RepeatTimes int    `json:"repeat_times"`
	Action      string `json:"action"`
	Number      string `json:"number"`
}

type customRule struct {
	UserInput      string                `json:"user_input"`
	OfficeHours    *dialplan.StoredHours `json:"office_hours"`
	OfficeHoursFwd *forward              `json:"office_hours_forward_rule"`
	NonOfficeFwd   *forward              `json:"non_office_hours_forward_rule"`
	HolidayFwd     *forward              `json:"holiday_forward_rule"`
	HolidayIDs     []string              `json:"holiday_ids"`
}

// defaultSettings are PortSIP's defaults, for settings an older row lacks.
func defaultSettings() settings {
	return settings{DTMFInterval: 2, EnablePIN: true, Timeout: timeoutRule{Timeout: 30, RepeatTimes: 3, Action: "HANGUP"}}
}

// fileSource plays an uploaded file of the tenant; ok is false when raw
// names none, or one whose audio is gone (the menu then falls back to the
// system prompts rather than go silent).
func (s *Service) fileSource(ctx context.Context, tenant pbx.TenantID, raw string) (menu.Source, bool) {
	id, err := pbx.ParseID(raw)
	if err != nil {
		return menu.Source{}, false
	}
	f, err := s.st.File(ctx, tenant, id)
	if err != nil || !filepath.IsLocal(f.Path) {
		return menu.Source{}, false
	}
	path := filepath.Join(s.cfg.Data, f.Path)
	if _, err := os.Stat(path); err != nil {
		return menu.Source{}, false
	}
	return menu.Source{Open: func() (io.ReadCloser, error) { return os.Open(path) }}, true
}
