package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// mohServerBody is a tenant's music on hold settings as PortSIP's GET
// /moh_server shows them.
type mohServerBody struct {
	Enabled  bool   `json:"enabled"`
	PlayType string `json:"play_type" enum:"DEFAULT_MUSIC,RANDOM_MUSIC_PER_CALL,RANDOM_MUSIC_PER_DAY"`
}

// mohServerPatch is POST /moh_server: the fields it gives change.
type mohServerPatch struct {
	Enabled  *bool   `json:"enabled,omitempty"`
	PlayType *string `json:"play_type,omitempty" enum:"DEFAULT_MUSIC,RANDOM_MUSIC_PER_CALL,RANDOM_MUSIC_PER_DAY"`
}

// mohMusicItem is one of a tenant's musics on hold. file_url downloads the
// audio through /blobs/{digest}; it is null for a file whose digest is not
// known, and the name and size are empty for a music whose file was
// deleted (it plays nothing; deleting the music clears it away).
type mohMusicItem struct {
	ID       string  `json:"id"`
	FileName string  `json:"file_name"`
	FileSize int64   `json:"file_size" minimum:"0" format:"int64"`
	FileURL  *string `json:"file_url"`
}

type mohMusicList struct {
	Body struct {
		Items []mohMusicItem `json:"items"`
	}
}

type mohMusicCreate struct {
	FileID string `json:"file_id"`
}

// registerMOH serves /moh_server, a tenant's music on hold, for the
// tenant's administrators.
//
// The settings (enabled, play_type) are store.MOHSettings, which the SIP
// side reads at each hold: a change applies to the next call put on hold.
// A music is a WAV file of the tenant (uploaded through /blobs/uploads)
// that the PBX plays: another tenant's file, a file that is not such a WAV
// and a file that already is a music are refused, naming file_id. Adding a
// music keeps its file from the sweep of temporary uploads; deleting a
// music keeps its file, which stays under /files. Which music a held call
// hears follows play_type (cmd/gopbx moh.go): DEFAULT_MUSIC plays the
// oldest music, or the system's default music when the tenant has none.
func (s *Server) registerMOH() {
	tags := []string{"MOH"}
	handle(s, huma.Operation{OperationID: "get_moh_server", Method: http.MethodGet, Path: "/moh_server", Tags: tags, Summary: "Retrieve moh server"},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*struct{ Body mohServerBody }, error) {
			v, err := s.db.MOHSettings(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			return &struct{ Body mohServerBody }{Body: mohServerBody{Enabled: v.Enabled, PlayType: v.PlayType.String()}}, nil
		})
	handle(s, huma.Operation{OperationID: "update_moh_server", Method: http.MethodPost, Path: "/moh_server", Tags: tags, Summary: "Update moh server"},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body mohServerPatch }) (*noContent, error) {
			old, err := s.db.MOHSettings(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			v := old
			if in.Body.Enabled != nil {
				v.Enabled = *in.Body.Enabled
			}
			if in.Body.PlayType != nil {
				v.PlayType = store.MOHPlayType(*in.Body.PlayType)
			}
			if err := s.db.SetMOHSettings(ctx, p.scope, v); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "UPDATE", "MOH_SERVER", "moh_server", old, v)
			return &noContent{}, nil
		})

	handle(s, huma.Operation{OperationID: "list_moh_musics", Method: http.MethodGet, Path: "/moh_server/musics", Tags: tags, Summary: "List moh musics"},
		tenantAdmin, func(ctx context.Context, p *principal, _ *struct{}) (*mohMusicList, error) {
			ms, err := s.db.MOHMusics(ctx, p.scope)
			if err != nil {
				return nil, err
			}
			out := &mohMusicList{}
			out.Body.Items = make([]mohMusicItem, 0, len(ms))
			for _, m := range ms {
				it, err := s.mohMusicItem(ctx, m)
				if err != nil {
					return nil, err
				}
				out.Body.Items = append(out.Body.Items, it)
			}
			return out, nil
		})
	handle(s, huma.Operation{OperationID: "create_moh_music", Method: http.MethodPost, Path: "/moh_server/musics", Tags: tags,
		Summary: "Create a MOH music", DefaultStatus: http.StatusCreated},
		tenantAdmin, func(ctx context.Context, p *principal, in *struct{ Body mohMusicCreate }) (*idBody, error) {
			return s.createMOHMusic(ctx, p, in.Body.FileID)
		})
	handle(s, huma.Operation{OperationID: "get_moh_music", Method: http.MethodGet, Path: "/moh_server/musics/{id}", Tags: tags, Summary: "Retrieve a moh music"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body mohMusicItem }, error) {
			id, err := parseID(in.ID, "music")
			if err != nil {
				return nil, err
			}
			m, err := s.db.MOHMusic(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			it, err := s.mohMusicItem(ctx, m)
			if err != nil {
				return nil, err
			}
			return &struct{ Body mohMusicItem }{Body: it}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_moh_music", Method: http.MethodPost, Path: "/moh_server/musics/{id}/destroy", Tags: tags, Summary: "Delete a MOH music"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			id, err := parseID(in.ID, "music")
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteMOHMusic(ctx, p.scope, id); err != nil {
				return nil, err
			}
			s.audit(ctx, p, "DELETE", "MOH_MUSIC", id.String(), nil, nil)
			return &noContent{}, nil
		})
}

// mohMusicItem shows m with its file.
func (s *Server) mohMusicItem(ctx context.Context, m store.MOHMusic) (mohMusicItem, error) {
	it := mohMusicItem{ID: m.ID.String()}
	switch f, err := s.db.File(ctx, m.Tenant, m.File); {
	case err == nil:
		it.FileName, it.FileSize = f.Name, f.Size
		if f.SHA256 != "" {
			it.FileURL = ptrTo("/api/blobs/sha256:" + f.SHA256)
		}
	case pbx.ErrorCode(err) != pbx.ENOTFOUND:
		return it, err
	}
	return it, nil
}

// createMOHMusic adds the tenant's file rawFile, which must be a WAV the
// PBX plays, to the tenant's musics, and keeps the file from the sweep of
// temporary uploads.
func (s *Server) createMOHMusic(ctx context.Context, p *principal, rawFile string) (*idBody, error) {
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
	m := store.MOHMusic{File: f.ID}
	if err := s.db.CreateMOHMusic(ctx, p.scope, &m); err != nil {
		return nil, err
	}
	if f.Temporary {
		if err := s.db.SetFileTemporary(ctx, p.scope, f.ID, false); err != nil {
			return nil, err
		}
	}
	s.audit(ctx, p, "CREATE", "MOH_MUSIC", f.Name, nil, map[string]string{"id": m.ID.String(), "file_id": f.ID.String()})
	return created(m.ID.String()), nil
}
