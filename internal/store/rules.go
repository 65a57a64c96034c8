package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// InboundRule routes calls to a tenant's DID numbers arriving on a trunk.
// Settings holds its forward rules, office hours, holiday IDs and routing
// options as a JSON object the API owns.
type InboundRule struct {
	ID         pbx.ID
	Tenant     pbx.TenantID
	Name       string
	Enabled    bool
	DIDNumbers string
	Provider   pbx.ID
	Settings   json.RawMessage
	CreatedAt  time.Time
}

// OutboundRule routes numbers a tenant's users dial to trunks. Settings
// holds its number mask, office hours, holiday IDs and routes as a JSON
// object the API owns.
type OutboundRule struct {
	ID              pbx.ID
	Tenant          pbx.TenantID
	Name            string
	Enabled         bool
	Priority        int
	NumberPrefix    string
	NumberLength    string
	RoutingStrategy string
	Settings        json.RawMessage
	CreatedAt       time.Time
}

const inboundCols = `id, tenant_id, name, enabled, did_numbers, provider_id, settings, created_at`

const outboundCols = `id, tenant_id, name, enabled, priority, number_prefix, number_length, routing_strategy, settings, created_at`

var inboundList = &listSpec{
	fields: map[string]column{
		"id":          {"id", colID},
		"name":        {"name", colText},
		"enabled":     {"enabled", colBool},
		"did_numbers": {"did_numbers", colText},
		"provider_id": {"provider_id", colID},
	},
	search:  []string{"name", "did_numbers"},
	orderBy: "id ASC",
}

var outboundList = &listSpec{
	fields: map[string]column{
		"id":               {"id", colID},
		"name":             {"name", colText},
		"enabled":          {"enabled", colBool},
		"priority":         {"priority", colInt},
		"number_prefix":    {"number_prefix", colText},
		"number_length":    {"number_length", colText},
		"routing_strategy": {"routing_strategy", colText},
	},
	search:  []string{"name", "number_prefix"},
	orderBy: "priority ASC, id ASC",
}

func scanInbound(row interface{ Scan(...any) error }) (InboundRule, error) {
	var r InboundRule
	var settings string
	var created int64
	err := row.Scan(&r.ID, &r.Tenant, &r.Name, &r.Enabled, &r.DIDNumbers, &r.Provider, &settings, &created)
	r.Settings, r.CreatedAt = json.RawMessage(settings), msTime(created)
	return r, err
}

func scanOutbound(row interface{ Scan(...any) error }) (OutboundRule, error) {
	var r OutboundRule
	var prefix, length sql.NullString
	var settings string
	var created int64
	err := row.Scan(&r.ID, &r.Tenant, &r.Name, &r.Enabled, &r.Priority, &prefix, &length, &r.RoutingStrategy, &settings, &created)
	r.NumberPrefix, r.NumberLength = prefix.String, length.String
	r.Settings, r.CreatedAt = json.RawMessage(settings), msTime(created)
	return r, err
}

func ruleConflict(err error) error {
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "name", Message: "rule name already in use"}
	}
	return err
}

func validateRuleName(name string) error {
	switch {
	case name == "":
		return pbx.FieldErrorf("name", "name is required")
	case len(name) > 64:
		return pbx.FieldErrorf("name", "name is longer than 64 characters")
	}
	return nil
}

// CreateInboundRule stores a new inbound rule of tenant. A name already
// used by another inbound rule of the tenant is ECONFLICT naming "name".
func (s *DB) CreateInboundRule(ctx context.Context, tenant pbx.TenantID, r *InboundRule) error {
	if err := validateRuleName(r.Name); err != nil {
		return err
	}
	r.ID, r.Tenant = s.NewID(), tenant
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO inbound_rules (`+inboundCols+`) VALUES (?,?,?,?,?,?,?,?)`,
		r.ID, tenant, r.Name, r.Enabled, r.DIDNumbers, r.Provider, jsonObjectOrEmpty(r.Settings), now)
	if err != nil {
		return fmt.Errorf("create inbound rule: %w", ruleConflict(err))
	}
	r.CreatedAt = msTime(now)
	return nil
}

// UpdateInboundRule writes every field of r back.
func (s *DB) UpdateInboundRule(ctx context.Context, tenant pbx.TenantID, r *InboundRule) error {
	if err := validateRuleName(r.Name); err != nil {
		return err
	}
	return s.execOne(ctx, "update inbound rule", "inbound rule", ruleConflict, `UPDATE inbound_rules SET name=?, enabled=?, did_numbers=?, provider_id=?, settings=? WHERE tenant_id=? AND id=?`,
		r.Name, r.Enabled, r.DIDNumbers, r.Provider, jsonObjectOrEmpty(r.Settings), tenant, r.ID)
}

// InboundRule returns the inbound rule of tenant with the given ID.
func (s *DB) InboundRule(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (InboundRule, error) {
	r, err := scanInbound(s.queryRow(ctx, `SELECT `+inboundCols+` FROM inbound_rules WHERE tenant_id = ? AND id = ?`, tenant, id))
	return r, notFound(err, "inbound rule")
}

// DeleteInboundRule removes an inbound rule of tenant.
func (s *DB) DeleteInboundRule(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	return s.execOne(ctx, "delete inbound rule", "inbound rule", nil, `DELETE FROM inbound_rules WHERE tenant_id = ? AND id = ?`, tenant, id)
}

// ListInboundRules returns a page of tenant's inbound rules and the total
// that match.
func (s *DB) ListInboundRules(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]InboundRule, int, error) {
	return listPage(ctx, s, inboundList, inboundCols, `inbound_rules WHERE tenant_id = ?`, []any{tenant}, opts, scanInbound, "inbound rules")
}

// CreateOutboundRule stores a new outbound rule of tenant. A name already
// used by another outbound rule of the tenant is ECONFLICT naming "name".
func (s *DB) CreateOutboundRule(ctx context.Context, tenant pbx.TenantID, r *OutboundRule) error {
	if err := validateRuleName(r.Name); err != nil {
		return err
	}
	r.ID, r.Tenant = s.NewID(), tenant
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO outbound_rules (`+outboundCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		r.ID, tenant, r.Name, r.Enabled, r.Priority, nullString(r.NumberPrefix), nullString(r.NumberLength), r.RoutingStrategy,
		jsonObjectOrEmpty(r.Settings), now)
	if err != nil {
		return fmt.Errorf("create outbound rule: %w", ruleConflict(err))
	}
	r.CreatedAt = msTime(now)
	return nil
}

// UpdateOutboundRule writes every field of r back.
func (s *DB) UpdateOutboundRule(ctx context.Context, tenant pbx.TenantID, r *OutboundRule) error {
	if err := validateRuleName(r.Name); err != nil {
		return err
	}
	return s.execOne(ctx, "update outbound rule", "outbound rule", ruleConflict, `UPDATE outbound_rules SET name=?, enabled=?, priority=?, number_prefix=?, number_length=?, routing_strategy=?, settings=?
		WHERE tenant_id=? AND id=?`,
		r.Name, r.Enabled, r.Priority, nullString(r.NumberPrefix), nullString(r.NumberLength), r.RoutingStrategy, jsonObjectOrEmpty(r.Settings), tenant, r.ID)
}

// OutboundRule returns the outbound rule of tenant with the given ID.
func (s *DB) OutboundRule(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (OutboundRule, error) {
	r, err := scanOutbound(s.queryRow(ctx, `SELECT `+outboundCols+` FROM outbound_rules WHERE tenant_id = ? AND id = ?`, tenant, id))
	return r, notFound(err, "outbound rule")
}

// DeleteOutboundRule removes an outbound rule of tenant and the groups it
// applies to.
func (s *DB) DeleteOutboundRule(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	return s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM outbound_rule_groups WHERE rule_id IN (SELECT id FROM outbound_rules WHERE tenant_id = ? AND id = ?)`, tenant, id); err != nil {
			return fmt.Errorf("delete outbound rule: %w", err)
		}
		res, err := tx.exec(ctx, `DELETE FROM outbound_rules WHERE tenant_id = ? AND id = ?`, tenant, id)
		if err != nil {
			return fmt.Errorf("delete outbound rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "outbound rule not found")
		}
		return nil
	})
}

// ListOutboundRules returns a page of tenant's outbound rules, by priority,
// and the total that match.
func (s *DB) ListOutboundRules(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]OutboundRule, int, error) {
	return listPage(ctx, s, outboundList, outboundCols, `outbound_rules WHERE tenant_id = ?`, []any{tenant}, opts, scanOutbound, "outbound rules")
}

// OutboundRuleGroups returns the user groups an outbound rule of tenant
// applies to. A rule of another tenant is ENOTFOUND.
func (s *DB) OutboundRuleGroups(ctx context.Context, tenant pbx.TenantID, id pbx.ID) ([]Group, error) {
	if _, err := s.OutboundRule(ctx, tenant, id); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT `+prefixed("g.", groupCols)+` FROM user_groups g JOIN outbound_rule_groups a ON a.group_id = g.id
		WHERE g.tenant_id = ? AND a.rule_id = ? ORDER BY g.id`, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("list applied groups: %w", err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("list applied groups: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// OutboundRuleGroup returns a group an outbound rule of tenant applies to;
// a group it does not apply to is ENOTFOUND.
func (s *DB) OutboundRuleGroup(ctx context.Context, tenant pbx.TenantID, id, group pbx.ID) (Group, error) {
	g, err := scanGroup(s.queryRow(ctx, `SELECT `+prefixed("g.", groupCols)+` FROM user_groups g
		JOIN outbound_rule_groups a ON a.group_id = g.id JOIN outbound_rules r ON r.id = a.rule_id
		WHERE g.tenant_id = ? AND r.tenant_id = ? AND r.id = ? AND g.id = ?`, tenant, tenant, id, group))
	return g, notFound(err, "applied group")
}

// ApplyOutboundRule applies an outbound rule of tenant to one of its
// groups. An unknown rule or group is ENOTFOUND; a group it already applies
// to is ECONFLICT naming "group_id".
func (s *DB) ApplyOutboundRule(ctx context.Context, tenant pbx.TenantID, id, group pbx.ID) error {
	return s.tx(ctx, func(tx *Tx) error {
		var rid, gid pbx.ID
		if err := tx.queryRow(ctx, `SELECT id FROM outbound_rules WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&rid); err != nil {
			return notFound(err, "outbound rule")
		}
		if err := tx.queryRow(ctx, `SELECT id FROM user_groups WHERE tenant_id = ? AND id = ?`, tenant, group).Scan(&gid); err != nil {
			return notFound(err, "group")
		}
		_, err := tx.exec(ctx, `INSERT INTO outbound_rule_groups (rule_id, group_id) VALUES (?, ?)`, rid, gid)
		if isUniqueViolation(err) {
			return &pbx.Error{Code: pbx.ECONFLICT, Field: "group_id", Message: "the rule already applies to the group"}
		}
		return err
	})
}

// UnapplyOutboundRule stops an outbound rule of tenant applying to a group.
func (s *DB) UnapplyOutboundRule(ctx context.Context, tenant pbx.TenantID, id, group pbx.ID) error {
	return s.execOne(ctx, "unapply outbound rule", "applied group", nil, `DELETE FROM outbound_rule_groups WHERE rule_id IN (SELECT id FROM outbound_rules WHERE tenant_id = ? AND id = ?)
		AND group_id IN (SELECT id FROM user_groups WHERE tenant_id = ? AND id = ?)`, tenant, id, tenant, group)
}
