package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
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
// ECONFLICT naming the field, a tenant at its max_extensions is EFORBIDDEN,
// and in either case nothing is written.
func (s *DB) CreateUser(ctx context.Context, tenant pbx.TenantID, u *pbx.User) error {
	u.ID, u.Tenant = s.NewID(), tenant
	now := s.nowMS()
	err := s.tx(ctx, func(tx *Tx) error {
		if err := tx.checkExtensionQuota(ctx, tenant); err != nil {
			return err
		}
		if err := tx.checkDealerExtensionQuota(ctx, tenant); err != nil {
			return err
		}
		if err := tx.claimExtension(ctx, tenant, u.ExtensionNumber, pbx.ExtensionUser, u.ID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO users (`+userCols+`, display_name_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			u.ID, tenant, u.Name, u.Enabled, u.Email, u.DisplayName, u.Role, nullString(u.MobilePhone), nullString(u.WorkPhone),
			nullString(u.HomePhone), nullString(u.Address), nullString(u.Department), u.ExtensionNumber, u.ExtensionPassword,
			u.PasswordHash, jsonOrEmpty(u.Settings), now, now, displayNameKey(u.DisplayName))
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
			home_phone=?, address=?, department=?, extension_number=?, extension_password=?, password_hash=?, settings=?, updated_at=?,
			display_name_key=? WHERE tenant_id = ? AND id = ?`,
			u.Name, u.Enabled, u.Email, u.DisplayName, u.Role, nullString(u.MobilePhone), nullString(u.WorkPhone),
			nullString(u.HomePhone), nullString(u.Address), nullString(u.Department), u.ExtensionNumber, u.ExtensionPassword,
			u.PasswordHash, jsonOrEmpty(u.Settings), now, displayNameKey(u.DisplayName), tenant, u.ID)
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
	if usesField(opts.Filter, displayNameKeyField) {
		return nil, 0, pbx.FieldErrorf("filter", "unknown field %q", displayNameKeyField)
	}
	spec := userList
	if usesField(opts.Filter, "display_name") {
		// A startswith on the display name becomes a range of
		// display_name_key, which an index answers, when every row of the
		// tenant has its key.
		var stale int
		err := s.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE tenant_id = ? AND display_name_key = '' AND display_name <> '' LIMIT 1) s`,
			tenant).Scan(&stale)
		if err != nil {
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		if stale == 0 {
			opts.Filter, spec = keyRanges(opts.Filter), userListKeyed
		}
	}
	where, args, order, limit, offset, err := s.compile(spec, opts)
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

// checkExtensionQuota refuses a new user when tenant already has
// max_extensions users (0 means no limit). On PostgreSQL a limited tenant's
// row is locked so that two concurrent creates cannot both take the last place;
// SQLite's IMMEDIATE transactions already serialise writers.
func (t *Tx) checkExtensionQuota(ctx context.Context, tenant pbx.TenantID) error {
	var max int
	if err := t.queryRow(ctx, `SELECT max_extensions FROM tenants WHERE id = ?`+t.s.d.forUpdate(), tenant).Scan(&max); err != nil {
		return notFound(err, "tenant")
	}
	if max <= 0 {
		return nil
	}
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id = ?`, tenant).Scan(&n); err != nil {
		return err
	}
	if n >= max {
		return pbx.Errorf(pbx.EFORBIDDEN, "the tenant has reached its limit of %d extensions", max)
	}
	return nil
}

// CountUsersWithRole returns how many of tenant's users have role.
func (s *DB) CountUsersWithRole(ctx context.Context, tenant pbx.TenantID, role pbx.Role) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id = ? AND role = ?`, tenant, role).Scan(&n)
	return n, err
}

// SetUserRole changes the role of one of tenant's users.
func (s *DB) SetUserRole(ctx context.Context, tenant pbx.TenantID, id pbx.ID, role pbx.Role) error {
	return s.setUserColumn(ctx, tenant, id, "role", role)
}

// SetUserPasswordHash replaces the web password hash of one of tenant's
// users, leaving every other field as it is.
func (s *DB) SetUserPasswordHash(ctx context.Context, tenant pbx.TenantID, id pbx.ID, hash string) error {
	return s.setUserColumn(ctx, tenant, id, "password_hash", hash)
}

// SetUserExtensionPassword replaces the SIP password of one of tenant's users.
func (s *DB) SetUserExtensionPassword(ctx context.Context, tenant pbx.TenantID, id pbx.ID, pw string) error {
	return s.setUserColumn(ctx, tenant, id, "extension_password", pw)
}

// setUserColumn writes one column of a user; col is a constant of the caller.
func (s *DB) setUserColumn(ctx context.Context, tenant pbx.TenantID, id pbx.ID, col string, v any) error {
	res, err := s.exec(ctx, `UPDATE users SET `+col+` = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`, v, s.nowMS(), tenant, id)
	if err != nil {
		return fmt.Errorf("set user %s: %w", col, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pbx.Errorf(pbx.ENOTFOUND, "user not found")
	}
	return nil
}

// displayNameKeyBytes is how many bytes of a lower-cased display name its
// key holds: enough for any prefix people type, and short enough for an
// index entry.
const displayNameKeyBytes = 64

// displayNameKey is the value of users.display_name_key: the first bytes of
// the lower-cased name, each as three decimal digits. Digit strings sort
// byte-wise under every collation, so a prefix is an index range in SQLite
// and PostgreSQL alike.
func displayNameKey(name string) string {
	b := []byte(strings.ToLower(name))
	if len(b) > displayNameKeyBytes {
		b = b[:displayNameKeyBytes]
	}
	var k strings.Builder
	k.Grow(3 * len(b))
	for _, c := range b {
		fmt.Fprintf(&k, "%03d", c)
	}
	return k.String()
}

// displayNameKeyRange returns the key range [lo, hi) that holds the key of
// every name starting with prefix, case-insensitively, or "" when it cannot
// say: an empty or non-ASCII prefix (SQLite and PostgreSQL fold non-ASCII
// case differently from Go).
func displayNameKeyRange(prefix string) (lo, hi string) {
	if prefix == "" {
		return "", ""
	}
	for i := 0; i < len(prefix); i++ {
		if prefix[i] >= 0x80 {
			return "", ""
		}
	}
	lo = displayNameKey(prefix)
	// The first digit string after every one that starts with lo is lo plus
	// one, as a decimal number. Only digits are compared: collations order
	// punctuation differently, and some ignore it.
	b := []byte(lo)
	i := len(b) - 1
	for ; i >= 0 && b[i] == '9'; i-- {
		b[i] = '0'
	}
	if i < 0 {
		return "", "" // never happens: a byte's first digit is at most 2
	}
	b[i]++
	return lo, string(b)
}

// displayNameKeyField is the hidden list field of display_name_key: only
// keyRanges writes it into a filter.
const displayNameKeyField = "display_name_key"

// userListKeyed is userList with the hidden key field.
var userListKeyed = func() *listSpec {
	spec := *userList
	spec.fields = make(map[string]column, len(userList.fields)+1)
	for k, v := range userList.fields {
		spec.fields[k] = v
	}
	spec.fields[displayNameKeyField] = column{"display_name_key", colText}
	return &spec
}()

// keyRanges returns filter with each startswith(display_name, P) whose key
// range is exact (P is ASCII and within the key's length) replaced by that
// range of display_name_key. Other terms are kept as they are. The range
// folds case as Go does, which differs from SQLite's ASCII-only LIKE only
// for the few non-ASCII letters that lower-case to ASCII (the Kelvin sign,
// dotted capital I).
func keyRanges(filter query.Expr) query.Expr {
	switch e := filter.(type) {
	case *query.Func:
		if e.Name != "startswith" || e.Field != "display_name" || len(e.Arg) > displayNameKeyBytes {
			return e
		}
		lo, hi := displayNameKeyRange(e.Arg)
		if lo == "" {
			return e
		}
		return &query.Logical{Op: "and",
			Left:  &query.Compare{Field: displayNameKeyField, Op: "ge", Value: query.Value{Kind: query.KindString, Str: lo}},
			Right: &query.Compare{Field: displayNameKeyField, Op: "lt", Value: query.Value{Kind: query.KindString, Str: hi}}}
	case *query.Logical:
		return &query.Logical{Op: e.Op, Left: keyRanges(e.Left), Right: keyRanges(e.Right)}
	case *query.Not:
		return &query.Not{X: keyRanges(e.X)}
	}
	return filter
}

// usesField reports whether filter names field.
func usesField(filter query.Expr, field string) bool {
	switch e := filter.(type) {
	case *query.Func:
		return e.Field == field
	case *query.Compare:
		return e.Field == field
	case *query.Logical:
		return usesField(e.Left, field) || usesField(e.Right, field)
	case *query.Not:
		return usesField(e.X, field)
	}
	return false
}

// tenantUserQuery joins a tenant, found by domain, to its user that owns an
// extension: digest authentication needs both for every request, and one
// query costs half of two.
var tenantUserQuery = `SELECT ` + qualify("t", tenantCols) + `, ` + qualify("u", userCols) + `
	FROM tenants t JOIN users u ON u.tenant_id = t.id AND u.extension_number = ?
	WHERE t.domain = ?`

// TenantUserByExtension returns the tenant whose domain is domain and its
// user that owns extension number: what TenantByDomain and UserByExtension
// return, in one query. Either missing is ENOTFOUND. Signalling calls it for
// every authenticated INVITE and SUBSCRIBE; the store caches nothing, so a
// changed password or a disabled user shows at once.
func (s *DB) TenantUserByExtension(ctx context.Context, domain, number string) (pbx.Tenant, pbx.User, error) {
	row := s.queryRow(ctx, tenantUserQuery, number, strings.ToLower(domain))
	// scanTenant and scanUser each convert what they scan after Scan
	// returns, so the one real Scan runs inside both.
	var u pbx.User
	t, err := scanTenant(scanFunc(func(td ...any) error {
		var err error
		u, err = scanUser(scanFunc(func(ud ...any) error {
			return row.Scan(append(td, ud...)...)
		}))
		return err
	}))
	if err != nil {
		return pbx.Tenant{}, pbx.User{}, notFound(err, "user")
	}
	return t, u, nil
}

// ExtensionCredential is what a digest check needs of an extension user
// and its tenant, without the rest of either record.
type ExtensionCredential struct {
	Tenant        pbx.TenantID
	TenantEnabled bool
	User          pbx.ID
	UserEnabled   bool
	Extension     string
	Password      string // the SIP password, in clear as digest needs it
}

const extensionCredentialQuery = `SELECT t.id, t.enabled, u.id, u.enabled, u.extension_number, u.extension_password
	FROM tenants t JOIN users u ON u.tenant_id = t.id AND u.extension_number = ?
	WHERE t.domain = ?`

// ExtensionCredential returns the credential of the user of the tenant
// whose domain is domain that owns extension number: TenantUserByExtension
// reduced to six columns, for REGISTER's digest check. Either missing is
// ENOTFOUND.
func (s *DB) ExtensionCredential(ctx context.Context, domain, number string) (ExtensionCredential, error) {
	var c ExtensionCredential
	err := s.queryRow(ctx, extensionCredentialQuery, number, strings.ToLower(domain)).
		Scan(&c.Tenant, &c.TenantEnabled, &c.User, &c.UserEnabled, &c.Extension, &c.Password)
	if err != nil {
		return ExtensionCredential{}, notFound(err, "user")
	}
	return c, nil
}

// scanFunc adapts a function to the Scan method of *sql.Row.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// qualify prefixes each column of a comma-separated list with alias.
func qualify(alias, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = alias + "." + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}
