package store

import (
	"context"
	"fmt"

	"github.com/gopbx/gopbx/internal/pbx"
)

// RoutingConfig is everything of one tenant that call routing compiles into
// its tables: the tenant itself (time zone, e164 and office hours live in
// its row), every inbound and outbound rule, enabled or not, the groups each
// outbound rule applies to and who is in them, the holidays, the three
// number lists and the trunks assigned to the tenant.
type RoutingConfig struct {
	Tenant        pbx.Tenant
	InboundRules  []InboundRule
	OutboundRules []OutboundRule
	// RuleGroups maps an outbound rule to the groups it applies to.
	RuleGroups map[pbx.ID][]pbx.ID
	// UserGroups maps a user to the groups it belongs to, only for groups
	// that some outbound rule applies to: no other group changes routing.
	UserGroups       map[pbx.ID][]pbx.ID
	Holidays         []Holiday
	Blacklist        []NumberEntry
	DisallowedCodes  []NumberEntry
	EmergencyNumbers []NumberEntry
	// Providers are the tenant's assignments, one per trunk it may use.
	Providers []ProviderAssignee
}

// RoutingConfig reads the routing configuration of tenant in a handful of
// whole-table queries, without paging, for a router that compiles it once
// and caches the result. The reads are not one transaction: a router that
// must not keep a view torn by a concurrent write drops what it compiled
// when it is told of the write. An unknown tenant is ENOTFOUND.
func (s *DB) RoutingConfig(ctx context.Context, tenant pbx.TenantID) (RoutingConfig, error) {
	var c RoutingConfig
	var err error
	if c.Tenant, err = s.Tenant(ctx, tenant); err != nil {
		return c, fmt.Errorf("read routing config: %w", err)
	}
	if c.InboundRules, err = queryAll(ctx, s, `SELECT `+inboundCols+` FROM inbound_rules WHERE tenant_id = ? ORDER BY id`,
		[]any{tenant}, scanInbound); err != nil {
		return c, fmt.Errorf("read inbound rules: %w", err)
	}
	if c.OutboundRules, err = queryAll(ctx, s, `SELECT `+outboundCols+` FROM outbound_rules WHERE tenant_id = ? ORDER BY priority, id`,
		[]any{tenant}, scanOutbound); err != nil {
		return c, fmt.Errorf("read outbound rules: %w", err)
	}
	pairs, err := queryAll(ctx, s, `SELECT a.rule_id, a.group_id FROM outbound_rule_groups a
		JOIN outbound_rules r ON r.id = a.rule_id JOIN user_groups g ON g.id = a.group_id
		WHERE r.tenant_id = ? AND g.tenant_id = ? ORDER BY a.rule_id, a.group_id`, []any{tenant, tenant}, scanIDPair)
	if err != nil {
		return c, fmt.Errorf("read applied groups: %w", err)
	}
	c.RuleGroups = make(map[pbx.ID][]pbx.ID)
	for _, p := range pairs {
		c.RuleGroups[p[0]] = append(c.RuleGroups[p[0]], p[1])
	}
	members, err := queryAll(ctx, s, `SELECT DISTINCT m.user_id, m.group_id FROM user_group_members m
		JOIN users u ON u.id = m.user_id JOIN outbound_rule_groups a ON a.group_id = m.group_id
		JOIN user_groups g ON g.id = m.group_id
		WHERE u.tenant_id = ? AND g.tenant_id = ? ORDER BY m.user_id, m.group_id`, []any{tenant, tenant}, scanIDPair)
	if err != nil {
		return c, fmt.Errorf("read group members: %w", err)
	}
	c.UserGroups = make(map[pbx.ID][]pbx.ID)
	for _, p := range members {
		c.UserGroups[p[0]] = append(c.UserGroups[p[0]], p[1])
	}
	if c.Holidays, err = queryAll(ctx, s, `SELECT `+holidayCols+` FROM holidays WHERE tenant_id = ? ORDER BY id`,
		[]any{tenant}, scanHoliday); err != nil {
		return c, fmt.Errorf("read holidays: %w", err)
	}
	for _, l := range []struct {
		list NumberList
		dst  *[]NumberEntry
	}{{BlacklistedNumbers, &c.Blacklist}, {DisallowedCodes, &c.DisallowedCodes}, {EmergencyNumbers, &c.EmergencyNumbers}} {
		if *l.dst, err = queryAll(ctx, s, `SELECT `+numberCols+` FROM `+string(l.list)+` WHERE tenant_id = ? ORDER BY id`,
			[]any{tenant}, scanNumber); err != nil {
			return c, fmt.Errorf("read %ss: %w", l.list.what(), err)
		}
	}
	if c.Providers, err = queryAll(ctx, s, `SELECT provider_id, tenant_id, did_numbers, concurrency FROM provider_assignees
		WHERE tenant_id = ? ORDER BY provider_id`, []any{tenant}, scanAssignee); err != nil {
		return c, fmt.Errorf("read provider assignees: %w", err)
	}
	return c, nil
}

func scanIDPair(row scanner) ([2]pbx.ID, error) {
	var p [2]pbx.ID
	err := row.Scan(&p[0], &p[1])
	return p, err
}

// queryAll runs q and scans every row; callers wrap the error with what
// they read.
func queryAll[T any](ctx context.Context, s *DB, q string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
