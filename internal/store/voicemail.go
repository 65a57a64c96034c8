package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Voicemail is a message left in a user's mailbox. The audio is a WAV file
// at Path, relative to the data folder.
type Voicemail struct {
	ID                pbx.ID
	Tenant            pbx.TenantID
	User              pbx.ID // the mailbox's owner
	Sender            string // the caller's number
	SenderDisplayName string
	Duration          time.Duration
	Path              string
	Size              int64
	Read              bool
	CreatedAt         time.Time
}

const voicemailCols = `id, tenant_id, user_id, sender, sender_display_name, duration_ms, path, size, is_read, created_at`

var voicemailList = &listSpec{
	fields: map[string]column{
		"id":         {"id", colID},
		"sender":     {"sender", colText},
		"created_at": {"created_at", colTime},
		"duration":   {"duration_ms / 1000", colInt},
		"status":     {"CASE WHEN is_read THEN 'READ' ELSE 'UNREAD' END", colText},
	},
	search:  []string{"sender", "sender_display_name"},
	orderBy: "created_at DESC, id DESC",
}

func scanVoicemail(row interface{ Scan(...any) error }) (Voicemail, error) {
	var v Voicemail
	var dur, created int64
	err := row.Scan(&v.ID, &v.Tenant, &v.User, &v.Sender, &v.SenderDisplayName, &dur, &v.Path, &v.Size, &v.Read, &created)
	v.Duration, v.CreatedAt = time.Duration(dur)*time.Millisecond, msTime(created)
	return v, err
}

// CreateVoicemail stores a new message of user's mailbox.
func (s *DB) CreateVoicemail(ctx context.Context, tenant pbx.TenantID, v *Voicemail) error {
	v.ID, v.Tenant = s.NewID(), tenant
	if v.CreatedAt.IsZero() {
		v.CreatedAt = msTime(s.nowMS())
	}
	_, err := s.exec(ctx, `INSERT INTO voicemails (`+voicemailCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		v.ID, tenant, v.User, v.Sender, v.SenderDisplayName, v.Duration.Milliseconds(), v.Path, v.Size, v.Read, timeMS(v.CreatedAt))
	if err != nil {
		return fmt.Errorf("create voicemail: %w", err)
	}
	return nil
}

// Voicemail returns one message of user's mailbox.
func (s *DB) Voicemail(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID) (Voicemail, error) {
	v, err := scanVoicemail(s.queryRow(ctx, `SELECT `+voicemailCols+` FROM voicemails WHERE tenant_id = ? AND user_id = ? AND id = ?`, tenant, user, id))
	return v, notFound(err, "voicemail")
}

// ListVoicemails returns a page of user's messages, newest first by
// default, and the total that match.
func (s *DB) ListVoicemails(ctx context.Context, tenant pbx.TenantID, user pbx.ID, opts ListOptions) ([]Voicemail, int, error) {
	return listPage(ctx, s, voicemailList, voicemailCols, `voicemails WHERE tenant_id = ? AND user_id = ?`, []any{tenant, user}, opts,
		scanVoicemail, "voicemails")
}

// Mailbox returns all of user's messages, oldest first: what the mailbox
// menu walks through.
func (s *DB) Mailbox(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]Voicemail, error) {
	rows, err := s.query(ctx, `SELECT `+voicemailCols+` FROM voicemails WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, id`, tenant, user)
	if err != nil {
		return nil, fmt.Errorf("read mailbox: %w", err)
	}
	defer rows.Close()
	var out []Voicemail
	for rows.Next() {
		v, err := scanVoicemail(rows)
		if err != nil {
			return nil, fmt.Errorf("read mailbox: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CountVoicemails returns how many new (unread) and old (read) messages
// user's mailbox holds: what MWI reports.
func (s *DB) CountVoicemails(ctx context.Context, tenant pbx.TenantID, user pbx.ID) (unread, read int, err error) {
	err = s.queryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN is_read THEN 0 ELSE 1 END), 0), COALESCE(SUM(CASE WHEN is_read THEN 1 ELSE 0 END), 0)
		FROM voicemails WHERE tenant_id = ? AND user_id = ?`, tenant, user).Scan(&unread, &read)
	if err != nil {
		return 0, 0, fmt.Errorf("count voicemails: %w", err)
	}
	return unread, read, nil
}

// SetVoicemailRead marks a message read or unread.
func (s *DB) SetVoicemailRead(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID, read bool) error {
	return s.execOne(ctx, "set voicemail read", "voicemail", nil, `UPDATE voicemails SET is_read = ? WHERE tenant_id = ? AND user_id = ? AND id = ?`, read, tenant, user, id)
}

// DeleteVoicemail removes a message's row and returns it, so that the
// caller removes its file.
func (s *DB) DeleteVoicemail(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID) (Voicemail, error) {
	v, err := s.Voicemail(ctx, tenant, user, id)
	if err != nil {
		return v, err
	}
	if _, err := s.exec(ctx, `DELETE FROM voicemails WHERE tenant_id = ? AND user_id = ? AND id = ?`, tenant, user, id); err != nil {
		return v, fmt.Errorf("delete voicemail: %w", err)
	}
	return v, nil
}

// ExpiredVoicemails returns tenant's messages created before cutoff, at
// most limit of them: the retention sweep removes them.
func (s *DB) ExpiredVoicemails(ctx context.Context, tenant pbx.TenantID, cutoff time.Time, limit int) ([]Voicemail, error) {
	rows, err := s.query(ctx, `SELECT `+voicemailCols+` FROM voicemails WHERE tenant_id = ? AND created_at < ? ORDER BY created_at LIMIT ?`,
		tenant, timeMS(cutoff), limit)
	if err != nil {
		return nil, fmt.Errorf("expired voicemails: %w", err)
	}
	defer rows.Close()
	var out []Voicemail
	for rows.Next() {
		v, err := scanVoicemail(rows)
		if err != nil {
			return nil, fmt.Errorf("expired voicemails: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// VoicemailTenants returns the tenants that hold voicemail messages.
func (s *DB) VoicemailTenants(ctx context.Context) ([]pbx.TenantID, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT tenant_id FROM voicemails`)
	if err != nil {
		return nil, fmt.Errorf("voicemail tenants: %w", err)
	}
	defer rows.Close()
	var out []pbx.TenantID
	for rows.Next() {
		var t pbx.TenantID
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("voicemail tenants: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
