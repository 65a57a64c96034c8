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

// Group is a user group of a tenant: a name, a description and the outbound
// caller IDs its members may use, kept as the JSON array the API owns.
type Group struct {
	ID                pbx.ID
	Tenant            pbx.TenantID
	Name              string
	Description       string
	OutboundCallerIDs json.RawMessage
	CreatedAt         time.Time
}

const groupCols = `id, tenant_id, name, description, outbound_caller_ids, created_at`

var groupList = &listSpec{
	fields: map[string]column{
		"id":          {"id", colID},
		"name":        {"name", colText},
		"description": {"description", colText},
		"created_at":  {"created_at", colTime},
	},
	search:  []string{"name", "description"},
	orderBy: "id ASC",
}

func scanGroup(row interface{ Scan(...any) error }) (Group, error) {
	var g Group
	var desc sql.NullString
	var callerIDs string
	var created int64
	err := row.Scan(&g.ID, &g.Tenant, &g.Name, &desc, &callerIDs, &created)
	g.Description, g.OutboundCallerIDs, g.CreatedAt = desc.String, json.RawMessage(callerIDs), msTime(created)
	return g, err
}

// groupConflict turns a unique violation on the group's name into ECONFLICT.
func groupConflict(err error) error {
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "group name already in use"}
	}
	return err
}

// CreateGroup stores a new user group of tenant. A name already used by
// another group of the tenant is ECONFLICT naming "name".
func (s *DB) CreateGroup(ctx context.Context, tenant pbx.TenantID, g *Group) error {
	g.ID, g.Tenant = s.NewID(), tenant
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO user_groups (`+groupCols+`) VALUES (?,?,?,?,?,?)`,
		g.ID, tenant, g.Name, nullString(g.Description), jsonArrayOrEmpty(g.OutboundCallerIDs), now)
	if err != nil {
		return fmt.Errorf("create group: %w", groupConflict(err))
	}
	g.CreatedAt = msTime(now)
	return nil
}

// UpdateGroup writes every field of g back.
func (s *DB) UpdateGroup(ctx context.Context, tenant pbx.TenantID, g *Group) error {
	return s.execOne(ctx, "update group", "group", groupConflict, `UPDATE user_groups SET name = ?, description = ?, outbound_caller_ids = ? WHERE tenant_id = ? AND id = ?`,
		g.Name, nullString(g.Description), jsonArrayOrEmpty(g.OutboundCallerIDs), tenant, g.ID)
}

// Group returns the user group of tenant with the given ID.
func (s *DB) Group(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (Group, error) {
	g, err := scanGroup(s.queryRow(ctx, `SELECT `+groupCols+` FROM user_groups WHERE tenant_id = ? AND id = ?`, tenant, id))
	return g, notFound(err, "group")
}

// DeleteGroup removes a user group; its memberships go with it.
func (s *DB) DeleteGroup(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	return s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM user_group_members WHERE group_id IN (SELECT id FROM user_groups WHERE tenant_id = ? AND id = ?)`, tenant, id); err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		res, err := tx.exec(ctx, `DELETE FROM user_groups WHERE tenant_id = ? AND id = ?`, tenant, id)
		if err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "group not found")
		}
		return nil
	})
}

// ListGroups returns a page of tenant's user groups and the total that match.
func (s *DB) ListGroups(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]Group, int, error) {
	return listPage(ctx, s, groupList, groupCols, `user_groups WHERE tenant_id = ?`, []any{tenant}, opts, scanGroup, "groups")
}

// GroupMembers returns the users of a group of tenant, by extension number.
// A group of another tenant is ENOTFOUND.
func (s *DB) GroupMembers(ctx context.Context, tenant pbx.TenantID, id pbx.ID) ([]pbx.User, error) {
	if _, err := s.Group(ctx, tenant, id); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT `+prefixed("u.", userCols)+` FROM users u JOIN user_group_members m ON m.user_id = u.id
		WHERE u.tenant_id = ? AND m.group_id = ? ORDER BY u.extension_number`, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("list group members: %w", err)
	}
	defer rows.Close()
	var out []pbx.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list group members: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// GroupMember returns the member of a group of tenant with the given
// extension number; a number that is not a member is ENOTFOUND.
func (s *DB) GroupMember(ctx context.Context, tenant pbx.TenantID, id pbx.ID, number string) (pbx.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+prefixed("u.", userCols)+` FROM users u
		JOIN user_group_members m ON m.user_id = u.id JOIN user_groups g ON g.id = m.group_id
		WHERE u.tenant_id = ? AND g.tenant_id = ? AND g.id = ? AND u.extension_number = ?`, tenant, tenant, id, number))
	return u, notFound(err, "group member")
}

// AddGroupMember adds the user with extension number to a group of tenant.
// An unknown group or number is ENOTFOUND, and a user already in the group
// is ECONFLICT naming "extension_number".
func (s *DB) AddGroupMember(ctx context.Context, tenant pbx.TenantID, id pbx.ID, number string) error {
	return s.tx(ctx, func(tx *Tx) error {
		var gid, uid pbx.ID
		if err := tx.queryRow(ctx, `SELECT id FROM user_groups WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&gid); err != nil {
			return notFound(err, "group")
		}
		if err := tx.queryRow(ctx, `SELECT id FROM users WHERE tenant_id = ? AND extension_number = ?`, tenant, number).Scan(&uid); err != nil {
			return notFound(err, "user")
		}
		_, err := tx.exec(ctx, `INSERT INTO user_group_members (group_id, user_id) VALUES (?, ?)`, gid, uid)
		if isUniqueViolation(err) {
			return &pbx.Error{Code: pbx.ECONFLICT, Field: "extension_number", Message: "already a member of the group"}
		}
		return err
	})
}

// RemoveGroupMember takes the user with extension number out of a group of
// tenant; a number that is not a member is ENOTFOUND.
func (s *DB) RemoveGroupMember(ctx context.Context, tenant pbx.TenantID, id pbx.ID, number string) error {
	return s.execOne(ctx, "remove group member", "group member", nil, `DELETE FROM user_group_members WHERE group_id IN (SELECT id FROM user_groups WHERE tenant_id = ? AND id = ?)
		AND user_id IN (SELECT id FROM users WHERE tenant_id = ? AND extension_number = ?)`, tenant, id, tenant, number)
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

func jsonArrayOrEmpty(b []byte) string {
	if len(b) == 0 || string(b) == "null" {
		return "[]"
	}
	return string(b)
}
