package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Admin is a system administrator account. There is one, named "admin" on a
// new database.
type Admin struct {
	ID           pbx.ID
	Name         string
	PasswordHash string
}

// CreateAdmin stores the system administrator. It is called once, when the
// database is new.
func (s *DB) CreateAdmin(ctx context.Context, a *Admin) error {
	a.ID = s.NewID()
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO admins (id, name, password_hash, created_at, updated_at) VALUES (?,?,?,?,?)`,
		a.ID, a.Name, a.PasswordHash, now, now)
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "name already in use"}
	} else if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	return nil
}

// AdminCount returns how many system administrators exist; zero means the
// database is new.
func (s *DB) AdminCount(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM admins`).Scan(&n)
	return n, err
}

// AdminByName returns the system administrator with the given name (any case).
func (s *DB) AdminByName(ctx context.Context, name string) (Admin, error) {
	var a Admin
	err := s.queryRow(ctx, `SELECT id, name, password_hash FROM admins WHERE LOWER(name) = ?`, strings.ToLower(name)).
		Scan(&a.ID, &a.Name, &a.PasswordHash)
	return a, notFound(err, "admin")
}

// Admin returns the system administrator with the given ID.
func (s *DB) Admin(ctx context.Context, id pbx.ID) (Admin, error) {
	var a Admin
	err := s.queryRow(ctx, `SELECT id, name, password_hash FROM admins WHERE id = ?`, id).Scan(&a.ID, &a.Name, &a.PasswordHash)
	return a, notFound(err, "admin")
}

// UpdateAdmin writes the name and password hash of a back.
func (s *DB) UpdateAdmin(ctx context.Context, a *Admin) error {
	_, err := s.exec(ctx, `UPDATE admins SET name = ?, password_hash = ?, updated_at = ? WHERE id = ?`,
		a.Name, a.PasswordHash, s.nowMS(), a.ID)
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "name already in use"}
	}
	return err
}

// Setting reads a named JSON document of system settings into v. A setting
// never written leaves v as it is, so callers pass defaults in. A document
// of one tenant is named <kind>:<tenant ID>, such as "voicemail:42", so that
// DeleteTenant finds it.
func (s *DB) Setting(ctx context.Context, name string, v any) error {
	var raw string
	err := s.queryRow(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read setting %s: %w", name, err)
	}
	return jsonUnmarshal(raw, v)
}

// SetSetting writes a named JSON document of system settings.
func (s *DB) SetSetting(ctx context.Context, name string, v any) error {
	raw, err := jsonMarshal(v)
	if err != nil {
		return fmt.Errorf("write setting %s: %w", name, err)
	}
	_, err = s.exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, raw)
	if err != nil {
		return fmt.Errorf("write setting %s: %w", name, err)
	}
	return nil
}
