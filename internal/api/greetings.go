package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// greetingItem is a user's voicemail greeting as PortSIP lists it.
// file_url downloads the audio through /blobs/{digest}; it is null for a
// file whose digest is not known.
type greetingItem struct {
	ID       string  `json:"id"`
	Enabled  bool    `json:"enabled"`
	FileName string  `json:"file_name"`
	FileSize int64   `json:"file_size" minimum:"0" format:"int64"`
	FileURL  *string `json:"file_url"`
}

type greetingList struct {
	Body struct {
		Items []greetingItem `json:"items"`
	}
}

type greetingCreate struct {
	FileID string `json:"file_id"`
}

type userGreetingInput struct {
	ID         string `path:"id"`
	GreetingID string `path:"greeting_id"`
}

// registerGreetings serves a user's voicemail greetings: /users/{id}/greetings
// for the tenant's administrators and /user/greetings for the user itself.
//
// A greeting is a WAV file of the tenant (uploaded through /blobs/uploads,
// or recorded from the phone by the voicemail app). At most one of a user's
// greetings is enabled, the one callers hear; PortSIP's "enable one of the
// user's greetings" says as much. Creating a greeting enables it, as
// recording one from the phone does, since a user who adds a greeting means
// callers to hear it; disabling the enabled one brings back the default
// "not available" prompt. Deleting a greeting keeps its file, which stays
// under /files.
func (s *Server) registerGreetings() {
	tags := []string{"User"}
	byAdmin := func(ctx context.Context, p *principal, rawID string) (pbx.ID, error) {
		id, err := parseID(rawID, "user")
		if err != nil {
			return 0, err
		}
		_, err = s.db.User(ctx, p.scope, id)
		return id, err
	}
	handle(s, huma.Operation{OperationID: "list_user_greetings", Method: http.MethodGet, Path: "/users/{id}/greetings", Tags: tags, Summary: "List voicemail greetings"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*greetingList, error) {
			user, err := byAdmin(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return s.greetings(ctx, p.scope, user)
		})
	handle(s, huma.Operation{OperationID: "create_user_greeting", Method: http.MethodPost, Path: "/users/{id}/greetings", Tags: tags,
		Summary: "Create voicemail greeting", DefaultStatus: http.StatusCreated},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct {
			ID   string `path:"id"`
			Body greetingCreate
		}) (*idBody, error) {
			user, err := byAdmin(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return s.createGreeting(ctx, p, user, in.Body.FileID)
		})
	for _, a := range greetingActions {
		handle(s, huma.Operation{OperationID: a.op + "_user_greeting", Method: http.MethodPost, Path: "/users/{id}/greetings/{greeting_id}/" + a.verb, Tags: tags,
			Summary: a.summary},
			tenantAdmin, func(ctx context.Context, p *principal, in *userGreetingInput) (*noContent, error) {
				user, err := byAdmin(ctx, p, in.ID)
				if err != nil {
					return nil, err
				}
				return s.greetingAction(ctx, p, user, in.GreetingID, a.verb)
			})
	}

	handle(s, huma.Operation{OperationID: "list_current_user_greetings", Method: http.MethodGet, Path: "/user/greetings", Tags: tags,
		Summary: "List current user voicemail greetings"},
		anyUser, func(ctx context.Context, p *principal, _ *struct{}) (*greetingList, error) {
			return s.greetings(ctx, p.scope, p.id)
		})
	handle(s, huma.Operation{OperationID: "create_current_user_greeting", Method: http.MethodPost, Path: "/user/greetings", Tags: tags,
		Summary: "Create voicemail greeting for current user", DefaultStatus: http.StatusCreated},
		anyUser, func(ctx context.Context, p *principal, in *struct{ Body greetingCreate }) (*idBody, error) {
			return s.createGreeting(ctx, p, p.id, in.Body.FileID)
		})
	for _, a := range greetingActions {
		handle(s, huma.Operation{OperationID: a.op + "_current_user_greeting", Method: http.MethodPost, Path: "/user/greetings/{id}/" + a.verb, Tags: tags,
			Summary: a.summary},
			anyUser, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
				return s.greetingAction(ctx, p, p.id, in.ID, a.verb)
			})
	}
}

var greetingActions = []struct{ verb, op, summary string }{
	{"destroy", "delete", "Delete voicemail greeting"},
	{"enable", "enable", "Enable greeting"},
	{"disable", "disable", "Disable greeting"},
}

// greetings lists user's greetings with their files.
func (s *Server) greetings(ctx context.Context, tenant pbx.TenantID, user pbx.ID) (*greetingList, error) {
	gs, err := s.db.Greetings(ctx, tenant, user)
	if err != nil {
		return nil, err
	}
	out := &greetingList{}
	out.Body.Items = make([]greetingItem, 0, len(gs))
	for _, g := range gs {
		it := greetingItem{ID: g.ID.String(), Enabled: g.Enabled}
		switch f, err := s.db.File(ctx, tenant, g.File); {
		case err == nil:
			it.FileName, it.FileSize = f.Name, f.Size
			if f.SHA256 != "" {
				it.FileURL = ptrTo("/api/blobs/sha256:" + f.SHA256)
			}
		case pbx.ErrorCode(err) != pbx.ENOTFOUND:
			return nil, err
		}
		out.Body.Items = append(out.Body.Items, it)
	}
	return out, nil
}

// createGreeting adds the tenant's file rawFile, which must be a WAV the PBX
// plays, as user's enabled greeting. The file is kept from the sweep of
// temporary uploads.
func (s *Server) createGreeting(ctx context.Context, p *principal, user pbx.ID, rawFile string) (*idBody, error) {
	id, err := pbx.ParseID(rawFile)
	if err != nil {
		return nil, pbx.FieldErrorf("file_id", "no file %q", rawFile)
	}
	f, err := s.db.File(ctx, p.scope, id)
	if pbx.ErrorCode(err) == pbx.ENOTFOUND {
		return nil, pbx.FieldErrorf("file_id", "no file %q", rawFile)
	} else if err != nil {
		return nil, err
	}
	if err := s.checkWAVFile(f); err != nil {
		return nil, err
	}
	if f.Temporary {
		if err := s.db.SetFileTemporary(ctx, p.scope, f.ID, false); err != nil {
			return nil, err
		}
	}
	g := store.Greeting{User: user, File: f.ID, Enabled: true}
	if err := s.db.CreateGreeting(ctx, p.scope, &g); err != nil {
		return nil, err
	}
	s.audit(ctx, p, "CREATE", "GREETING", f.Name, nil, map[string]string{"user_id": user.String(), "file_id": f.ID.String()})
	return created(g.ID.String()), nil
}

// checkWAVFile refuses a file that is not a WAV the PBX plays, naming
// file_id.
func (s *Server) checkWAVFile(f store.File) error {
	path, err := s.dataPath(f.Path)
	if err != nil {
		return err
	}
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pbx.FieldErrorf("file_id", "file %s has no content", f.ID)
	} else if err != nil {
		return fmt.Errorf("check greeting: %w", err)
	}
	defer fh.Close()
	if _, err := audio.CheckWAV(fh); err != nil {
		return wavError("file_id", err)
	}
	return nil
}

// greetingAction destroys, enables or disables one of user's greetings.
func (s *Server) greetingAction(ctx context.Context, p *principal, user pbx.ID, rawID, verb string) (*noContent, error) {
	id, err := parseID(rawID, "greeting")
	if err != nil {
		return nil, err
	}
	switch verb {
	case "destroy":
		err = s.db.DeleteGreeting(ctx, p.scope, user, id)
	default:
		err = s.db.EnableGreeting(ctx, p.scope, user, id, verb == "enable")
	}
	if err != nil {
		return nil, err
	}
	action := "UPDATE"
	if verb == "destroy" {
		action = "DELETE"
	}
	s.audit(ctx, p, action, "GREETING", id.String(), nil, map[string]string{"user_id": user.String(), "action": verb})
	return &noContent{}, nil
}
