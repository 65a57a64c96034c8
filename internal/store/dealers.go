package store

import (
	"context"
	"database/sql"

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
