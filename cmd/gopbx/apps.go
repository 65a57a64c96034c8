package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gopbx/gopbx/internal/apps/ivr"
	"github.com/gopbx/gopbx/internal/apps/voicemail"
	"github.com/gopbx/gopbx/internal/media"
	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/notify"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/prompts"
	"github.com/gopbx/gopbx/internal/store"
)

// codecs is call.Deps.Codecs over the audio package: a fresh encoder and
// decoder per stream (G.722 and Opus keep state) and an RFC 4733
// receiver. Opus exists only in a build with the opus tag.
func codecs(name string) (enc, dec media.Codec, dtmf media.DTMFReceiver, err error) {
	mk, ok := audio.CodecByName(name) // Opus too, in a build that has it
	if !ok {
		return nil, nil, nil, fmt.Errorf("no codec %q", name)
	}
	return mk(), mk(), &audio.DTMFReceiver{}, nil
}

// appCodecs are the codecs apps answer callers with (call.Deps.AppCodecs):
// G.711 and G.722, and Opus in a build with the opus tag.
func appCodecs() []string {
	names := []string{"PCMU", "PCMA", "G722"}
	if _, ok := audio.Opus(); ok {
		names = append(names, "OPUS")
	}
	return names
}

// inBandDTMF is call.Deps.InBandDTMF over audio's Goertzel detector.
func inBandDTMF(rate int) (media.InBandDetector, error) {
	d, err := audio.NewToneDetector(rate)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// MWI tells a user's phones how many messages wait (signalling implements
// it); nil when there is no SIP side.
type MWI interface {
	MailboxChanged(ctx context.Context, tenant pbx.TenantID, user pbx.ID)
}

// voicemailEvents sends a user the email of a new message when the user
// asked for it (enable_voicemail_notify), and passes every mailbox change
// on to MWI.
type voicemailEvents struct {
	db        *store.DB
	data      string
	templates *notify.Templates
	mwi       func() MWI
	log       *slog.Logger
}

func (e *voicemailEvents) MailboxChanged(ctx context.Context, tenant pbx.TenantID, user pbx.ID) {
	if m := e.mwi(); m != nil {
		m.MailboxChanged(ctx, tenant, user)
	}
}

func (e *voicemailEvents) MessageLeft(ctx context.Context, tenant pbx.Tenant, user pbx.User, v store.Voicemail) {
	var us struct {
		Notify bool `json:"enable_voicemail_notify"`
	}
	if len(user.Settings) > 0 {
		json.Unmarshal(user.Settings, &us)
	}
	if !us.Notify || user.Email == "" {
		return
	}
	// The email must not hold up the call that left the message.
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := e.email(ctx, tenant, user, v); err != nil {
			e.log.Warn("voicemail email not sent", "tenant", tenant.ID, "user", user.ExtensionNumber, "error", err)
		}
	}()
}

func (e *voicemailEvents) email(ctx context.Context, tenant pbx.Tenant, user pbx.User, v store.Voicemail) error {
	cfg, ok, err := notify.Load(ctx, e.db, tenant.ID)
	if err != nil || !ok {
		return fmt.Errorf("voicemail email: no mail server (%v)", err)
	}
	msg, err := e.templates.Render(notify.VoicemailReceived, notify.Voicemail{Caller: v.Sender, CallerName: v.SenderDisplayName,
		Extension: user.ExtensionNumber, Date: v.CreatedAt, Duration: v.Duration})
	if err != nil {
		return err
	}
	wav, err := os.ReadFile(filepath.Join(e.data, v.Path))
	if err != nil {
		return fmt.Errorf("voicemail email: %w", err)
	}
	msg.To = []string{user.Email}
	msg.Attachments = []notify.Attachment{{Name: "voicemail-" + v.ID.String() + ".wav", ContentType: "audio/wav", Data: wav}}
	return notify.Send(ctx, cfg, msg)
}

// startApps makes the media applications the router hands calls to.
func (m *Main) startApps() (*voicemail.Service, error) {
	templates, err := notify.NewTemplates(notify.DefaultTemplates()...)
	if err != nil {
		return nil, err
	}
	ev := &voicemailEvents{db: m.DB, data: m.Config.Data, templates: templates, log: m.Log.With("component", "voicemail"),
		mwi: func() MWI { return m.mwi }}
	lib := prompts.New(m.Config.Data)
	return voicemail.New(voicemail.Config{Data: m.Config.Data, Now: m.Now, Logger: m.Log.With("component", "voicemail")}, m.DB, lib, ev), nil
}

// startIVR makes the virtual receptionist application. Its HTTP client asks
// the IVRs' action URLs; each request is bounded by its URL's own timeouts.
func (m *Main) startIVR() *ivr.Service {
	return ivr.New(ivr.Config{Data: m.Config.Data, HTTP: &http.Client{}, Now: m.Now, Logger: m.Log.With("component", "ivr")},
		m.DB, prompts.New(m.Config.Data))
}
