package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gopbx/gopbx/internal/pbx"
)

const tenantCols = `id, name, domain, enabled, website, timezone, currency, region,
	max_extensions, max_concurrent_calls, settings, password_policy, created_at, updated_at`

var tenantList = &listSpec{
	fields: map[string]column{
		"id":                   {"id", colID},
		"name":                 {"name", colText},
		"domain":               {"domain", colText},
		"enabled":              {"enabled", colBool},
		"website":              {"website", colText},
		"timezone":             {"timezone", colText},
		"currency":             {"currency", colText},
		"region":               {"region", colText},
		"max_extensions":       {"max_extensions", colInt},
		"max_concurrent_calls": {"max_concurrent_calls", colInt},
		"created_at":           {"created_at", colTime},
	},
	search:  []string{"name", "domain"},
	orderBy: "id ASC",
}

func scanTenant(row interface{ Scan(...any) error }) (pbx.Tenant, error) {
	var t pbx.Tenant
	var website sql.NullString
	var settings, policy string
	var created, updated int64
	err := row.Scan(&t.ID, &t.Name, &t.Domain, &t.Enabled, &website, &t.Timezone, &t.Currency, &t.Region,
		&t.MaxExtensions, &t.MaxConcurrentCalls, &settings, &policy, &created, &updated)
	t.Website = website.String
	t.Settings, t.PasswordPolicy = []byte(settings), []byte(policy)
	t.CreatedAt, t.UpdatedAt = msTime(created), msTime(updated)
	return t, err
}

func jsonOrEmpty(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// CreateTenant stores a new tenant and gives it an ID. A domain already in
// use is ECONFLICT naming "domain".
func (s *DB) CreateTenant(ctx context.Context, t *pbx.Tenant) error {
	return s.tx(ctx, func(tx *Tx) error { return tx.insertTenant(ctx, t) })
}

// CreateDealerTenant stores a new tenant and assigns it to dealer in one
// transaction, so that a dealer's tenant is never left unassigned. A dealer
// that already has maxTenants tenants gets EFORBIDDEN and nothing is written.
func (s *DB) CreateDealerTenant(ctx context.Context, dealer pbx.ID, maxTenants int, t *pbx.Tenant) error {
	return s.tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM tenant_dealers WHERE dealer_id = ?`, dealer).Scan(&n); err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		if n >= maxTenants {
			return pbx.Errorf(pbx.EFORBIDDEN, "the dealer may have at most %d tenants", maxTenants)
		}
		if err := tx.insertTenant(ctx, t); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO tenant_dealers (tenant_id, dealer_id) VALUES (?, ?)`, t.ID, dealer); err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		return nil
	})
}

func (tx *Tx) insertTenant(ctx context.Context, t *pbx.Tenant) error {
	t.ID = pbx.TenantID(tx.s.NewID())
	t.Domain = strings.ToLower(t.Domain)
	now := tx.s.nowMS()
	_, err := tx.exec(ctx, `INSERT INTO tenants (`+tenantCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		t.ID, t.Name, t.Domain, t.Enabled, nullString(t.Website), t.Timezone, t.Currency, t.Region,
		t.MaxExtensions, t.MaxConcurrentCalls, jsonOrEmpty(t.Settings), jsonOrEmpty(t.PasswordPolicy), now, now)
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "domain", Message: "domain already in use"}
	} else if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	t.CreatedAt, t.UpdatedAt = msTime(now), msTime(now)
	return nil
}

// UpdateTenant writes every field of t back.
func (s *DB) UpdateTenant(ctx context.Context, t *pbx.Tenant) error {
	t.Domain = strings.ToLower(t.Domain)
	now := s.nowMS()
	res, err := s.exec(ctx, `UPDATE tenants SET name=?, domain=?, enabled=?, website=?, timezone=?, currency=?, region=?,
		max_extensions=?, max_concurrent_calls=?, settings=?, password_policy=?, updated_at=? WHERE id=?`,
		t.Name, t.Domain, t.Enabled, nullString(t.Website), t.Timezone, t.Currency, t.Region,
		t.MaxExtensions, t.MaxConcurrentCalls, jsonOrEmpty(t.Settings), jsonOrEmpty(t.PasswordPolicy), now, t.ID)
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "domain", Message: "domain already in use"}
	} else if err != nil {
		return fmt.Errorf("update tenant: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pbx.Errorf(pbx.ENOTFOUND, "tenant not found")
	}
	t.UpdatedAt = msTime(now)
	return nil
}

// Tenant returns the tenant with the given ID.
func (s *DB) Tenant(ctx context.Context, id pbx.TenantID) (pbx.Tenant, error) {
	t, err := scanTenant(s.queryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	return t, notFound(err, "tenant")
}

// TenantByDomain returns the tenant whose SIP domain is domain (any case).
// Signalling uses it to find the tenant of every request.
func (s *DB) TenantByDomain(ctx context.Context, domain string) (pbx.Tenant, error) {
	t, err := scanTenant(s.queryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE domain = ?`, strings.ToLower(domain)))
	return t, notFound(err, "tenant")
}

// DeleteTenant removes a tenant and, by cascade, everything it owns: its
// users, numbers, dealer assignments, logs, the rows of its files and
// uploads, and its settings documents. Sessions of its users are revoked,
// and system accounts that had switched into it are switched back to the
// system scope, in the same transaction. The bytes of its files stay under
// the data folder, which the store does not know: the caller removes them.
func (s *DB) DeleteTenant(ctx context.Context, id pbx.TenantID) error {
	return s.tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM tenants WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete tenant: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "tenant not found")
		}
		for _, q := range []string{
			`DELETE FROM tokens WHERE tenant_id = ?`,
			`UPDATE tokens SET scope_tenant_id = 0 WHERE scope_tenant_id = ?`,
			`DELETE FROM audit_logs WHERE tenant_id = ?`,
			`DELETE FROM event_logs WHERE tenant_id = ?`,
			`DELETE FROM files WHERE tenant_id = ?`,
			`DELETE FROM uploads WHERE tenant_id = ?`,
		} {
			if _, err := tx.exec(ctx, q, id); err != nil {
				return fmt.Errorf("delete tenant: %w", err)
			}
		}
		// A tenant's settings documents are named <kind>:<tenant ID>
		// (see Setting).
		if _, err := tx.exec(ctx, `DELETE FROM settings WHERE name LIKE ?`, "%:"+id.String()); err != nil {
			return fmt.Errorf("delete tenant: %w", err)
		}
		return nil
	})
}

// Counts are the numbers of objects the system status shows.
type Counts struct {
	Tenants int
	Dealers int
	Users   int
}

// Count returns how many tenants, dealers and users the system has.
func (s *DB) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM tenants), (SELECT COUNT(*) FROM dealers), (SELECT COUNT(*) FROM users)`).
		Scan(&c.Tenants, &c.Dealers, &c.Users)
	if err != nil {
		return c, fmt.Errorf("count: %w", err)
	}
	return c, nil
}

// ListTenants returns a page of tenants and the total that match. When
// dealer is not zero, only the tenants assigned to that dealer are seen.
func (s *DB) ListTenants(ctx context.Context, dealer pbx.ID, opts ListOptions) ([]pbx.Tenant, int, error) {
	from, args := `tenants WHERE 1=1`, []any(nil)
	if dealer != 0 {
		from, args = `tenants WHERE id IN (SELECT tenant_id FROM tenant_dealers WHERE dealer_id = ?)`, []any{dealer}
	}
	return listPage(ctx, s, tenantList, tenantCols, from, args, opts, scanTenant, "tenants")
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// DeleteTenantTokens revokes the sessions of every user of tenant, as
// disabling the tenant must. System accounts switched into it keep theirs.
func (s *DB) DeleteTenantTokens(ctx context.Context, tenant pbx.TenantID) error {
	if _, err := s.exec(ctx, `DELETE FROM tokens WHERE tenant_id = ?`, tenant); err != nil {
		return fmt.Errorf("delete tenant tokens: %w", err)
	}
	return nil
}
