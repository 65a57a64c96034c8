package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Role is a role of a tenant: a built-in one, which the API describes and
// nobody may change, or a custom one stored here with PortSIP's permission
// booleans as the JSON object the API owns.
type Role struct {
	Tenant      pbx.TenantID
	Name        pbx.Role
	Description string
	Permissions json.RawMessage
	Builtin     bool
	CreatedAt   time.Time
}

var roleList = &listSpec{
	fields: map[string]column{
		"name":        {"name", colText},
		"description": {"description", colText},
	},
	search:  []string{"name", "description"},
	orderBy: "builtin DESC, created_at ASC, name ASC",
}

func roleConflict(err error) error {
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "role name already in use"}
	}
	return err
}

// CreateRole stores a custom role of tenant. A name already taken is
// ECONFLICT naming "name"; the caller refuses built-in names.
func (s *DB) CreateRole(ctx context.Context, tenant pbx.TenantID, r *Role) error {
	r.Tenant, r.Builtin = tenant, false
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO roles (tenant_id, name, description, permissions, created_at) VALUES (?,?,?,?,?)`,
		tenant, r.Name, nullString(r.Description), jsonOrEmpty(r.Permissions), now)
	if err != nil {
		return fmt.Errorf("create role: %w", roleConflict(err))
	}
	r.CreatedAt = msTime(now)
	return nil
}

// CustomRole returns tenant's custom role with the given name.
func (s *DB) CustomRole(ctx context.Context, tenant pbx.TenantID, name pbx.Role) (Role, error) {
	r := Role{Tenant: tenant}
	var desc sql.NullString
	var perms string
	var created int64
	err := s.queryRow(ctx, `SELECT name, description, permissions, created_at FROM roles WHERE tenant_id = ? AND name = ?`, tenant, name).
		Scan(&r.Name, &desc, &perms, &created)
	r.Description, r.Permissions, r.CreatedAt = desc.String, json.RawMessage(perms), msTime(created)
	return r, notFound(err, "role")
}

// UpdateRole writes r over tenant's custom role named old. A rename moves
// the users that have the role to the new name in the same transaction.
func (s *DB) UpdateRole(ctx context.Context, tenant pbx.TenantID, old pbx.Role, r *Role) error {
	return s.tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE roles SET name = ?, description = ?, permissions = ? WHERE tenant_id = ? AND name = ?`,
			r.Name, nullString(r.Description), jsonOrEmpty(r.Permissions), tenant, old)
		if err != nil {
			return fmt.Errorf("update role: %w", roleConflict(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "role not found")
		}
		if r.Name != old {
			if _, err := tx.exec(ctx, `UPDATE users SET role = ? WHERE tenant_id = ? AND role = ?`, r.Name, tenant, old); err != nil {
				return fmt.Errorf("update role: %w", err)
			}
		}
		return nil
	})
}

// DeleteRole removes tenant's custom role. A role that users still have is
// ECONFLICT, and nothing is removed.
func (s *DB) DeleteRole(ctx context.Context, tenant pbx.TenantID, name pbx.Role) error {
	return s.tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id = ? AND role = ?`, tenant, name).Scan(&n); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		if n > 0 {
			return pbx.Errorf(pbx.ECONFLICT, "role %s is assigned to %d users", name, n)
		}
		res, err := tx.exec(ctx, `DELETE FROM roles WHERE tenant_id = ? AND name = ?`, tenant, name)
		if err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "role not found")
		}
		return nil
	})
}

// ListRoles returns a page of tenant's roles, the built-in ones (given by
// the caller, which owns their descriptions) first, and the total that
// match. Built-ins take part in filter, search and order like stored roles.
func (s *DB) ListRoles(ctx context.Context, tenant pbx.TenantID, builtins []Role, opts ListOptions) ([]Role, int, error) {
	where, args, order, limit, offset, err := s.compile(roleList, opts)
	if err != nil {
		return nil, 0, err
	}
	var from strings.Builder
	var fromArgs []any
	from.WriteString(`(SELECT name, description, 0 AS builtin, created_at FROM roles WHERE tenant_id = ?`)
	fromArgs = append(fromArgs, tenant)
	for i, b := range builtins {
		// created_at keeps the built-ins in the caller's order.
		from.WriteString(` UNION ALL SELECT CAST(? AS TEXT), CAST(? AS TEXT), 1, CAST(? AS BIGINT)`)
		fromArgs = append(fromArgs, string(b.Name), b.Description, int64(i))
	}
	from.WriteString(`) r`)
	args = append(fromArgs, args...)
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM `+from.String()+` WHERE 1=1`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list roles: %w", err)
	}
	rows, err := s.query(ctx, `SELECT name, description, builtin FROM `+from.String()+` WHERE 1=1`+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		r := Role{Tenant: tenant}
		var desc sql.NullString
		var builtin int
		if err := rows.Scan(&r.Name, &desc, &builtin); err != nil {
			return nil, 0, fmt.Errorf("list roles: %w", err)
		}
		r.Description, r.Builtin = desc.String, builtin == 1
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// UserRole returns the current role of tenant's user id and, when it is a
// custom role, that role's permissions JSON; for a built-in role, which has
// no row here, the permissions are nil. It is one query on the primary keys
// of users and roles, cheap enough to run on every authenticated request.
// An unknown user is ENOTFOUND.
func (s *DB) UserRole(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (pbx.Role, json.RawMessage, error) {
	var role pbx.Role
	var perms sql.NullString
	err := s.queryRow(ctx, `SELECT u.role, r.permissions FROM users u LEFT JOIN roles r ON r.tenant_id = u.tenant_id AND r.name = u.role
		WHERE u.tenant_id = ? AND u.id = ?`, tenant, id).Scan(&role, &perms)
	if err != nil {
		return "", nil, notFound(err, "user")
	}
	if !perms.Valid {
		return role, nil, nil
	}
	return role, json.RawMessage(perms.String), nil
}
