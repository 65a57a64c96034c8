package api

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// recordingItem is a call recording as /recordings and /user/recordings
// list it.
type recordingItem struct {
	ID        string  `json:"id"`
	Caller    string  `json:"caller"`
	Callee    string  `json:"callee"`
	StartedAt *string `json:"started_at"`
	EndedAt   *string `json:"ended_at"`
}

// recordingFile is one file of a recording as GET /recordings/{id} shows
// it: PortSIP answers a recording as a list of its files (one mixed, or
// one per side of a dual-track recording). Duration is in whole seconds,
// rounded; file_url downloads the WAV.
type recordingFile struct {
	Caller    string  `json:"caller"`
	Callee    string  `json:"callee"`
	StartedAt *string `json:"started_at"`
	EndedAt   *string `json:"ended_at"`
	Duration  int     `json:"duration" format:"int32"`
	FileName  string  `json:"file_name"`
	FileSize  int64   `json:"file_size" minimum:"0" format:"int64"`
	FileURL   string  `json:"file_url"`
}

type recordingDetail struct {
	Body struct {
		Items []recordingFile `json:"items"`
	}
}

func newRecordingItem(r store.Recording) recordingItem {
	return recordingItem{ID: r.ID.String(), Caller: r.Caller, Callee: r.Callee, StartedAt: timeOrNil(r.StartedAt), EndedAt: timeOrNil(r.EndedAt)}
}

// newRecordingDetail shows r's files; base is the path that serves them
// (/api/recordings or /api/user/recordings).
func newRecordingDetail(r store.Recording, base string) *recordingDetail {
	out := &recordingDetail{}
	out.Body.Items = make([]recordingFile, 0, len(r.Files))
	for _, f := range r.Files {
		name := filepath.Base(f.Path)
		out.Body.Items = append(out.Body.Items, recordingFile{
			Caller: r.Caller, Callee: r.Callee, StartedAt: timeOrNil(r.StartedAt), EndedAt: timeOrNil(r.EndedAt),
			Duration: int(r.Duration.Round(time.Second) / time.Second), FileName: name, FileSize: f.Size,
			FileURL: base + "/" + r.ID.String() + "/download?file=" + url.QueryEscape(name),
		})
	}
	return out
}

// recordingDownload is the input of the download operations.
type recordingDownload struct {
	ID   string `path:"id"`
	File string `query:"file" doc:"file_name of the file to download; the first file when empty"`
}

// recordingScope reads, lists and deletes the recordings one kind of
// caller may see: the tenant's (user 0) or one user's own.
type recordingScope struct {
	db   *store.DB
	user pbx.ID
}

func (rs recordingScope) get(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (store.Recording, error) {
	if rs.user == 0 {
		return rs.db.Recording(ctx, tenant, id)
	}
	return rs.db.UserRecording(ctx, tenant, rs.user, id)
}

func (rs recordingScope) list(ctx context.Context, tenant pbx.TenantID, o store.ListOptions) ([]store.Recording, int, error) {
	if rs.user == 0 {
		return rs.db.ListRecordings(ctx, tenant, o)
	}
	return rs.db.ListUserRecordings(ctx, tenant, rs.user, o)
}

func (rs recordingScope) delete(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (store.Recording, error) {
	if rs.user == 0 {
		return rs.db.DeleteRecording(ctx, tenant, id)
	}
	return rs.db.DeleteUserRecording(ctx, tenant, rs.user, id)
}

// registerRecordings serves /recordings, the tenant's call recordings for
// its administrators, and /user/recordings, those of the calls the
// signed-in user took part in (as caller or callee; another's is not
// found). The calls are recorded by the B2BUA (internal/call, record.go)
// when the tenant, the caller's or the callee's user has
// enable_audio_recording.
//
// GET .../{id}/download is ours: PortSIP's document gives each file a
// file_url but names no path that serves it. It answers audio/wav with
// Range support, so players can seek; ?file= picks one file of a
// dual-track recording.
func (s *Server) registerRecordings() {
	for _, v := range []struct {
		path, op, tag string
		allow         access
		scope         func(p *principal) recordingScope
		summaries     [4]string
	}{
		{"/recordings", "recording", "Recording", tenantAdmin,
			func(*principal) recordingScope { return recordingScope{db: s.db} },
			[4]string{"List call recordings", "Retrieve a call recording", "Download a call recording", "Delete call recording"}},
		{"/user/recordings", "user_recording", "User", anyUser,
			func(p *principal) recordingScope { return recordingScope{db: s.db, user: p.id} },
			[4]string{"List user call recordings", "Retrieve an user call recording", "Download an user call recording", "Delete user call recording"}},
	} {
		tags := []string{v.tag}
		handle(s, huma.Operation{OperationID: "list_" + v.op + "s", Method: http.MethodGet, Path: v.path, Tags: tags, Summary: v.summaries[0]},
			v.allow, func(ctx context.Context, p *principal, in *listParams) (*listBody[recordingItem], error) {
				o, err := in.options()
				if err != nil {
					return nil, err
				}
				rs, n, err := v.scope(p).list(ctx, p.scope, o)
				if err != nil {
					return nil, err
				}
				items := make([]recordingItem, len(rs))
				for i, r := range rs {
					items[i] = newRecordingItem(r)
				}
				return newList(items, n), nil
			})
		handle(s, huma.Operation{OperationID: "get_" + v.op, Method: http.MethodGet, Path: v.path + "/{id}", Tags: tags, Summary: v.summaries[1]},
			v.allow, func(ctx context.Context, p *principal, in *pathID) (*recordingDetail, error) {
				r, err := s.recording(ctx, p, v.scope(p), in.ID)
				if err != nil {
					return nil, err
				}
				return newRecordingDetail(r, "/api"+v.path), nil
			})
		handle(s, huma.Operation{OperationID: "download_" + v.op, Method: http.MethodGet, Path: v.path + "/{id}/download", Tags: tags,
			Summary: v.summaries[2], Description: "The recording's audio as audio/wav. Range requests are served.",
			Responses: binaryResponse("audio/wav")},
			v.allow, func(ctx context.Context, p *principal, in *recordingDownload) (*huma.StreamResponse, error) {
				r, err := s.recording(ctx, p, v.scope(p), in.ID)
				if err != nil {
					return nil, err
				}
				for i, f := range r.Files {
					if name := filepath.Base(f.Path); name == in.File || (in.File == "" && i == 0) {
						return s.serveData(f.Path, name, "audio/wav")
					}
				}
				return nil, pbx.Errorf(pbx.ENOTFOUND, "file not found")
			})
		handle(s, huma.Operation{OperationID: "delete_" + v.op, Method: http.MethodPost, Path: v.path + "/{id}/destroy", Tags: tags, Summary: v.summaries[3]},
			v.allow, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
				id, err := parseID(in.ID, "recording")
				if err != nil {
					return nil, err
				}
				r, err := v.scope(p).delete(ctx, p.scope, id)
				if err != nil {
					return nil, err
				}
				for _, f := range r.Files {
					s.removeData(f.Path)
				}
				s.audit(ctx, p, "DELETE", "RECORDING", r.Caller+" to "+r.Callee, newRecordingItem(r), nil)
				return &noContent{}, nil
			})
	}
}

// recording returns a recording that scope lets p see.
func (s *Server) recording(ctx context.Context, p *principal, scope recordingScope, rawID string) (store.Recording, error) {
	id, err := parseID(rawID, "recording")
	if err != nil {
		return store.Recording{}, err
	}
	return scope.get(ctx, p.scope, id)
}
