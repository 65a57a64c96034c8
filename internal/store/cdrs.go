package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/call"
	"github.com/gopbx/gopbx/internal/pbx"
)

const cdrCols = `id, tenant_id, session_id, call_id, caller, caller_domain, caller_display_name, callee, callee_domain,
	callee_display_name, started_at, rang_at, answered_at, ended_at, direction, end_reason, reroute_reason, status_code,
	destination, outbound_caller_id, did_cid, trunk, duration, service_number, user_data`

var cdrList = &listSpec{
	fields: map[string]column{
		"id":                  {"id", colID},
		"session_id":          {"session_id", colID},
		"call_id":             {"call_id", colText},
		"caller":              {"caller", colText},
		"caller_domain":       {"caller_domain", colText},
		"caller_display_name": {"caller_display_name", colText},
		"callee":              {"callee", colText},
		"callee_domain":       {"callee_domain", colText},
		"callee_display_name": {"callee_display_name", colText},
		"started_at":          {"started_at", colTime},
		"rang_at":             {"rang_at", colTime},
		"answered_at":         {"answered_at", colTime},
		"ended_at":            {"ended_at", colTime},
		"direction":           {"direction", colText},
		"end_reason":          {"end_reason", colText},
		"reroute_reason":      {"reroute_reason", colText},
		"status_code":         {"status_code", colInt},
		"destination":         {"destination", colText},
		"outbound_caller_id":  {"outbound_caller_id", colText},
		"did_cid":             {"did_cid", colText},
		"trunk":               {"trunk", colText},
		"duration":            {"duration", colInt},
		"service_number":      {"service_number", colText},
		"user_data":           {"user_data", colText},
	},
	search:  []string{"caller", "callee", "caller_display_name", "callee_display_name"},
	orderBy: "started_at DESC, id DESC",
}

// cdrMS is a CDR time in stored form: 0 for the zero time.
func cdrMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func scanCDR(row interface{ Scan(...any) error }) (call.CDR, error) {
	var r call.CDR
	var started, rang, answered, ended int64
	var dir, reason string
	err := row.Scan(&r.ID, &r.Tenant, &r.SessionID, &r.CallID, &r.Caller, &r.CallerDomain, &r.CallerDisplayName,
		&r.Callee, &r.CalleeDomain, &r.CalleeDisplayName, &started, &rang, &answered, &ended, &dir, &reason,
		&r.RerouteReason, &r.StatusCode, &r.Destination, &r.OutboundCallerID, &r.DIDCID, &r.Trunk, &r.Duration,
		&r.ServiceNumber, &r.UserData)
	r.StartedAt, r.RangAt, r.AnsweredAt, r.EndedAt = msTime(started), msTime(rang), msTime(answered), msTime(ended)
	r.Direction, r.EndReason = call.Direction(dir), call.EndReason(reason)
	return r, err
}

// CreateCDR stores the record of a finished call of tenant. A zero r.ID is
// given a fresh one.
func (s *DB) CreateCDR(ctx context.Context, tenant pbx.TenantID, r *call.CDR) error {
	if r.ID == 0 {
		r.ID = s.NewID()
	}
	r.Tenant = tenant
	_, err := s.exec(ctx, `INSERT INTO cdrs (`+cdrCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, tenant, r.SessionID, r.CallID, r.Caller, r.CallerDomain, r.CallerDisplayName, r.Callee, r.CalleeDomain,
		r.CalleeDisplayName, cdrMS(r.StartedAt), cdrMS(r.RangAt), cdrMS(r.AnsweredAt), cdrMS(r.EndedAt),
		string(r.Direction), string(r.EndReason), r.RerouteReason, r.StatusCode, r.Destination, r.OutboundCallerID,
		r.DIDCID, r.Trunk, r.Duration, r.ServiceNumber, r.UserData)
	if err != nil {
		return fmt.Errorf("create cdr: %w", err)
	}
	return nil
}

// CDR returns the record of tenant with the given ID, or ENOTFOUND.
func (s *DB) CDR(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (call.CDR, error) {
	r, err := scanCDR(s.queryRow(ctx, `SELECT `+cdrCols+` FROM cdrs WHERE tenant_id = ? AND id = ?`, tenant, id))
	return r, notFound(err, "cdr")
}

// ListCDRs returns a page of tenant's records, newest first unless opts
// says otherwise, and the total that match.
func (s *DB) ListCDRs(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]call.CDR, int, error) {
	return s.listCDRs(ctx, "tenant_id = ?", []any{tenant}, opts)
}

// ListExtensionCDRs is ListCDRs restricted to calls that extension placed
// or received (GET /api/user/cdrs).
func (s *DB) ListExtensionCDRs(ctx context.Context, tenant pbx.TenantID, extension string, opts ListOptions) ([]call.CDR, int, error) {
	return s.listCDRs(ctx, "tenant_id = ? AND (caller = ? OR callee = ?)", []any{tenant, extension, extension}, opts)
}

// ExtensionCDR returns one record of extension's calls (GET
// /api/user/cdrs/{id}); another extension's record is ENOTFOUND.
func (s *DB) ExtensionCDR(ctx context.Context, tenant pbx.TenantID, extension string, id pbx.ID) (call.CDR, error) {
	r, err := scanCDR(s.queryRow(ctx, `SELECT `+cdrCols+` FROM cdrs WHERE tenant_id = ? AND id = ? AND (caller = ? OR callee = ?)`,
		tenant, id, extension, extension))
	return r, notFound(err, "cdr")
}

func (s *DB) listCDRs(ctx context.Context, scope string, scopeArgs []any, opts ListOptions) ([]call.CDR, int, error) {
	return listPage(ctx, s, cdrList, cdrCols, `cdrs WHERE `+scope, scopeArgs, opts, scanCDR, "cdrs")
}
