package api

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// fileItem is a file of the tenant as /files shows it.
type fileItem struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Size      int64   `json:"size" minimum:"0" format:"int64"`
	MediaType string  `json:"media_type"`
	CreatedAt *string `json:"created_at"`
}

func newFileItem(f store.File) fileItem {
	return fileItem{ID: f.ID.String(), Name: f.Name, Size: f.Size, MediaType: f.MediaType, CreatedAt: timeOrNil(f.CreatedAt)}
}

// tenantMember is anyone acting in a tenant: its users, and a system admin
// or dealer switched into it.
var tenantMember access = func(p *principal) bool { return anyUser(p) || tenantAdmin(p) }

// errNoData is what file operations answer on a server built without a
// data folder (Config.Data).
var errNoData = pbx.Errorf(pbx.EUNAVAILABLE, "file storage is not configured")

// dataPath returns where rel (a path relative to the data folder, as the
// store keeps them) is on disk. A path that would leave the data folder is
// refused: rows are written by the PBX itself, but a path is never trusted
// to stay inside by accident.
func (s *Server) dataPath(rel string) (string, error) {
	if s.cfg.Data == "" {
		return "", errNoData
	}
	if !filepath.IsLocal(rel) {
		return "", pbx.Errorf(pbx.EINTERNAL, "file path %q leaves the data folder", rel)
	}
	return filepath.Join(s.cfg.Data, rel), nil
}

// tenantDataDirs are the directories under the data folder that hold one
// tenant's bytes, each in a subdirectory named by the tenant's ID: uploads
// and files (internal/api), voicemail messages (internal/apps/voicemail),
// call recordings (internal/call) and prompt replacements
// (internal/prompts).
var tenantDataDirs = []string{"uploads", "files", "voicemail", "recordings", "prompts"}

// removeTenantData removes a deleted tenant's bytes from the data folder:
// its voicemails and recordings must not outlive it. A failure is logged,
// not returned: the tenant, which is what the API shows, is already gone.
func (s *Server) removeTenantData(tenant pbx.TenantID) {
	if s.cfg.Data == "" || tenant == pbx.SystemTenant {
		return
	}
	for _, dir := range tenantDataDirs {
		path := filepath.Join(s.cfg.Data, dir, tenant.String())
		if err := os.RemoveAll(path); err != nil {
			s.log.Warn("remove deleted tenant's data", "path", path, "err", err)
		}
	}
}

// removeData removes a file under the data folder whose row is gone. A
// failure is logged, not returned: the row, which is what the API shows, is
// already deleted.
func (s *Server) removeData(rel string) {
	path, err := s.dataPath(rel)
	if err == nil {
		err = os.Remove(path)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("file of deleted row not removed", "path", rel, "err", err)
	}
}

// serveData answers a file under the data folder with http.ServeContent:
// Range, If-Modified-Since and HEAD work. The file is opened before the
// answer starts, so a missing file is a plain 404.
func (s *Server) serveData(rel, name, mediaType string) (*huma.StreamResponse, error) {
	path, err := s.dataPath(rel)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, pbx.Errorf(pbx.ENOTFOUND, "file not found")
	} else if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &huma.StreamResponse{Body: func(ctx huma.Context) {
		defer f.Close()
		r, w := humago.Unwrap(ctx)
		w.Header().Set("Content-Type", mediaType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+quoteless(name)+`"`)
		http.ServeContent(w, r, name, st.ModTime(), f)
	}}, nil
}

// quoteless makes a file name safe inside a quoted header parameter.
func quoteless(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, name)
}

// binaryResponse documents an operation that answers file bytes.
func binaryResponse(mediaType string) map[string]*huma.Response {
	return map[string]*huma.Response{"200": {Description: "OK", Content: map[string]*huma.MediaType{
		mediaType: {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}}}}}
}

// registerFiles serves /files: the tenant's uploaded files (prompts,
// greetings, music on hold). Files are created by completing an upload
// (/blobs/uploads) and downloaded by digest (/blobs/{digest}).
//
// Deleting a file a greeting uses leaves the greeting without audio: the
// voicemail app then plays the default "not available" prompt.
func (s *Server) registerFiles() {
	tags := []string{"File"}
	handle(s, huma.Operation{OperationID: "list_files", Method: http.MethodGet, Path: "/files", Tags: tags, Summary: "List files"},
		tenantAdmin, func(ctx context.Context, p *principal, in *listParams) (*listBody[fileItem], error) {
			o, err := in.options()
			if err != nil {
				return nil, err
			}
			files, n, err := s.db.ListFiles(ctx, p.scope, o)
			if err != nil {
				return nil, err
			}
			items := make([]fileItem, len(files))
			for i, f := range files {
				items[i] = newFileItem(f)
			}
			return newList(items, n), nil
		})
	handle(s, huma.Operation{OperationID: "get_file", Method: http.MethodGet, Path: "/files/{id}", Tags: tags, Summary: "Retrieve file"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*struct{ Body fileItem }, error) {
			id, err := parseID(in.ID, "file")
			if err != nil {
				return nil, err
			}
			f, err := s.db.File(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			return &struct{ Body fileItem }{Body: newFileItem(f)}, nil
		})
	handle(s, huma.Operation{OperationID: "delete_file", Method: http.MethodPost, Path: "/files/{id}/destroy", Tags: tags, Summary: "Delete a file"},
		tenantAdmin, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			id, err := parseID(in.ID, "file")
			if err != nil {
				return nil, err
			}
			f, err := s.db.DeleteFile(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			s.removeData(f.Path)
			s.audit(ctx, p, "DELETE", "FILE", f.Name, newFileItem(f), nil)
			return &noContent{}, nil
		})
}
