package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Dealer is a reseller account in the system scope that manages the tenants
// assigned to it (PortSIP's /dealers).
type Dealer struct {
	ID               pbx.ID
	Name             string
	PasswordHash     string
	Enabled          bool
	Level            string // DISTRIBUTOR, SUB_DISTRIBUTOR, RESELLER
	Email            string
	DisplayName      string
	Website          string
	Phone            string
	Address          string
	Description      string
	MaxTenants       int
	MaxExtensions    int
	TenantFullAccess bool
}

const dealerCols = `id, name, password_hash, enabled, level, email, display_name, website, phone, address, description,
	max_tenants, max_extensions, tenant_full_access`

func scanDealer(row interface{ Scan(...any) error }) (Dealer, error) {
	var d Dealer
	var email, dn, web, phone, addr, desc sql.NullString
	err := row.Scan(&d.ID, &d.Name, &d.PasswordHash, &d.Enabled, &d.Level, &email, &dn, &web, &phone, &addr, &desc,
		&d.MaxTenants, &d.MaxExtensions, &d.TenantFullAccess)
	d.Email, d.DisplayName, d.Website, d.Phone, d.Address, d.Description = email.String, dn.String, web.String, phone.String, addr.String, desc.String
	return d, err
}

// DealerByName returns the dealer with the given login name.
func (s *DB) DealerByName(ctx context.Context, name string) (Dealer, error) {
	d, err := scanDealer(s.queryRow(ctx, `SELECT `+dealerCols+` FROM dealers WHERE name = ?`, name))
	return d, notFound(err, "dealer")
}

// DealerHasTenant reports whether tenant is assigned to dealer.
func (s *DB) DealerHasTenant(ctx context.Context, dealer pbx.ID, tenant pbx.TenantID) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM tenant_dealers WHERE dealer_id = ? AND tenant_id = ?`, dealer, tenant).Scan(&n)
	return n > 0, err
}

var dealerList = &listSpec{
	fields: map[string]column{
		"id":                 {"id", colID},
		"name":               {"name", colText},
		"enabled":            {"enabled", colBool},
		"level":              {"level", colText},
		"email":              {"email", colText},
		"display_name":       {"display_name", colText},
		"website":            {"website", colText},
		"phone":              {"phone", colText},
		"max_tenants":        {"max_tenants", colInt},
		"max_extensions":     {"max_extensions", colInt},
		"tenant_full_access": {"tenant_full_access", colBool},
		"created_at":         {"created_at", colTime},
	},
	search:  []string{"name", "display_name", "email"},
	orderBy: "id ASC",
}

// CreateDealer stores a new dealer and gives it an ID. A name already in use
// is ECONFLICT naming "name".
func (s *DB) CreateDealer(ctx context.Context, d *Dealer) error {
	d.ID = s.NewID()
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO dealers (`+dealerCols+`, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		d.ID, d.Name, d.PasswordHash, d.Enabled, d.Level, nullString(d.Email), nullString(d.DisplayName), nullString(d.Website),
		nullString(d.Phone), nullString(d.Address), nullString(d.Description), d.MaxTenants, d.MaxExtensions, d.TenantFullAccess, now, now)
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "dealer name already in use"}
	} else if err != nil {
		return fmt.Errorf("create dealer: %w", err)
	}
	return nil
}

// UpdateDealer writes every field of d back.
func (s *DB) UpdateDealer(ctx context.Context, d *Dealer) error {
	res, err := s.exec(ctx, `UPDATE dealers SET name=?, password_hash=?, enabled=?, level=?, email=?, display_name=?, website=?,
		phone=?, address=?, description=?, max_tenants=?, max_extensions=?, tenant_full_access=?, updated_at=? WHERE id=?`,
		d.Name, d.PasswordHash, d.Enabled, d.Level, nullString(d.Email), nullString(d.DisplayName), nullString(d.Website),
		nullString(d.Phone), nullString(d.Address), nullString(d.Description), d.MaxTenants, d.MaxExtensions, d.TenantFullAccess,
		s.nowMS(), d.ID)
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "dealer name already in use"}
	} else if err != nil {
		return fmt.Errorf("update dealer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pbx.Errorf(pbx.ENOTFOUND, "dealer not found")
	}
	return nil
}

// Dealer returns the dealer with the given ID.
func (s *DB) Dealer(ctx context.Context, id pbx.ID) (Dealer, error) {
	d, err := scanDealer(s.queryRow(ctx, `SELECT `+dealerCols+` FROM dealers WHERE id = ?`, id))
	return d, notFound(err, "dealer")
}

// DeleteDealer removes a dealer, its tenant assignments (the tenants stay)
// and its sessions, in one transaction.
func (s *DB) DeleteDealer(ctx context.Context, id pbx.ID) error {
	return s.tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM dealers WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete dealer: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "dealer not found")
		}
		if _, err := tx.exec(ctx, `DELETE FROM tenant_dealers WHERE dealer_id = ?`, id); err != nil {
			return fmt.Errorf("delete dealer: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM tokens WHERE principal_kind = ? AND principal_id = ?`, PrincipalDealer, id); err != nil {
			return fmt.Errorf("delete dealer: %w", err)
		}
		return nil
	})
}

// ListDealers returns a page of dealers and the total that match.
func (s *DB) ListDealers(ctx context.Context, opts ListOptions) ([]Dealer, int, error) {
	return listPage(ctx, s, dealerList, dealerCols, `dealers WHERE 1=1`, nil, opts, scanDealer, "dealers")
}

// TenantDealers returns the dealers tenant is assigned to.
func (s *DB) TenantDealers(ctx context.Context, tenant pbx.TenantID) ([]Dealer, error) {
	rows, err := s.query(ctx, `SELECT `+dealerCols+` FROM dealers WHERE id IN (SELECT dealer_id FROM tenant_dealers WHERE tenant_id = ?) ORDER BY id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("tenant dealers: %w", err)
	}
	defer rows.Close()
	var out []Dealer
	for rows.Next() {
		d, err := scanDealer(rows)
		if err != nil {
			return nil, fmt.Errorf("tenant dealers: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// AssignTenant designates tenant to dealer. Assigning twice is not an
// error. An unknown tenant or dealer is ENOTFOUND, and a dealer that already
// has its max_tenants tenants is EFORBIDDEN.
func (s *DB) AssignTenant(ctx context.Context, tenant pbx.TenantID, dealer pbx.ID) error {
	return s.tx(ctx, func(tx *Tx) error {
		var max int
		if err := tx.queryRow(ctx, `SELECT max_tenants FROM dealers WHERE id = ?`, dealer).Scan(&max); err != nil {
			return notFound(err, "dealer")
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM tenants WHERE id = ?`, tenant).Scan(&n); err != nil {
			return fmt.Errorf("assign tenant: %w", err)
		} else if n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "tenant not found")
		}
		var has, count int
		if err := tx.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN tenant_id = ? THEN 1 ELSE 0 END), 0) FROM tenant_dealers WHERE dealer_id = ?`,
			tenant, dealer).Scan(&count, &has); err != nil {
			return fmt.Errorf("assign tenant: %w", err)
		}
		if has > 0 {
			return nil
		}
		if count >= max {
			return pbx.Errorf(pbx.EFORBIDDEN, "the dealer may have at most %d tenants", max)
		}
		if _, err := tx.exec(ctx, `INSERT INTO tenant_dealers (tenant_id, dealer_id) VALUES (?, ?)`, tenant, dealer); err != nil {
			return fmt.Errorf("assign tenant: %w", err)
		}
		return nil
	})
}

// UnassignTenant removes tenant from dealer. A pair that is not assigned is
// ENOTFOUND. The dealer's sessions that had switched into the tenant go back
// to the system scope.
func (s *DB) UnassignTenant(ctx context.Context, tenant pbx.TenantID, dealer pbx.ID) error {
	return s.tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM tenant_dealers WHERE tenant_id = ? AND dealer_id = ?`, tenant, dealer)
		if err != nil {
			return fmt.Errorf("unassign tenant: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "the tenant is not assigned to the dealer")
		}
		_, err = tx.exec(ctx, `UPDATE tokens SET scope_tenant_id = 0 WHERE principal_kind = ? AND principal_id = ? AND scope_tenant_id = ?`,
			PrincipalDealer, dealer, tenant)
		return err
	})
}
