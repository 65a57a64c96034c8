package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// AuditLog records one change or login, as PortSIP's /audit_logs shows it.
type AuditLog struct {
	ID         pbx.ID
	Tenant     pbx.TenantID
	CreatedAt  time.Time
	Source     string
	IP         string
	Action     string // CREATE, UPDATE, DELETE, LOGIN, LOGOUT, RECHARGE
	ObjectType string // TENANT, USER, ROLE, LOGIN...
	UserName   string
	ObjectName string
	OldState   string
	NewState   string
}

// EventLog records a system event, as PortSIP's /event_logs shows it.
type EventLog struct {
	ID        pbx.ID
	Tenant    pbx.TenantID
	CreatedAt time.Time
	Level     string // DEBUG, INFO, WARN, ERROR
	Source    string
	Message   string
}

var auditList = &listSpec{
	fields: map[string]column{
		"id":          {"id", colID},
		"created_at":  {"created_at", colTime},
		"source":      {"source", colText},
		"ip":          {"ip", colText},
		"action":      {"action", colText},
		"object_type": {"object_type", colText},
		"user_name":   {"user_name", colText},
		"object_name": {"object_name", colText},
	},
	search:  []string{"user_name", "object_name", "ip"},
	orderBy: "id DESC",
}

var eventList = &listSpec{
	fields: map[string]column{
		"id":         {"id", colID},
		"created_at": {"created_at", colTime},
		"level":      {"level", colText},
		"source":     {"source", colText},
		"message":    {"message", colText},
	},
	search:  []string{"message", "source"},
	orderBy: "id DESC",
}

// AddAuditLog appends an audit record.
func (s *DB) AddAuditLog(ctx context.Context, l *AuditLog) error {
	l.ID = s.NewID()
	now := s.nowMS()
	l.CreatedAt = msTime(now)
	_, err := s.exec(ctx, `INSERT INTO audit_logs (id, tenant_id, created_at, source, ip, action, object_type, user_name, object_name, old_state, new_state)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`, l.ID, l.Tenant, now, nullString(l.Source), nullString(l.IP), l.Action, l.ObjectType,
		nullString(l.UserName), nullString(l.ObjectName), nullString(l.OldState), nullString(l.NewState))
	if err != nil {
		return fmt.Errorf("add audit log: %w", err)
	}
	return nil
}

// ListAuditLogs returns a page of tenant's audit records, newest first.
func (s *DB) ListAuditLogs(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]AuditLog, int, error) {
	where, args, order, limit, offset, err := s.compile(auditList, opts)
	if err != nil {
		return nil, 0, err
	}
	args = append([]any{tenant}, args...)
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM audit_logs WHERE tenant_id = ?`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list audit logs: %w", err)
	}
	rows, err := s.query(ctx, `SELECT id, tenant_id, created_at, source, ip, action, object_type, user_name, object_name, old_state, new_state
		FROM audit_logs WHERE tenant_id = ?`+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit logs: %w", err)
	}
	defer rows.Close()
	var out []AuditLog
	for rows.Next() {
		var l AuditLog
		var created int64
		var src, ip, user, obj, olds, news sql.NullString
		if err := rows.Scan(&l.ID, &l.Tenant, &created, &src, &ip, &l.Action, &l.ObjectType, &user, &obj, &olds, &news); err != nil {
			return nil, 0, fmt.Errorf("list audit logs: %w", err)
		}
		l.CreatedAt = msTime(created)
		l.Source, l.IP, l.UserName, l.ObjectName, l.OldState, l.NewState = src.String, ip.String, user.String, obj.String, olds.String, news.String
		out = append(out, l)
	}
	return out, total, rows.Err()
}

// AddEventLog appends an event record.
func (s *DB) AddEventLog(ctx context.Context, l *EventLog) error {
	l.ID = s.NewID()
	now := s.nowMS()
	l.CreatedAt = msTime(now)
	_, err := s.exec(ctx, `INSERT INTO event_logs (id, tenant_id, created_at, level, source, message) VALUES (?,?,?,?,?,?)`,
		l.ID, l.Tenant, now, l.Level, nullString(l.Source), l.Message)
	if err != nil {
		return fmt.Errorf("add event log: %w", err)
	}
	return nil
}

// ListEventLogs returns a page of tenant's event records, newest first.
func (s *DB) ListEventLogs(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]EventLog, int, error) {
	where, args, order, limit, offset, err := s.compile(eventList, opts)
	if err != nil {
		return nil, 0, err
	}
	args = append([]any{tenant}, args...)
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM event_logs WHERE tenant_id = ?`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list event logs: %w", err)
	}
	rows, err := s.query(ctx, `SELECT id, tenant_id, created_at, level, source, message FROM event_logs WHERE tenant_id = ?`+
		where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list event logs: %w", err)
	}
	defer rows.Close()
	var out []EventLog
	for rows.Next() {
		var l EventLog
		var created int64
		var src sql.NullString
		if err := rows.Scan(&l.ID, &l.Tenant, &created, &l.Level, &src, &l.Message); err != nil {
			return nil, 0, fmt.Errorf("list event logs: %w", err)
		}
		l.CreatedAt, l.Source = msTime(created), src.String
		out = append(out, l)
	}
	return out, total, rows.Err()
}
