package main

import (
	"context"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// recordings adapts the store to what the B2BUA declares for the rows of
// recorded calls.
type recordings struct{ db *store.DB }

var _ call.RecordingWriter = recordings{}

// CreateRecording stores r as the store's row of a recorded call.
func (a recordings) CreateRecording(ctx context.Context, tenant pbx.TenantID, r *call.Recording) error {
	format := store.RecordingMixed
	if r.DualTrack {
		format = store.RecordingDualTrack
	}
	row := store.Recording{
		SessionID: r.SessionID, CDR: r.CDR, Caller: r.Caller, Callee: r.Callee, CallerUser: r.CallerUser, CalleeUser: r.CalleeUser,
		StartedAt: r.StartedAt, EndedAt: r.EndedAt, Duration: r.Duration, Format: format,
	}
	for _, f := range r.Files {
		row.Files = append(row.Files, store.RecordingFile{Path: f.Path, Size: f.Size})
	}
	return a.db.CreateRecording(ctx, tenant, &row)
}
