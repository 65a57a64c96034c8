package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

const bindingCols = `id, tenant_id, user_id, extension, contact, instance_id, reg_id, call_id, cseq,
	source, transport, user_agent, expires_at, created_at`

func scanBinding(row interface{ Scan(...any) error }) (pbx.Binding, error) {
	var b pbx.Binding
	var cseq, expires, created int64
	err := row.Scan(&b.ID, &b.Tenant, &b.User, &b.Extension, &b.Contact, &b.InstanceID, &b.RegID, &b.CallID, &cseq,
		&b.Source, &b.Transport, &b.UserAgent, &expires, &created)
	b.CSeq = uint32(cseq)
	b.ExpiresAt, b.CreatedAt = msTime(expires), msTime(created)
	return b, err
}

// BindingKey is what identifies a binding among those of one user: the
// +sip.instance and reg-id of an RFC 5626 phone, else the Contact URI. Two
// REGISTERs with the same key update one binding. The registrar matches
// bindings with the same rule.
func BindingKey(b pbx.Binding) string {
	if b.InstanceID != "" {
		return "instance:" + b.InstanceID + ";" + strconv.Itoa(b.RegID)
	}
	return "contact:" + b.Contact
}

// UpsertBinding stores b, replacing the binding of the same user with the
// same BindingKey if there is one, and sets b.ID and b.CreatedAt to those of
// the stored row. It is safe to call concurrently for the same binding.
func (s *DB) UpsertBinding(ctx context.Context, b *pbx.Binding) error {
	now := s.nowMS()
	id := s.NewID()
	// Read the RETURNING row and then to the end: SQLite runs its WAL
	// auto-checkpoint when a statement completes, and a *sql.Row closes
	// the statement after the first row, so that the WAL would only grow.
	rows, err := s.query(ctx, `INSERT INTO bindings (id, tenant_id, user_id, extension, binding_key, contact, instance_id, reg_id,
		call_id, cseq, source, transport, user_agent, expires_at, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant_id, user_id, binding_key) DO UPDATE SET extension = excluded.extension,
		contact = excluded.contact, call_id = excluded.call_id, cseq = excluded.cseq, source = excluded.source,
		transport = excluded.transport, user_agent = excluded.user_agent, expires_at = excluded.expires_at,
		updated_at = excluded.updated_at
		RETURNING id, created_at`,
		id, b.Tenant, b.User, b.Extension, BindingKey(*b), b.Contact, b.InstanceID, b.RegID,
		b.CallID, int64(b.CSeq), b.Source, b.Transport, b.UserAgent, b.ExpiresAt.UnixMilli(), now, now)
	if err != nil {
		return fmt.Errorf("upsert binding: %w", err)
	}
	defer rows.Close()
	var created int64
	n := 0
	for rows.Next() {
		if err := rows.Scan(&b.ID, &created); err != nil {
			return fmt.Errorf("upsert binding: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("upsert binding: %w", err)
	}
	if n != 1 {
		return fmt.Errorf("upsert binding: %w", sql.ErrNoRows)
	}
	b.CreatedAt = msTime(created)
	return nil
}

// DeleteBinding removes one binding of tenant. A missing binding is
// ENOTFOUND.
func (s *DB) DeleteBinding(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	return s.execOne(ctx, "delete binding", "binding", nil, `DELETE FROM bindings WHERE tenant_id = ? AND id = ?`, tenant, id)
}

// BindingsByExtension returns every binding of tenant's extension, expired
// or not, oldest first. Callers that want live contacts filter on ExpiresAt
// with their own clock.
func (s *DB) BindingsByExtension(ctx context.Context, tenant pbx.TenantID, extension string) ([]pbx.Binding, error) {
	return s.listBindings(ctx, `tenant_id = ? AND extension = ?`, tenant, extension)
}

// BindingsByUser returns every binding of one user of tenant, oldest first.
func (s *DB) BindingsByUser(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]pbx.Binding, error) {
	return s.listBindings(ctx, `tenant_id = ? AND user_id = ?`, tenant, user)
}

func (s *DB) listBindings(ctx context.Context, where string, args ...any) ([]pbx.Binding, error) {
	rows, err := s.query(ctx, `SELECT `+bindingCols+` FROM bindings WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list bindings: %w", err)
	}
	defer rows.Close()
	var out []pbx.Binding
	for rows.Next() {
		b, err := scanBinding(rows)
		if err != nil {
			return nil, fmt.Errorf("list bindings: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list bindings: %w", err)
	}
	return out, nil
}

// DeleteExpiredBindings removes the bindings of every tenant that expired at
// or before t and says how many it removed.
func (s *DB) DeleteExpiredBindings(ctx context.Context, t time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM bindings WHERE expires_at <= ?`, t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired bindings: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// LiveBindings returns the bindings of every tenant that expire after t,
// oldest first: what a registrar loads when it starts.
func (s *DB) LiveBindings(ctx context.Context, t time.Time) ([]pbx.Binding, error) {
	return s.listBindings(ctx, `expires_at > ?`, t.UnixMilli())
}

// ApplyBindings writes a batch of binding changes in one transaction: it
// deletes the bindings whose ID is in deletes, then stores each of upserts
// under its own ID, replacing the binding of the same user with the same
// BindingKey (that row takes the new ID and CreatedAt). An upsert whose user
// no longer exists in its tenant is skipped rather than failing the batch;
// skipped lists their IDs. Deleting a missing binding is not an error.
func (s *DB) ApplyBindings(ctx context.Context, upserts []pbx.Binding, deletes []pbx.ID) (skipped []pbx.ID, err error) {
	if len(upserts) == 0 && len(deletes) == 0 {
		return nil, nil
	}
	err = s.tx(ctx, func(tx *Tx) error {
		skipped = skipped[:0]
		for _, id := range deletes {
			if _, err := tx.exec(ctx, `DELETE FROM bindings WHERE id = ?`, id); err != nil {
				return err
			}
		}
		now := s.nowMS()
		for _, b := range upserts {
			// The SELECT from users skips a binding whose user was deleted
			// (the foreign key would fail the whole batch); the casts give
			// PostgreSQL the parameters' types, which a SELECT list lacks.
			res, err := tx.exec(ctx, `INSERT INTO bindings (id, tenant_id, user_id, extension, binding_key, contact, instance_id,
				reg_id, call_id, cseq, source, transport, user_agent, expires_at, created_at, updated_at)
				SELECT CAST(? AS BIGINT), tenant_id, id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),
				CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),
				CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)
				FROM users WHERE id = ? AND tenant_id = ?
				ON CONFLICT (tenant_id, user_id, binding_key) DO UPDATE SET id = excluded.id, extension = excluded.extension,
				contact = excluded.contact, call_id = excluded.call_id, cseq = excluded.cseq, source = excluded.source,
				transport = excluded.transport, user_agent = excluded.user_agent, expires_at = excluded.expires_at,
				created_at = excluded.created_at, updated_at = excluded.updated_at`,
				b.ID, b.Extension, BindingKey(b), b.Contact, b.InstanceID, b.RegID, b.CallID, int64(b.CSeq),
				b.Source, b.Transport, b.UserAgent, b.ExpiresAt.UnixMilli(), b.CreatedAt.UnixMilli(), now, b.User, b.Tenant)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err == nil && n == 0 {
				skipped = append(skipped, b.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply bindings: %w", err)
	}
	return skipped, nil
}
