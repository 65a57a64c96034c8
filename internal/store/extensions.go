package store

import (
	"context"

	"github.com/gopbx/gopbx/internal/pbx"
)

// claimExtension takes number in tenant's extension namespace for an owner.
// A number already taken by anything (a user, a ring group...) is ECONFLICT
// naming "extension_number".
func (t *Tx) claimExtension(ctx context.Context, tenant pbx.TenantID, number string, typ pbx.ExtensionType, owner pbx.ID) error {
	_, err := t.exec(ctx, `INSERT INTO extension_numbers (tenant_id, number, type, owner_id) VALUES (?,?,?,?)`, tenant, number, typ, owner)
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "extension_number", Message: "extension number already in use"}
	}
	return err
}

// Extension returns what owns number in tenant's extension namespace.
func (s *DB) Extension(ctx context.Context, tenant pbx.TenantID, number string) (pbx.Extension, error) {
	e := pbx.Extension{Tenant: tenant, Number: number}
	err := s.queryRow(ctx, `SELECT type, owner_id FROM extension_numbers WHERE tenant_id = ? AND number = ?`, tenant, number).
		Scan(&e.Type, &e.Owner)
	if err != nil {
		return e, notFound(err, "extension number")
	}
	if e.Type == pbx.ExtensionUser {
		err = s.queryRow(ctx, `SELECT display_name FROM users WHERE tenant_id = ? AND id = ?`, tenant, e.Owner).Scan(&e.Name)
	}
	return e, notFound(err, "extension number")
}
