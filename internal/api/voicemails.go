package api

import (
	"context"
	"net/http"
	"path/filepath"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// voicemailItem is a message of the caller's mailbox as /voicemails shows
// it. Duration is in whole seconds, rounded; file_url downloads the WAV.
type voicemailItem struct {
	ID        string  `json:"id"`
	Sender    string  `json:"sender"`
	CreatedAt *string `json:"created_at"`
	Duration  int     `json:"duration" format:"int32"`
	Status    string  `json:"status" enum:"READ,UNREAD"`
	FileName  string  `json:"file_name"`
	FileSize  int64   `json:"file_size" minimum:"0" format:"int64"`
	FileURL   string  `json:"file_url"`
}

func newVoicemailItem(v store.Voicemail) voicemailItem {
	status := "UNREAD"
	if v.Read {
		status = "READ"
	}
	return voicemailItem{
		ID: v.ID.String(), Sender: v.Sender, CreatedAt: timeOrNil(v.CreatedAt),
		Duration: int(v.Duration.Round(time.Second) / time.Second), Status: status,
		FileName: filepath.Base(v.Path), FileSize: v.Size, FileURL: "/api/voicemails/" + v.ID.String() + "/download",
	}
}

// mailboxChanged tells the SIP side that user's mailbox changed, so that
// the phones' message waiting light follows.
func (s *Server) mailboxChanged(ctx context.Context, tenant pbx.TenantID, user pbx.ID) {
	if f := s.sipDeps().MailboxChanged; f != nil {
		f(ctx, tenant, user)
	}
}

// registerVoicemails serves /voicemails: the signed-in user's own mailbox.
// An administrator has no view into users' mailboxes, as in PortSIP.
//
// GET /voicemails/{id}/download is ours: PortSIP's document names a
// file_url but no path that serves it. It answers audio/wav with Range
// support, so players can seek.
func (s *Server) registerVoicemails() {
	tags := []string{"Voicemail"}
	handle(s, huma.Operation{OperationID: "list_voicemails", Method: http.MethodGet, Path: "/voicemails", Tags: tags, Summary: "List voicemails"},
		anyUser, func(ctx context.Context, p *principal, in *listParams) (*listBody[voicemailItem], error) {
			o, err := in.options()
			if err != nil {
				return nil, err
			}
			vs, n, err := s.db.ListVoicemails(ctx, p.scope, p.id, o)
			if err != nil {
				return nil, err
			}
			items := make([]voicemailItem, len(vs))
			for i, v := range vs {
				items[i] = newVoicemailItem(v)
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "get_voicemail", Method: http.MethodGet, Path: "/voicemails/{id}", Tags: tags, Summary: "Retrieve a voicemail"},
		anyUser, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body voicemailItem }, error) {
			v, err := s.voicemail(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body voicemailItem }{Body: newVoicemailItem(v)}, nil
		})
	handle(s, huma.Operation{OperationID: "download_voicemail", Method: http.MethodGet, Path: "/voicemails/{id}/download", Tags: tags,
		Summary: "Download a voicemail", Description: "The message's audio as audio/wav. Range requests are served.",
		Responses: binaryResponse("audio/wav")},
		anyUser, func(ctx context.Context, p *principal, in *pathID) (*huma.StreamResponse, error) {
			v, err := s.voicemail(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return s.serveData(v.Path, filepath.Base(v.Path), "audio/wav")
		})
	handle(s, huma.Operation{OperationID: "delete_voicemail", Method: http.MethodPost, Path: "/voicemails/{id}/destroy", Tags: tags, Summary: "Delete a voicemail"},
		anyUser, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			id, err := parseID(in.ID, "voicemail")
			if err != nil {
				return nil, err
			}
			v, err := s.db.DeleteVoicemail(ctx, p.scope, p.id, id)
			if err != nil {
				return nil, err
			}
			s.removeData(v.Path)
			s.mailboxChanged(ctx, p.scope, p.id)
			return &noContent{}, nil
		})
	for _, st := range []struct {
		op, summary string
		read        bool
	}{
		{"set_read", "Update voicemail status to read", true},
		{"set_unread", "Update voicemail status to unread", false},
	} {
		handle(s, huma.Operation{OperationID: "voicemail_" + st.op, Method: http.MethodPost, Path: "/voicemails/{id}/" + st.op, Tags: tags, Summary: st.summary},
			anyUser, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
				id, err := parseID(in.ID, "voicemail")
				if err != nil {
					return nil, err
				}
				if err := s.db.SetVoicemailRead(ctx, p.scope, p.id, id, st.read); err != nil {
					return nil, err
				}
				s.mailboxChanged(ctx, p.scope, p.id)
				return &noContent{}, nil
			})
	}
}

// voicemail returns a message of the caller's own mailbox.
func (s *Server) voicemail(ctx context.Context, p *principal, rawID string) (store.Voicemail, error) {
	id, err := parseID(rawID, "voicemail")
	if err != nil {
		return store.Voicemail{}, err
	}
	return s.db.Voicemail(ctx, p.scope, p.id, id)
}

// voicemailServer is a tenant's voicemail settings (PortSIP's GET
// /voicemail), stored as the JSON of this type under the setting
// "voicemail:<tenant id>", where the voicemail app and the retention sweep
// read them.
type voicemailServer struct {
	// ExtensionNumber is what users dial to reach their mailbox.
	ExtensionNumber string `json:"extension_number"`
	// RetainDays is how long messages are kept; 0 keeps them for ever.
	RetainDays int `json:"retain_days"`
	// MinSeconds is the shortest message kept.
	MinSeconds int `json:"min_seconds"`
}

// PortSIP's defaults of voicemailServer.
const (
	defaultVoicemailNumber     = "777"
	defaultVoicemailRetainDays = 30
	defaultVoicemailMinSeconds = 1
)

// voicemailSettingName is the store setting that holds tenant's
// voicemailServer.
func voicemailSettingName(tenant pbx.TenantID) string { return "voicemail:" + tenant.String() }

// voicemailSettings reads tenant's voicemail settings, PortSIP's defaults
// where none were written.
func voicemailSettings(ctx context.Context, db *store.DB, tenant pbx.TenantID) (voicemailServer, error) {
	v := voicemailServer{ExtensionNumber: defaultVoicemailNumber, RetainDays: defaultVoicemailRetainDays, MinSeconds: defaultVoicemailMinSeconds}
	err := db.Setting(ctx, voicemailSettingName(tenant), &v)
	return v, err
}

type voicemailServerBody struct {
	ExtensionNumber string `json:"extension_number" minLength:"3" maxLength:"64" pattern:"^[0-9]{3,64}$"`
	RetainDays      int    `json:"retain_days" minimum:"0" default:"30" format:"int32"`
	MinSeconds      int    `json:"min_seconds" minimum:"0" default:"1" format:"int32"`
}

type voicemailServerPatch struct {
	ExtensionNumber *string `json:"extension_number,omitempty" minLength:"3" maxLength:"64" pattern:"^[0-9]{3,64}$"`
	RetainDays      *int    `json:"retain_days,omitempty" minimum:"0" maximum:"36500" format:"int32"`
	MinSeconds      *int    `json:"min_seconds,omitempty" minimum:"0" maximum:"3600" format:"int32"`
}

// registerVoicemailServer serves /voicemail: the tenant's voicemail
// settings. An update changes only the fields it gives. The extension
// number shares the tenant's namespace of extension numbers, so one a user
// or group already has is refused.
func (s *Server) registerVoicemailServer() {
	tags := []string{"Tenant"}
	handle(s, huma.Operation{OperationID: "get_voicemail_server", Method: http.MethodGet, Path: "/voicemail", Tags: tags, Summary: "Retrieve voicemail server"},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body voicemailServerBody }, error) {
			v, err := voicemailSettings(ctx, s.db, p.scope)
			if err != nil {
				return nil, err
			}
			return &struct{ Body voicemailServerBody }{Body: voicemailServerBody(v)}, nil
		})
	handle(s, huma.Operation{OperationID: "update_voicemail_server", Method: http.MethodPost, Path: "/voicemail", Tags: tags, Summary: "Update voicemail server"},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body voicemailServerPatch }) (*noContent, error) {
			old, err := voicemailSettings(ctx, s.db, p.scope)
			if err != nil {
				return nil, err
			}
			v := old
			if b := in.Body.ExtensionNumber; b != nil && *b != old.ExtensionNumber {
				switch _, err := s.db.Extension(ctx, p.scope, *b); {
				case err == nil:
					return nil, &pbx.Error{Code: pbx.ECONFLICT, Field: "extension_number", Message: "extension number " + *b + " is in use"}
				case pbx.ErrorCode(err) != pbx.ENOTFOUND:
					return nil, err
				}
				v.ExtensionNumber = *b
			}
			if in.Body.RetainDays != nil {
				v.RetainDays = *in.Body.RetainDays
			}
			if in.Body.MinSeconds != nil {
				v.MinSeconds = *in.Body.MinSeconds
			}
			if err := s.db.SetSetting(ctx, voicemailSettingName(p.scope), v); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "VOICEMAIL_SERVER", "voicemail", old, v)
			if v.ExtensionNumber != old.ExtensionNumber {
				// The number routes calls: routing reloads the tenant.
				if f := s.sipDeps().ConfigChanged; f != nil {
					f(p.scope, false)
				}
			}
			return &noContent{}, nil
		})
}
