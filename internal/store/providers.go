package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Provider is a SIP trunk, PortSIP's provider. Trunks are system-level and
// shared with tenants through assignments. The columns are what lists filter
// on; the rest of the trunk's SIP settings are Settings, a JSON object the
// API owns. Password is never part of Settings, so no view leaks it.
type Provider struct {
	ID         pbx.ID
	Name       string
	Enabled    bool
	Brand      string
	Hostname   string
	Port       int
	DIDNumbers string
	Password   string
	Settings   json.RawMessage
	CreatedAt  time.Time
	Shared     bool // assigned to at least one tenant; read only
}

// ProviderAssignee is a tenant a provider is shared with: the DID numbers
// it may use on the trunk and its share of the trunk's concurrent calls.
type ProviderAssignee struct {
	Provider    pbx.ID
	Tenant      pbx.TenantID
	DIDNumbers  string
	Concurrency int
}

const providerCols = `id, name, enabled, brand, hostname, port, did_numbers, password, settings, created_at`

// providerSelect is providerCols and whether the provider is assigned.
const providerSelect = providerCols + `, EXISTS (SELECT 1 FROM provider_assignees a WHERE a.provider_id = providers.id)`

var providerList = &listSpec{
	fields: map[string]column{
		"id":          {"id", colID},
		"name":        {"name", colText},
		"enabled":     {"enabled", colBool},
		"brand":       {"brand", colText},
		"hostname":    {"hostname", colText},
		"port":        {"port", colInt},
		"did_numbers": {"did_numbers", colText},
	},
	search:  []string{"name", "brand", "hostname", "did_numbers"},
	orderBy: "id ASC",
}

func scanProvider(row interface{ Scan(...any) error }) (Provider, error) {
	var p Provider
	var brand, dids, pass sql.NullString
	var settings string
	var created int64
	err := row.Scan(&p.ID, &p.Name, &p.Enabled, &brand, &p.Hostname, &p.Port, &dids, &pass, &settings, &created, &p.Shared)
	p.Brand, p.DIDNumbers, p.Password = brand.String, dids.String, pass.String
	p.Settings, p.CreatedAt = json.RawMessage(settings), msTime(created)
	return p, err
}

func providerConflict(err error) error {
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "provider name already in use"}
	}
	return err
}

func validateProvider(p *Provider) error {
	switch {
	case p.Name == "":
		return pbx.FieldErrorf("name", "name is required")
	case len(p.Name) > 64:
		return pbx.FieldErrorf("name", "name is longer than 64 characters")
	case p.Hostname == "":
		return pbx.FieldErrorf("hostname", "hostname is required")
	case p.Port < 0 || p.Port > 65535:
		return pbx.FieldErrorf("port", "port must be 0 to 65535")
	}
	return nil
}

func jsonObjectOrEmpty(b []byte) string {
	if len(b) == 0 || string(b) == "null" {
		return "{}"
	}
	return string(b)
}

// CreateProvider stores a new provider. A name already in use is ECONFLICT
// naming "name".
func (s *DB) CreateProvider(ctx context.Context, p *Provider) error {
	if err := validateProvider(p); err != nil {
		return err
	}
	p.ID = s.NewID()
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO providers (`+providerCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		p.ID, p.Name, p.Enabled, nullString(p.Brand), p.Hostname, p.Port, nullString(p.DIDNumbers), nullString(p.Password),
		jsonObjectOrEmpty(p.Settings), now)
	if err != nil {
		return fmt.Errorf("create provider: %w", providerConflict(err))
	}
	p.CreatedAt = msTime(now)
	return nil
}

// UpdateProvider writes every field of p back.
func (s *DB) UpdateProvider(ctx context.Context, p *Provider) error {
	if err := validateProvider(p); err != nil {
		return err
	}
	return s.execOne(ctx, "update provider", "provider", providerConflict, `UPDATE providers SET name=?, enabled=?, brand=?, hostname=?, port=?, did_numbers=?, password=?, settings=? WHERE id=?`,
		p.Name, p.Enabled, nullString(p.Brand), p.Hostname, p.Port, nullString(p.DIDNumbers), nullString(p.Password),
		jsonObjectOrEmpty(p.Settings), p.ID)
}

// Provider returns the provider with the given ID as tenant sees it: a
// tenant other than SystemTenant sees only providers assigned to it, and any
// other is ENOTFOUND.
func (s *DB) Provider(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (Provider, error) {
	q := `SELECT ` + providerSelect + ` FROM providers WHERE id = ?`
	args := []any{id}
	if tenant != pbx.SystemTenant {
		q += ` AND id IN (SELECT provider_id FROM provider_assignees WHERE tenant_id = ?)`
		args = append(args, tenant)
	}
	p, err := scanProvider(s.queryRow(ctx, q, args...))
	return p, notFound(err, "provider")
}

// DeleteProvider removes a provider and its assignments.
func (s *DB) DeleteProvider(ctx context.Context, id pbx.ID) error {
	return s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM provider_assignees WHERE provider_id = ?`, id); err != nil {
			return fmt.Errorf("delete provider: %w", err)
		}
		res, err := tx.exec(ctx, `DELETE FROM providers WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete provider: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "provider not found")
		}
		return nil
	})
}

// ListProviders returns a page of the providers tenant sees (every one for
// SystemTenant, the assigned ones otherwise) and the total that match.
func (s *DB) ListProviders(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]Provider, int, error) {
	from, args := `providers WHERE 1=1`, []any(nil)
	if tenant != pbx.SystemTenant {
		from, args = `providers WHERE id IN (SELECT provider_id FROM provider_assignees WHERE tenant_id = ?)`, []any{tenant}
	}
	return listPage(ctx, s, providerList, providerSelect, from, args, opts, scanProvider, "providers")
}

// ProviderAssignees returns the tenants a provider is assigned to.
func (s *DB) ProviderAssignees(ctx context.Context, id pbx.ID) ([]ProviderAssignee, error) {
	if _, err := s.Provider(ctx, pbx.SystemTenant, id); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT provider_id, tenant_id, did_numbers, concurrency FROM provider_assignees WHERE provider_id = ? ORDER BY tenant_id`, id)
	if err != nil {
		return nil, fmt.Errorf("list provider assignees: %w", err)
	}
	defer rows.Close()
	var out []ProviderAssignee
	for rows.Next() {
		a, err := scanAssignee(rows)
		if err != nil {
			return nil, fmt.Errorf("list provider assignees: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanAssignee(row interface{ Scan(...any) error }) (ProviderAssignee, error) {
	var a ProviderAssignee
	var dids sql.NullString
	err := row.Scan(&a.Provider, &a.Tenant, &dids, &a.Concurrency)
	a.DIDNumbers = dids.String
	return a, err
}

// ProviderAssignee returns a provider's assignment to tenant; a provider not
// assigned to it is ENOTFOUND.
func (s *DB) ProviderAssignee(ctx context.Context, id pbx.ID, tenant pbx.TenantID) (ProviderAssignee, error) {
	a, err := scanAssignee(s.queryRow(ctx, `SELECT provider_id, tenant_id, did_numbers, concurrency FROM provider_assignees
		WHERE provider_id = ? AND tenant_id = ?`, id, tenant))
	return a, notFound(err, "provider assignee")
}

// AssignProvider assigns a provider to a tenant, or updates the assignment.
// An unknown provider or tenant is ENOTFOUND.
func (s *DB) AssignProvider(ctx context.Context, a ProviderAssignee) error {
	if a.Concurrency < 0 {
		return pbx.FieldErrorf("concurrency", "concurrency must not be negative")
	}
	return s.tx(ctx, func(tx *Tx) error {
		var id pbx.ID
		if err := tx.queryRow(ctx, `SELECT id FROM providers WHERE id = ?`, a.Provider).Scan(&id); err != nil {
			return notFound(err, "provider")
		}
		var tn pbx.TenantID
		if err := tx.queryRow(ctx, `SELECT id FROM tenants WHERE id = ?`, a.Tenant).Scan(&tn); err != nil {
			return notFound(err, "tenant")
		}
		res, err := tx.exec(ctx, `UPDATE provider_assignees SET did_numbers = ?, concurrency = ? WHERE provider_id = ? AND tenant_id = ?`,
			nullString(a.DIDNumbers), a.Concurrency, a.Provider, a.Tenant)
		if err != nil {
			return fmt.Errorf("assign provider: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		if _, err := tx.exec(ctx, `INSERT INTO provider_assignees (provider_id, tenant_id, did_numbers, concurrency) VALUES (?,?,?,?)`,
			a.Provider, a.Tenant, nullString(a.DIDNumbers), a.Concurrency); err != nil {
			return fmt.Errorf("assign provider: %w", err)
		}
		return nil
	})
}

// UnassignProvider takes a provider away from a tenant.
func (s *DB) UnassignProvider(ctx context.Context, id pbx.ID, tenant pbx.TenantID) error {
	return s.execOne(ctx, "unassign provider", "provider assignee", nil, `DELETE FROM provider_assignees WHERE provider_id = ? AND tenant_id = ?`, id, tenant)
}

// Providers returns every provider, unpaged: the trunks' runtime loads
// them all when it starts and when they change.
func (s *DB) Providers(ctx context.Context) ([]Provider, error) {
	rows, err := s.query(ctx, `SELECT `+providerSelect+` FROM providers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	defer rows.Close()
	var out []Provider
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, fmt.Errorf("list providers: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	return out, nil
}
