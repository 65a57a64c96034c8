package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gopbx/gopbx/internal/pbx"
)

// DealerUsage is what a dealer's tenants hold, to weigh against the
// dealer's max_tenants and max_extensions.
type DealerUsage struct {
	Tenants int // tenants assigned to the dealer
	Users   int // users of those tenants together
}

// DealerUsage counts the tenants assigned to dealer and their users.
func (s *DB) DealerUsage(ctx context.Context, dealer pbx.ID) (DealerUsage, error) {
	var u DealerUsage
	err := s.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM tenant_dealers WHERE dealer_id = ?),
		(SELECT COUNT(*) FROM users WHERE tenant_id IN (SELECT tenant_id FROM tenant_dealers WHERE dealer_id = ?))`,
		dealer, dealer).Scan(&u.Tenants, &u.Users)
	if err != nil {
		return u, fmt.Errorf("dealer usage: %w", err)
	}
	return u, nil
}

// checkDealerExtensionQuota refuses a new user of tenant when a dealer the
// tenant is assigned to already has max_extensions users across all its
// tenants. 0 allows none, as a dealer's max_tenants of 0 does. A tenant of
// no dealer has no such limit.
//
// On PostgreSQL the dealers' rows are locked first, in ID order, and counted
// in a later statement, so that two creates in different tenants of one
// dealer cannot both take its last place (checkExtensionQuota's pattern);
// SQLite's IMMEDIATE transactions already serialise writers.
func (t *Tx) checkDealerExtensionQuota(ctx context.Context, tenant pbx.TenantID) error {
	var dealers int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT id FROM dealers
		WHERE id IN (SELECT dealer_id FROM tenant_dealers WHERE tenant_id = ?) ORDER BY id`+t.s.d.forUpdate()+`) locked`,
		tenant).Scan(&dealers); err != nil {
		return fmt.Errorf("lock dealers: %w", err)
	}
	if dealers == 0 {
		return nil
	}
	// The dealer closest to its limit decides.
	var max, n int
	err := t.queryRow(ctx, `SELECT max_extensions, used FROM (
		SELECT d.max_extensions,
			(SELECT COUNT(*) FROM users WHERE tenant_id IN (SELECT tenant_id FROM tenant_dealers WHERE dealer_id = d.id)) AS used
		FROM dealers d WHERE d.id IN (SELECT dealer_id FROM tenant_dealers WHERE tenant_id = ?)) q
		ORDER BY used - max_extensions DESC LIMIT 1`, tenant).Scan(&max, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("count dealer extensions: %w", err)
	}
	if n >= max {
		return pbx.Errorf(pbx.EFORBIDDEN, "the dealer has reached its limit of %d extensions (max_extensions)", max)
	}
	return nil
}
