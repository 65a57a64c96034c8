package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gopbx/gopbx/internal/pbx"
)

const userCols = `id, tenant_id, name, enabled, email, display_name, role, mobile_phone, work_phone, home_phone,
	address, department, extension_number, extension_password, password_hash, settings, created_at, updated_at`

var userList = &listSpec{
	fields: map[string]column{
		"id":               {"id", colID},
		"name":             {"name", colText},
		"enabled":          {"enabled", colBool},
		"email":            {"email", colText},
		"display_name":     {"display_name", colText},
		"role":             {"role", colText},
		"mobile_phone":     {"mobile_phone", colText},
		"work_phone":       {"work_phone", colText},
		"home_phone":       {"home_phone", colText},
		"address":          {"address", colText},
		"department":       {"department", colText},
		"extension_number": {"extension_number", colText},
		"created_at":       {"created_at", colTime},
	},
	search:  []string{"name", "display_name", "extension_number", "email"},
	orderBy: "id ASC",
}

func scanUser(row interface{ Scan(...any) error }) (pbx.User, error) {
	var u pbx.User
	var mobile, work, home, addr, dept sql.NullString
	var settings string
	var created, updated int64
	err := row.Scan(&u.ID, &u.Tenant, &u.Name, &u.Enabled, &u.Email, &u.DisplayName, &u.Role, &mobile, &work, &home,
		&addr, &dept, &u.ExtensionNumber, &u.ExtensionPassword, &u.PasswordHash, &settings, &created, &updated)
	u.MobilePhone, u.WorkPhone, u.HomePhone, u.Address, u.Department = mobile.String, work.String, home.String, addr.String, dept.String
	u.Settings = []byte(settings)
	u.CreatedAt, u.UpdatedAt = msTime(created), msTime(updated)
	return u, err
}

// CreateUser stores a new user of tenant and claims its extension number in
// the tenant's namespace, in one transaction: a taken name or number is
// ECONFLICT naming the field, and nothing is written.
func (s *DB) CreateUser(ctx context.Context, tenant pbx.TenantID, u *pbx.User) error {
	u.ID, u.Tenant = s.NewID(), tenant
	now := s.nowMS()
	err := s.tx(ctx, func(tx *Tx) error {
		if err := tx.claimExtension(ctx, tenant, u.ExtensionNumber, pbx.ExtensionUser, u.ID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			u.ID, tenant, u.Name, u.Enabled, u.Email, u.DisplayName, u.Role, nullString(u.MobilePhone), nullString(u.WorkPhone),
			nullString(u.HomePhone), nullString(u.Address), nullString(u.Department), u.ExtensionNumber, u.ExtensionPassword,
			u.PasswordHash, jsonOrEmpty(u.Settings), now, now)
		if isUniqueViolation(err) {
			return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "user name already in use"}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = msTime(now), msTime(now)
	return nil
}

// UpdateUser writes every field of u back; a changed extension number moves
// its claim in the namespace within the same transaction.
func (s *DB) UpdateUser(ctx context.Context, tenant pbx.TenantID, u *pbx.User) error {
	now := s.nowMS()
	err := s.tx(ctx, func(tx *Tx) error {
		var old string
		err := tx.queryRow(ctx, `SELECT extension_number FROM users WHERE tenant_id = ? AND id = ?`, tenant, u.ID).Scan(&old)
		if err != nil {
			return notFound(err, "user")
		}
		if old != u.ExtensionNumber {
			if _, err := tx.exec(ctx, `DELETE FROM extension_numbers WHERE tenant_id = ? AND number = ?`, tenant, old); err != nil {
				return err
			}
			if err := tx.claimExtension(ctx, tenant, u.ExtensionNumber, pbx.ExtensionUser, u.ID); err != nil {
				return err
			}
		}
		_, err = tx.exec(ctx, `UPDATE users SET name=?, enabled=?, email=?, display_name=?, role=?, mobile_phone=?, work_phone=?,
			home_phone=?, address=?, department=?, extension_number=?, extension_password=?, password_hash=?, settings=?, updated_at=?
			WHERE tenant_id = ? AND id = ?`,
			u.Name, u.Enabled, u.Email, u.DisplayName, u.Role, nullString(u.MobilePhone), nullString(u.WorkPhone),
			nullString(u.HomePhone), nullString(u.Address), nullString(u.Department), u.ExtensionNumber, u.ExtensionPassword,
			u.PasswordHash, jsonOrEmpty(u.Settings), now, tenant, u.ID)
		if isUniqueViolation(err) {
			return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "user name already in use"}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	u.UpdatedAt = msTime(now)
	return nil
}

// User returns the user of tenant with the given ID.
func (s *DB) User(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (pbx.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND id = ?`, tenant, id))
	return u, notFound(err, "user")
}

// UserByName returns the user of tenant with the given web login name.
func (s *DB) UserByName(ctx context.Context, tenant pbx.TenantID, name string) (pbx.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND name = ?`, tenant, name))
	return u, notFound(err, "user")
}

// UserByExtension returns the user of tenant that owns extension number.
// Signalling uses it for digest authentication and to find a callee.
func (s *DB) UserByExtension(ctx context.Context, tenant pbx.TenantID, number string) (pbx.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND extension_number = ?`, tenant, number))
	return u, notFound(err, "user")
}

// DeleteUser removes a user and frees its extension number.
func (s *DB) DeleteUser(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	return s.tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM users WHERE tenant_id = ? AND id = ?`, tenant, id)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "user not found")
		}
		_, err = tx.exec(ctx, `DELETE FROM extension_numbers WHERE tenant_id = ? AND type = ? AND owner_id = ?`, tenant, pbx.ExtensionUser, id)
		return err
	})
}

// ListUsers returns a page of tenant's users and the total that match.
func (s *DB) ListUsers(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]pbx.User, int, error) {
	where, args, order, limit, offset, err := s.compile(userList, opts)
	if err != nil {
		return nil, 0, err
	}
	args = append([]any{tenant}, args...)
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id = ?`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	rows, err := s.query(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ?`+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []pbx.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

// CountUsers returns how many users tenant has.
func (s *DB) CountUsers(ctx context.Context, tenant pbx.TenantID) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id = ?`, tenant).Scan(&n)
	return n, err
}
