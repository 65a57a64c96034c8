// Package voicemail is the voicemail application: it takes messages for a
// user whose phones did not answer (Deposit) and lets users listen to and
// manage their mailbox by phone (Mailbox, PortSIP's service number 777).
// Messages are WAV files under the data folder with a row each in the
// store; Events tells the rest of the PBX (message waiting indication,
// email) when a mailbox changes.
package voicemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gopbx/gopbx/internal/apps/menu"
	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
	"github.com/gopbx/gopbx/internal/store"
)

// Store is what the voicemail application reads and writes; *store.DB has
// it.
type Store interface {
	UserByExtension(ctx context.Context, tenant pbx.TenantID, number string) (pbx.User, error)
	User(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (pbx.User, error)
	UpdateUser(ctx context.Context, tenant pbx.TenantID, u *pbx.User) error
	CreateVoicemail(ctx context.Context, tenant pbx.TenantID, v *store.Voicemail) error
	Mailbox(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]store.Voicemail, error)
	SetVoicemailRead(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID, read bool) error
	DeleteVoicemail(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID) (store.Voicemail, error)
	Greetings(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]store.Greeting, error)
	File(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (store.File, error)
	CreateFile(ctx context.Context, tenant pbx.TenantID, f *store.File) error
	CreateGreeting(ctx context.Context, tenant pbx.TenantID, g *store.Greeting) error
	// Setting reads the tenant's voicemail server settings
	// ("voicemail:<tenant id>", written by the API).
	Setting(ctx context.Context, name string, v any) error
}

// Events hears of mailbox changes: MessageLeft when a caller left a
// message (email notification), MailboxChanged after any change of the
// counts (message waiting indication).
type Events interface {
	MessageLeft(ctx context.Context, tenant pbx.Tenant, user pbx.User, v store.Voicemail)
	MailboxChanged(ctx context.Context, tenant pbx.TenantID, user pbx.ID)
}

// Defaults of Config, PortSIP's.
const (
	DefaultMinMessage  = time.Second
	DefaultMaxMessage  = 3 * time.Minute
	DefaultKeyTimeout  = 5 * time.Second
	DefaultPINAttempts = 3
)

// Config is the voicemail service's settings.
type Config struct {
	// Data is the data folder; messages go under Data/voicemail.
	Data string
	// MinMessage drops shorter messages (PortSIP's min_seconds);
	// MaxMessage ends a recording.
	MinMessage, MaxMessage time.Duration
	// KeyTimeout is how long a menu waits for a key.
	KeyTimeout time.Duration
	// PINAttempts is how many wrong PINs end a mailbox call.
	PINAttempts int
	Now         func() time.Time
	Logger      *slog.Logger
}

// Service is the voicemail application.
type Service struct {
	cfg     Config
	st      Store
	prompts menu.Prompts
	events  Events
	log     *slog.Logger
}

// New returns the voicemail Service; events may be nil.
func New(cfg Config, st Store, p menu.Prompts, events Events) *Service {
	if cfg.MinMessage == 0 {
		cfg.MinMessage = DefaultMinMessage
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.KeyTimeout <= 0 {
		cfg.KeyTimeout = DefaultKeyTimeout
	}
	if cfg.PINAttempts <= 0 {
		cfg.PINAttempts = DefaultPINAttempts
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, st: st, prompts: p, events: events, log: cfg.Logger}
}

// Deposit is the App that takes a message for extension box.
func (s *Service) Deposit() call.App {
	return call.AppFunc(func(ctx context.Context, c *call.AppCall) error { return s.deposit(ctx, c, c.Target) })
}

// Mailbox is the App of the voicemail service number: the caller's own
// mailbox, after its PIN.
func (s *Service) Mailbox() call.App { return call.AppFunc(s.mailbox) }

// userSettings are the voicemail fields of a user's settings
// (internal/api/users.go).
type userSettings struct {
	EnablePIN *bool  `json:"enable_voicemail_pin"`
	PIN       string `json:"voicemail_pin"`
	// Prompt is the language of the box's prompts, a BCP 47 tag such as
	// PortSIP's "en-US"; empty is prompts.DefaultLang.
	Prompt string `json:"voicemail_prompt"`
	// PlayDatetime says whether the mailbox reads out when each message
	// came: DISABLE, 12_HOUR_CLOCK (the default) or 24_HOUR_CLOCK.
	PlayDatetime string `json:"voicemail_play_datetime"`
}

func settingsOf(u pbx.User) userSettings {
	var us userSettings
	if len(u.Settings) > 0 {
		json.Unmarshal(u.Settings, &us)
	}
	return us
}

// caller plays to c in the language of box's owner (or the default
// language for a zero User).
func (s *Service) caller(c *call.AppCall, box pbx.User) *menu.Caller {
	lang := settingsOf(box).Prompt
	if lang == "" {
		lang = prompts.DefaultLang
	}
	return &menu.Caller{Media: c.Media, Prompts: s.prompts, Tenant: c.Tenant.ID, Lang: lang}
}

// deposit plays box's greeting and records a message after the tone, until
// '#', the longest message, or the caller hangs up (what was said is kept).
func (s *Service) deposit(ctx context.Context, c *call.AppCall, box string) error {
	user, err := s.st.UserByExtension(ctx, c.Tenant.ID, box)
	if err != nil {
		return fmt.Errorf("voicemail deposit for %s: %w", box, err)
	}
	m := s.caller(c, user)
	if _, err := m.Play(ctx, true, s.greeting(ctx, c.Tenant.ID, user, box)...); err != nil {
		return err
	}
	m.Play(ctx, false, menu.P("beep"))

	name := filepath.Join("voicemail", c.Tenant.ID.String(), user.ID.String(), c.SessionID.String()+".wav")
	rec, err := s.record(ctx, m, c, name)
	if err != nil {
		return fmt.Errorf("voicemail deposit: %w", err)
	}
	key, recErr, werr, size, dur := rec.key, rec.callErr, rec.writeErr, rec.size, rec.duration
	// The caller may have hung up: the message is still saved, outside the
	// call's context.
	bg := context.WithoutCancel(ctx)
	if werr != nil || dur < s.minMessage(bg, c.Tenant.ID) {
		os.Remove(filepath.Join(s.cfg.Data, name))
		s.log.Info("voicemail dropped", "box", box, "duration", dur, "error", werr)
		if recErr == nil {
			m.PlayLast(ctx, menu.P("goodbye"))
		}
		return werr
	}
	v := store.Voicemail{User: user.ID, Sender: c.Caller, SenderDisplayName: c.CallerName, Duration: dur, Path: name, Size: size,
		CreatedAt: s.cfg.Now()}
	if err := s.st.CreateVoicemail(bg, c.Tenant.ID, &v); err != nil {
		os.Remove(filepath.Join(s.cfg.Data, name))
		return fmt.Errorf("voicemail deposit: %w", err)
	}
	s.log.Info("voicemail left", "box", box, "caller", c.Caller, "duration", dur)
	if s.events != nil {
		s.events.MessageLeft(bg, c.Tenant, user, v)
		s.events.MailboxChanged(bg, c.Tenant.ID, user.ID)
	}
	if recErr == nil && key != 0 {
		m.PlayLast(ctx, menu.P("vm/message-recorded"), menu.P("goodbye"))
	}
	return nil
}

// greeting is what a caller hears before the tone: the user's enabled
// greeting, else "the person at extension <box> is not available".
func (s *Service) greeting(ctx context.Context, tenant pbx.TenantID, user pbx.User, box string) []menu.Source {
	if gs, err := s.st.Greetings(ctx, tenant, user.ID); err == nil {
		for _, g := range gs {
			if !g.Enabled {
				continue
			}
			if f, err := s.st.File(ctx, tenant, g.File); err == nil {
				path := filepath.Join(s.cfg.Data, f.Path)
				return []menu.Source{{Open: func() (io.ReadCloser, error) { return os.Open(path) }}}
			}
		}
	}
	out := []menu.Source{menu.P("vm/person-at-extension")}
	out = append(out, menu.Ps(prompts.Digits(box)...)...)
	return append(out, menu.P("vm/not-available"))
}

// errHangup ends a mailbox call on purpose.
var errHangup = errors.New("mailbox call over")

// zone is the tenant's time zone, for dates read out; UTC when unknown.
func zone(t pbx.Tenant) *time.Location {
	if loc, err := time.LoadLocation(t.Timezone); err == nil && t.Timezone != "" {
		return loc
	}
	return time.UTC
}

// minMessage is the shortest message kept: the tenant's min_seconds
// (/voicemail), else the configured default.
func (s *Service) minMessage(ctx context.Context, tenant pbx.TenantID) time.Duration {
	v := struct {
		MinSeconds *int `json:"min_seconds"`
	}{}
	if err := s.st.Setting(ctx, "voicemail:"+tenant.String(), &v); err != nil || v.MinSeconds == nil {
		return s.cfg.MinMessage
	}
	return time.Duration(*v.MinSeconds) * time.Second
}

// recording is what record wrote.
type recording struct {
	key      rune  // the key that ended it, 0 for none
	callErr  error // the call's end (the caller hung up), nil if a key or the limit ended it
	writeErr error // the file could not be finished
	size     int64
	duration time.Duration
}

// record records the caller to the WAV file name (relative to the data
// folder) until a key, MaxMessage or the call's end. An error is returned
// only when the file could not be made; what the recording ended with is in
// the result.
func (s *Service) record(ctx context.Context, m *menu.Caller, c *call.AppCall, name string) (recording, error) {
	path := filepath.Join(s.cfg.Data, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return recording{}, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return recording{}, err
	}
	w, err := audio.NewWAVWriter(f, c.Media.SampleRate())
	if err != nil {
		f.Close()
		os.Remove(path)
		return recording{}, err
	}
	var r recording
	r.key, r.callErr = m.Record(ctx, w, s.cfg.MaxMessage)
	r.writeErr = w.Close()
	r.size, _ = f.Seek(0, io.SeekEnd)
	if err := f.Close(); r.writeErr == nil {
		r.writeErr = err
	}
	r.duration = time.Duration(w.Samples()) * time.Second / time.Duration(c.Media.SampleRate())
	return r, nil
}
