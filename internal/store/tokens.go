package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// PrincipalKind says what kind of account a token belongs to.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalAdmin  PrincipalKind = "ADMIN"
	PrincipalDealer PrincipalKind = "DEALER"
	PrincipalUser   PrincipalKind = "USER"
)

// Token is an API session: hashes of its bearer and refresh tokens (the
// tokens themselves are never stored), who it belongs to and the tenant it
// acts in. Scope differs from Tenant when a system admin or dealer has
// switched into a tenant.
type Token struct {
	ID               pbx.ID
	AccessHash       string
	RefreshHash      string
	Kind             PrincipalKind
	Principal        pbx.ID
	Tenant           pbx.TenantID
	Scope            pbx.TenantID
	Role             pbx.Role
	ExpiresAt        time.Time
	RefreshExpiresAt time.Time
	CreatedAt        time.Time
}

const tokenCols = `id, access_hash, refresh_hash, principal_kind, principal_id, tenant_id, scope_tenant_id, role,
	expires_at, refresh_expires_at, created_at`

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var exp, rexp, created int64
	err := row.Scan(&t.ID, &t.AccessHash, &t.RefreshHash, &t.Kind, &t.Principal, &t.Tenant, &t.Scope, &t.Role, &exp, &rexp, &created)
	t.ExpiresAt, t.RefreshExpiresAt, t.CreatedAt = msTime(exp), msTime(rexp), msTime(created)
	return t, err
}

// CreateToken stores a new API session.
func (s *DB) CreateToken(ctx context.Context, t *Token) error {
	t.ID = s.NewID()
	t.CreatedAt = msTime(s.nowMS())
	_, err := s.exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		t.ID, t.AccessHash, t.RefreshHash, t.Kind, t.Principal, t.Tenant, t.Scope, t.Role,
		t.ExpiresAt.UnixMilli(), t.RefreshExpiresAt.UnixMilli(), t.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// TokenByAccess returns the unexpired session whose bearer token hashes to hash.
func (s *DB) TokenByAccess(ctx context.Context, hash string) (Token, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE access_hash = ? AND expires_at > ?`, hash, s.nowMS()))
	return t, notFound(err, "token")
}

// TokenByRefresh returns the session whose refresh token hashes to hash and
// has not expired.
func (s *DB) TokenByRefresh(ctx context.Context, hash string) (Token, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE refresh_hash = ? AND refresh_expires_at > ?`, hash, s.nowMS()))
	return t, notFound(err, "token")
}

// SetTokenScope switches the tenant a session acts in.
func (s *DB) SetTokenScope(ctx context.Context, id pbx.ID, scope pbx.TenantID) error {
	_, err := s.exec(ctx, `UPDATE tokens SET scope_tenant_id = ? WHERE id = ?`, scope, id)
	return err
}

// DeleteToken revokes one session.
func (s *DB) DeleteToken(ctx context.Context, id pbx.ID) error {
	_, err := s.exec(ctx, `DELETE FROM tokens WHERE id = ?`, id)
	return err
}

// DeletePrincipalTokens revokes every session of an account, as a password
// change or a deletion must.
func (s *DB) DeletePrincipalTokens(ctx context.Context, kind PrincipalKind, id pbx.ID) error {
	_, err := s.exec(ctx, `DELETE FROM tokens WHERE principal_kind = ? AND principal_id = ?`, kind, id)
	return err
}

// DeleteExpiredTokens removes sessions whose refresh tokens have expired.
func (s *DB) DeleteExpiredTokens(ctx context.Context) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM tokens WHERE refresh_expires_at <= ?`, s.nowMS())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
