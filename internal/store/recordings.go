package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// RecordingFormat says how a recording holds the two sides of its call.
type RecordingFormat string

// Recording formats: one file of both sides mixed, or one file per side.
const (
	RecordingMixed     RecordingFormat = "MIXED"
	RecordingDualTrack RecordingFormat = "DUAL_TRACK"
)

// RecordingFile is one WAV file of a recording, Path relative to the data
// folder.
type RecordingFile struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// Recording is a recorded call. CDR is the ID of the call's record in
// /cdrs. CallerUser and CalleeUser are the users of the tenant on either
// side (0 for a party that is none, as a trunk's), whose /user/recordings
// show it. Files holds one file (mixed) or two (dual-track: the caller's
// side, then the callee's).
type Recording struct {
	ID         pbx.ID
	Tenant     pbx.TenantID
	SessionID  pbx.ID
	CDR        pbx.ID
	Caller     string
	Callee     string
	CallerUser pbx.ID
	CalleeUser pbx.ID
	StartedAt  time.Time // when the call was answered and recording began
	EndedAt    time.Time
	Duration   time.Duration
	Format     RecordingFormat
	Files      []RecordingFile
}

// Size returns the bytes of all the recording's files.
func (r Recording) Size() int64 {
	var n int64
	for _, f := range r.Files {
		n += f.Size
	}
	return n
}

const recordingCols = `id, tenant_id, session_id, cdr_id, caller, callee, caller_user_id, callee_user_id, started_at, ended_at,
	duration_ms, format, size, files`

var recordingList = &listSpec{
	fields: map[string]column{
		"id":         {"id", colID},
		"session_id": {"session_id", colID},
		"cdr_id":     {"cdr_id", colID},
		"caller":     {"caller", colText},
		"callee":     {"callee", colText},
		"started_at": {"started_at", colTime},
		"ended_at":   {"ended_at", colTime},
		"duration":   {"duration_ms / 1000", colInt},
		"file_size":  {"size", colInt},
	},
	search:  []string{"caller", "callee"},
	orderBy: "started_at DESC, id DESC",
}

// userRecordings scopes recordings to those of calls a user took part in.
const userRecordings = `tenant_id = ? AND (caller_user_id = ? OR callee_user_id = ?)`

func scanRecording(row interface{ Scan(...any) error }) (Recording, error) {
	var r Recording
	var started, ended, dur int64
	var format, files string
	err := row.Scan(&r.ID, &r.Tenant, &r.SessionID, &r.CDR, &r.Caller, &r.Callee, &r.CallerUser, &r.CalleeUser,
		&started, &ended, &dur, &format, new(int64), &files)
	if err != nil {
		return r, err
	}
	r.StartedAt, r.EndedAt, r.Duration, r.Format = msTime(started), msTime(ended), time.Duration(dur)*time.Millisecond, RecordingFormat(format)
	if err := jsonUnmarshal(files, &r.Files); err != nil {
		return r, fmt.Errorf("recording %s files: %w", r.ID, err)
	}
	return r, nil
}

// CreateRecording stores a recording of tenant; r gets a fresh ID.
func (s *DB) CreateRecording(ctx context.Context, tenant pbx.TenantID, r *Recording) error {
	if r.Format != RecordingMixed && r.Format != RecordingDualTrack {
		return pbx.Errorf(pbx.EINVALID, "recording format %q", r.Format)
	}
	files := r.Files
	if files == nil {
		files = []RecordingFile{}
	}
	js, err := jsonMarshal(files)
	if err != nil {
		return fmt.Errorf("create recording: %w", err)
	}
	r.ID, r.Tenant = s.NewID(), tenant
	_, err = s.exec(ctx, `INSERT INTO recordings (`+recordingCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, tenant, r.SessionID, r.CDR, r.Caller, r.Callee, r.CallerUser, r.CalleeUser, timeMS(r.StartedAt), timeMS(r.EndedAt),
		r.Duration.Milliseconds(), string(r.Format), r.Size(), js)
	if err != nil {
		return fmt.Errorf("create recording: %w", err)
	}
	return nil
}

// Recording returns one recording of tenant, or ENOTFOUND.
func (s *DB) Recording(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (Recording, error) {
	r, err := scanRecording(s.queryRow(ctx, `SELECT `+recordingCols+` FROM recordings WHERE tenant_id = ? AND id = ?`, tenant, id))
	return r, notFound(err, "recording")
}

// UserRecording returns one recording of a call user took part in; any
// other is ENOTFOUND.
func (s *DB) UserRecording(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID) (Recording, error) {
	r, err := scanRecording(s.queryRow(ctx, `SELECT `+recordingCols+` FROM recordings WHERE `+userRecordings+` AND id = ?`,
		tenant, user, user, id))
	return r, notFound(err, "recording")
}

// ListRecordings returns a page of tenant's recordings, newest first
// unless opts says otherwise, and the total that match.
func (s *DB) ListRecordings(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]Recording, int, error) {
	return listPage(ctx, s, recordingList, recordingCols, `recordings WHERE tenant_id = ?`, []any{tenant}, opts,
		scanRecording, "recordings")
}

// ListUserRecordings is ListRecordings restricted to the calls user took
// part in, as caller or callee.
func (s *DB) ListUserRecordings(ctx context.Context, tenant pbx.TenantID, user pbx.ID, opts ListOptions) ([]Recording, int, error) {
	return listPage(ctx, s, recordingList, recordingCols, `recordings WHERE `+userRecordings, []any{tenant, user, user}, opts,
		scanRecording, "recordings")
}

// DeleteRecording removes a recording's row and returns it, so that the
// caller removes its files.
func (s *DB) DeleteRecording(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (Recording, error) {
	r, err := s.Recording(ctx, tenant, id)
	if err != nil {
		return r, err
	}
	return r, s.deleteRecording(ctx, tenant, id)
}

// DeleteUserRecording is DeleteRecording of a recording of user's calls;
// any other is ENOTFOUND.
func (s *DB) DeleteUserRecording(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID) (Recording, error) {
	r, err := s.UserRecording(ctx, tenant, user, id)
	if err != nil {
		return r, err
	}
	return r, s.deleteRecording(ctx, tenant, id)
}

func (s *DB) deleteRecording(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	if _, err := s.exec(ctx, `DELETE FROM recordings WHERE tenant_id = ? AND id = ?`, tenant, id); err != nil {
		return fmt.Errorf("delete recording: %w", err)
	}
	return nil
}
