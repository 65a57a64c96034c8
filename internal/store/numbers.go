package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Holiday is a tenant's day or span of days off. Its date fields are Spec,
// a JSON object the API owns.
type Holiday struct {
	ID        pbx.ID
	Tenant    pbx.TenantID
	Name      string
	Region    string
	Spec      json.RawMessage
	CreatedAt time.Time
}

const holidayCols = `id, tenant_id, name, region, spec, created_at`

var holidayList = &listSpec{
	fields: map[string]column{
		"id":     {"id", colID},
		"name":   {"name", colText},
		"region": {"region", colText},
	},
	search:  []string{"name", "region"},
	orderBy: "id ASC",
}

func scanHoliday(row interface{ Scan(...any) error }) (Holiday, error) {
	var h Holiday
	var region sql.NullString
	var spec string
	var created int64
	err := row.Scan(&h.ID, &h.Tenant, &h.Name, &region, &spec, &created)
	h.Region, h.Spec, h.CreatedAt = region.String, json.RawMessage(spec), msTime(created)
	return h, err
}

func holidayConflict(err error) error {
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "holiday name already in use"}
	}
	return err
}

func validateHoliday(h *Holiday) error {
	switch {
	case h.Name == "":
		return pbx.FieldErrorf("name", "name is required")
	case len(h.Name) > 64:
		return pbx.FieldErrorf("name", "name is longer than 64 characters")
	}
	return nil
}

// CreateHoliday stores a new holiday of tenant. A name already used by
// another holiday of the tenant is ECONFLICT naming "name".
func (s *DB) CreateHoliday(ctx context.Context, tenant pbx.TenantID, h *Holiday) error {
	if err := validateHoliday(h); err != nil {
		return err
	}
	h.ID, h.Tenant = s.NewID(), tenant
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO holidays (`+holidayCols+`) VALUES (?,?,?,?,?,?)`,
		h.ID, tenant, h.Name, nullString(h.Region), jsonObjectOrEmpty(h.Spec), now)
	if err != nil {
		return fmt.Errorf("create holiday: %w", holidayConflict(err))
	}
	h.CreatedAt = msTime(now)
	return nil
}

// UpdateHoliday writes every field of h back.
func (s *DB) UpdateHoliday(ctx context.Context, tenant pbx.TenantID, h *Holiday) error {
	if err := validateHoliday(h); err != nil {
		return err
	}
	return s.execOne(ctx, "update holiday", "holiday", holidayConflict, `UPDATE holidays SET name = ?, region = ?, spec = ? WHERE tenant_id = ? AND id = ?`,
		h.Name, nullString(h.Region), jsonObjectOrEmpty(h.Spec), tenant, h.ID)
}

// Holiday returns the holiday of tenant with the given ID.
func (s *DB) Holiday(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (Holiday, error) {
	h, err := scanHoliday(s.queryRow(ctx, `SELECT `+holidayCols+` FROM holidays WHERE tenant_id = ? AND id = ?`, tenant, id))
	return h, notFound(err, "holiday")
}

// DeleteHoliday removes a holiday of tenant. Rules that name it stop
// showing it.
func (s *DB) DeleteHoliday(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	return s.execOne(ctx, "delete holiday", "holiday", nil, `DELETE FROM holidays WHERE tenant_id = ? AND id = ?`, tenant, id)
}

// ListHolidays returns a page of tenant's holidays and the total that match.
func (s *DB) ListHolidays(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]Holiday, int, error) {
	return listPage(ctx, s, holidayList, holidayCols, `holidays WHERE tenant_id = ?`, []any{tenant}, opts, scanHoliday, "holidays")
}

// NumberList names one of a tenant's lists of numbers.
type NumberList string

// The tenant's number lists, by table.
const (
	BlacklistedNumbers NumberList = "blacklisted_numbers" // callers refused
	DisallowedCodes    NumberList = "disallowed_codes"    // prefixes users may not dial
	EmergencyNumbers   NumberList = "emergency_numbers"   // numbers always let out
)

func (l NumberList) valid() bool {
	return l == BlacklistedNumbers || l == DisallowedCodes || l == EmergencyNumbers
}

// what is how errors name an entry of the list.
func (l NumberList) what() string {
	switch l {
	case BlacklistedNumbers:
		return "blacklisted number"
	case DisallowedCodes:
		return "disallowed code"
	}
	return "emergency number"
}

// NumberEntry is one number or prefix of a tenant's number list.
type NumberEntry struct {
	ID          pbx.ID
	Tenant      pbx.TenantID
	Number      string
	ExpireAt    time.Time // zero: never; only blacklisted numbers expire
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const numberCols = `id, tenant_id, number, expire_at, description, created_at, updated_at`

var numberListSpec = &listSpec{
	fields: map[string]column{
		"id":            {"id", colID},
		"number":        {"number", colText},
		"number_prefix": {"number", colText},
		"description":   {"description", colText},
		"expire_at":     {"expire_at", colTime},
		"created_at":    {"created_at", colTime},
		"updated_at":    {"updated_at", colTime},
	},
	search:  []string{"number", "description"},
	orderBy: "id ASC",
}

func scanNumber(row interface{ Scan(...any) error }) (NumberEntry, error) {
	var n NumberEntry
	var desc sql.NullString
	var exp, created, updated int64
	err := row.Scan(&n.ID, &n.Tenant, &n.Number, &exp, &desc, &created, &updated)
	n.Description, n.ExpireAt, n.CreatedAt, n.UpdatedAt = desc.String, msTime(exp), msTime(created), msTime(updated)
	return n, err
}

// numberConflict turns a unique violation into ECONFLICT naming field, the
// API's name of the number.
func numberConflict(err error, field string) error {
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: field, Message: "already in the list"}
	}
	return err
}

func (l NumberList) field() string {
	if l == BlacklistedNumbers {
		return "number"
	}
	return "number_prefix"
}

// CreateNumber adds an entry to one of tenant's number lists. A number
// already in the list is ECONFLICT naming the number's field.
func (s *DB) CreateNumber(ctx context.Context, l NumberList, tenant pbx.TenantID, n *NumberEntry) error {
	if !l.valid() {
		return fmt.Errorf("unknown number list %q", l)
	}
	if n.Number == "" {
		return pbx.FieldErrorf(l.field(), "%s is required", l.field())
	}
	n.ID, n.Tenant = s.NewID(), tenant
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO `+string(l)+` (`+numberCols+`) VALUES (?,?,?,?,?,?,?)`,
		n.ID, tenant, n.Number, timeMS(n.ExpireAt), nullString(n.Description), now, now)
	if err != nil {
		return fmt.Errorf("create %s: %w", l.what(), numberConflict(err, l.field()))
	}
	n.CreatedAt, n.UpdatedAt = msTime(now), msTime(now)
	return nil
}

// UpdateNumber writes every field of n back.
func (s *DB) UpdateNumber(ctx context.Context, l NumberList, tenant pbx.TenantID, n *NumberEntry) error {
	if !l.valid() {
		return fmt.Errorf("unknown number list %q", l)
	}
	if n.Number == "" {
		return pbx.FieldErrorf(l.field(), "%s is required", l.field())
	}
	now := s.nowMS()
	res, err := s.exec(ctx, `UPDATE `+string(l)+` SET number = ?, expire_at = ?, description = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		n.Number, timeMS(n.ExpireAt), nullString(n.Description), now, tenant, n.ID)
	if err != nil {
		return fmt.Errorf("update %s: %w", l.what(), numberConflict(err, l.field()))
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return pbx.Errorf(pbx.ENOTFOUND, "%s not found", l.what())
	}
	n.UpdatedAt = msTime(now)
	return nil
}

// Number returns the entry of one of tenant's number lists with the given ID.
func (s *DB) Number(ctx context.Context, l NumberList, tenant pbx.TenantID, id pbx.ID) (NumberEntry, error) {
	if !l.valid() {
		return NumberEntry{}, fmt.Errorf("unknown number list %q", l)
	}
	n, err := scanNumber(s.queryRow(ctx, `SELECT `+numberCols+` FROM `+string(l)+` WHERE tenant_id = ? AND id = ?`, tenant, id))
	return n, notFound(err, l.what())
}

// DeleteNumber removes an entry from one of tenant's number lists.
func (s *DB) DeleteNumber(ctx context.Context, l NumberList, tenant pbx.TenantID, id pbx.ID) error {
	if !l.valid() {
		return fmt.Errorf("unknown number list %q", l)
	}
	res, err := s.exec(ctx, `DELETE FROM `+string(l)+` WHERE tenant_id = ? AND id = ?`, tenant, id)
	if err != nil {
		return fmt.Errorf("delete %s: %w", l.what(), err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return pbx.Errorf(pbx.ENOTFOUND, "%s not found", l.what())
	}
	return nil
}

// ListNumbers returns a page of one of tenant's number lists and the total
// that match.
func (s *DB) ListNumbers(ctx context.Context, l NumberList, tenant pbx.TenantID, opts ListOptions) ([]NumberEntry, int, error) {
	if !l.valid() {
		return nil, 0, fmt.Errorf("unknown number list %q", l)
	}
	return listPage(ctx, s, numberListSpec, numberCols, string(l)+` WHERE tenant_id = ?`, []any{tenant}, opts, scanNumber, l.what()+"s")
}
