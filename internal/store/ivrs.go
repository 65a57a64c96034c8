package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// IVR is a tenant's virtual receptionist (PortSIP's /ivrs): a menu callers
// reach at ExtensionNumber, which it owns in the tenant's extension
// namespace. Settings holds the menu (language, prompts, PIN, forward
// rules, custom rules) as a JSON object the API owns.
type IVR struct {
	ID              pbx.ID
	Tenant          pbx.TenantID
	Name            string
	ExtensionNumber string
	Settings        json.RawMessage
	CreatedAt       time.Time
}

// ActionURL is one of an IVR's action URLs: a web service asked where a
// caller goes. Settings holds its fields as a JSON object the API owns.
type ActionURL struct {
	ID        pbx.ID
	Tenant    pbx.TenantID
	IVR       pbx.ID
	Settings  json.RawMessage
	CreatedAt time.Time
}

const ivrCols = `id, tenant_id, name, extension_number, settings, created_at`

const actionURLCols = `id, tenant_id, ivr_id, settings, created_at`

var ivrList = &listSpec{
	fields: map[string]column{
		"id":               {"id", colID},
		"name":             {"name", colText},
		"extension_number": {"extension_number", colText},
		"created_at":       {"created_at", colTime},
	},
	search:  []string{"name", "extension_number"},
	orderBy: "id ASC",
}

func scanIVR(row interface{ Scan(...any) error }) (IVR, error) {
	var v IVR
	var settings string
	var created int64
	err := row.Scan(&v.ID, &v.Tenant, &v.Name, &v.ExtensionNumber, &settings, &created)
	v.Settings, v.CreatedAt = json.RawMessage(settings), msTime(created)
	return v, err
}

func scanActionURL(row interface{ Scan(...any) error }) (ActionURL, error) {
	var a ActionURL
	var settings string
	var created int64
	err := row.Scan(&a.ID, &a.Tenant, &a.IVR, &settings, &created)
	a.Settings, a.CreatedAt = json.RawMessage(settings), msTime(created)
	return a, err
}

func ivrConflict(err error) error {
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "virtual receptionist name already in use"}
	}
	return err
}

func validateIVR(v *IVR) error {
	switch {
	case v.Name == "":
		return pbx.FieldErrorf("name", "name is required")
	case len(v.Name) > 64:
		return pbx.FieldErrorf("name", "name is longer than 64 characters")
	case v.ExtensionNumber == "":
		return pbx.FieldErrorf("extension_number", "extension_number is required")
	}
	return nil
}

// CreateIVR stores a new virtual receptionist of tenant and claims its
// extension number in the tenant's namespace, in one transaction: a number
// owned by anything else (a user, another IVR) is ECONFLICT naming
// "extension_number", a taken name ECONFLICT naming "name", and in either
// case nothing is written.
func (s *DB) CreateIVR(ctx context.Context, tenant pbx.TenantID, v *IVR) error {
	if err := validateIVR(v); err != nil {
		return err
	}
	v.ID, v.Tenant = s.NewID(), tenant
	now := s.nowMS()
	err := s.tx(ctx, func(tx *Tx) error {
		if err := tx.claimExtension(ctx, tenant, v.ExtensionNumber, pbx.ExtensionVirtualReceptionist, v.ID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO ivrs (`+ivrCols+`) VALUES (?,?,?,?,?,?)`,
			v.ID, tenant, v.Name, v.ExtensionNumber, jsonObjectOrEmpty(v.Settings), now)
		return ivrConflict(err)
	})
	if err != nil {
		return fmt.Errorf("create virtual receptionist: %w", err)
	}
	v.CreatedAt = msTime(now)
	return nil
}

// UpdateIVR writes every field of v back; a changed extension number moves
// its claim in the namespace within the same transaction.
func (s *DB) UpdateIVR(ctx context.Context, tenant pbx.TenantID, v *IVR) error {
	if err := validateIVR(v); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx *Tx) error {
		var old string
		err := tx.queryRow(ctx, `SELECT extension_number FROM ivrs WHERE tenant_id = ? AND id = ?`, tenant, v.ID).Scan(&old)
		if err != nil {
			return notFound(err, "virtual receptionist")
		}
		if old != v.ExtensionNumber {
			if _, err := tx.exec(ctx, `DELETE FROM extension_numbers WHERE tenant_id = ? AND number = ? AND type = ? AND owner_id = ?`,
				tenant, old, pbx.ExtensionVirtualReceptionist, v.ID); err != nil {
				return err
			}
			if err := tx.claimExtension(ctx, tenant, v.ExtensionNumber, pbx.ExtensionVirtualReceptionist, v.ID); err != nil {
				return err
			}
		}
		_, err = tx.exec(ctx, `UPDATE ivrs SET name=?, extension_number=?, settings=? WHERE tenant_id = ? AND id = ?`,
			v.Name, v.ExtensionNumber, jsonObjectOrEmpty(v.Settings), tenant, v.ID)
		return ivrConflict(err)
	})
	if err != nil {
		return fmt.Errorf("update virtual receptionist: %w", err)
	}
	return nil
}

// IVR returns the virtual receptionist of tenant with the given ID.
func (s *DB) IVR(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (IVR, error) {
	v, err := scanIVR(s.queryRow(ctx, `SELECT `+ivrCols+` FROM ivrs WHERE tenant_id = ? AND id = ?`, tenant, id))
	return v, notFound(err, "virtual receptionist")
}

// IVRByExtension returns the virtual receptionist of tenant whose extension
// number is number; routing calls it for each call to an IVR.
func (s *DB) IVRByExtension(ctx context.Context, tenant pbx.TenantID, number string) (IVR, error) {
	v, err := scanIVR(s.queryRow(ctx, `SELECT `+ivrCols+` FROM ivrs WHERE tenant_id = ? AND extension_number = ?`, tenant, number))
	return v, notFound(err, "virtual receptionist")
}

// IVRNumbers returns tenant's virtual receptionists by extension number:
// routing compiles them with the rest of the tenant, so that a call does
// not look them up.
func (s *DB) IVRNumbers(ctx context.Context, tenant pbx.TenantID) (map[string]pbx.ID, error) {
	rows, err := s.query(ctx, `SELECT extension_number, id FROM ivrs WHERE tenant_id = ?`, tenant)
	if err != nil {
		return nil, fmt.Errorf("ivr numbers: %w", err)
	}
	defer rows.Close()
	out := map[string]pbx.ID{}
	for rows.Next() {
		var n string
		var id pbx.ID
		if err := rows.Scan(&n, &id); err != nil {
			return nil, fmt.Errorf("ivr numbers: %w", err)
		}
		out[n] = id
	}
	return out, rows.Err()
}

// DeleteIVR removes a virtual receptionist of tenant, its action URLs and
// its extension number.
func (s *DB) DeleteIVR(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	err := s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM ivr_action_urls WHERE tenant_id = ? AND ivr_id = ?`, tenant, id); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM ivrs WHERE tenant_id = ? AND id = ?`, tenant, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "virtual receptionist not found")
		}
		_, err = tx.exec(ctx, `DELETE FROM extension_numbers WHERE tenant_id = ? AND type = ? AND owner_id = ?`,
			tenant, pbx.ExtensionVirtualReceptionist, id)
		return err
	})
	if err != nil && pbx.ErrorCode(err) != pbx.ENOTFOUND {
		return fmt.Errorf("delete virtual receptionist: %w", err)
	}
	return err
}

// ListIVRs returns a page of tenant's virtual receptionists and the total
// that match.
func (s *DB) ListIVRs(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]IVR, int, error) {
	return listPage(ctx, s, ivrList, ivrCols, `ivrs WHERE tenant_id = ?`, []any{tenant}, opts, scanIVR, "virtual receptionists")
}

// CreateActionURL stores a new action URL of tenant's IVR a.IVR; an IVR
// not of the tenant is ENOTFOUND.
func (s *DB) CreateActionURL(ctx context.Context, tenant pbx.TenantID, a *ActionURL) error {
	a.ID, a.Tenant = s.NewID(), tenant
	now := s.nowMS()
	err := s.tx(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM ivrs WHERE tenant_id = ? AND id = ?`, tenant, a.IVR).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "virtual receptionist not found")
		}
		_, err := tx.exec(ctx, `INSERT INTO ivr_action_urls (`+actionURLCols+`) VALUES (?,?,?,?,?)`,
			a.ID, tenant, a.IVR, jsonObjectOrEmpty(a.Settings), now)
		return err
	})
	if err != nil && pbx.ErrorCode(err) != pbx.ENOTFOUND {
		return fmt.Errorf("create action url: %w", err)
	}
	a.CreatedAt = msTime(now)
	return err
}

// UpdateActionURL writes a's settings back.
func (s *DB) UpdateActionURL(ctx context.Context, tenant pbx.TenantID, a *ActionURL) error {
	return s.execOne(ctx, "update action url", "action url", nil, `UPDATE ivr_action_urls SET settings=? WHERE tenant_id = ? AND ivr_id = ? AND id = ?`,
		jsonObjectOrEmpty(a.Settings), tenant, a.IVR, a.ID)
}

// ActionURL returns the action URL id of tenant's IVR ivr.
func (s *DB) ActionURL(ctx context.Context, tenant pbx.TenantID, ivr, id pbx.ID) (ActionURL, error) {
	a, err := scanActionURL(s.queryRow(ctx, `SELECT `+actionURLCols+` FROM ivr_action_urls WHERE tenant_id = ? AND ivr_id = ? AND id = ?`,
		tenant, ivr, id))
	return a, notFound(err, "action url")
}

// DeleteActionURL removes the action URL id of tenant's IVR ivr.
func (s *DB) DeleteActionURL(ctx context.Context, tenant pbx.TenantID, ivr, id pbx.ID) error {
	return s.execOne(ctx, "delete action url", "action url", nil, `DELETE FROM ivr_action_urls WHERE tenant_id = ? AND ivr_id = ? AND id = ?`, tenant, ivr, id)
}

// ActionURLs returns every action URL of tenant's IVR ivr, oldest first.
func (s *DB) ActionURLs(ctx context.Context, tenant pbx.TenantID, ivr pbx.ID) ([]ActionURL, error) {
	rows, err := s.query(ctx, `SELECT `+actionURLCols+` FROM ivr_action_urls WHERE tenant_id = ? AND ivr_id = ? ORDER BY id`, tenant, ivr)
	if err != nil {
		return nil, fmt.Errorf("list action urls: %w", err)
	}
	defer rows.Close()
	out := []ActionURL{}
	for rows.Next() {
		a, err := scanActionURL(rows)
		if err != nil {
			return nil, fmt.Errorf("list action urls: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// HasLongerExtension reports whether tenant's extension namespace holds a
// number that starts with prefix and is longer: a virtual receptionist
// waits for more keys while the caller may still be dialling one.
func (s *DB) HasLongerExtension(ctx context.Context, tenant pbx.TenantID, prefix string) (bool, error) {
	// Dialled keys are digits, '*' and '#', none of them special to LIKE.
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM extension_numbers WHERE tenant_id = ? AND number LIKE ? AND number <> ? LIMIT 1) s`,
		tenant, prefix+"%", prefix).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up extensions starting %s: %w", prefix, err)
	}
	return n > 0, nil
}
