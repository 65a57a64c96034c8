package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// IPFilterTarget says what an IP filter does with matching sources, as
// PortSIP's /api/ip_filters names it.
type IPFilterTarget string

// IP filter targets.
const (
	IPFilterAccept IPFilterTarget = "ACCEPT"
	IPFilterDeny   IPFilterTarget = "DENY"
)

// IPFilter is one rule of the SIP edge's IP filter list: an address range
// that is always accepted (never blocked) or denied (dropped without an
// answer). The SIP edge adds DENY rules by itself when a source floods it or
// guesses passwords; an administrator lists and removes them. The list is
// system-wide, not per tenant, because sources are not tenants.
type IPFilter struct {
	ID          pbx.ID
	CIDR        string // an address or prefix; a lone address is stored as /32 or /128
	Target      IPFilterTarget
	ExpireAt    time.Time // zero: never expires
	Description string
	CreatedAt   time.Time
}

const ipFilterCols = `id, cidr, target, expire_at, description, created_at`

var ipFilterList = &listSpec{
	fields: map[string]column{
		"id":          {"id", colID},
		"cidr":        {"cidr", colText},
		"target":      {"target", colText},
		"expire_at":   {"expire_at", colTime},
		"description": {"description", colText},
	},
	search:  []string{"cidr", "description"},
	orderBy: "id ASC",
}

func scanIPFilter(row interface{ Scan(...any) error }) (IPFilter, error) {
	var f IPFilter
	var desc sql.NullString
	var target string
	var expire, created int64
	err := row.Scan(&f.ID, &f.CIDR, &target, &expire, &desc, &created)
	f.Target, f.Description = IPFilterTarget(target), desc.String
	f.ExpireAt, f.CreatedAt = msTime(expire), msTime(created)
	return f, err
}

// normalizeIPFilter checks f's fields and puts CIDR in canonical prefix form.
func normalizeIPFilter(f *IPFilter) error {
	if f.Target != IPFilterAccept && f.Target != IPFilterDeny {
		return pbx.FieldErrorf("target", "target must be ACCEPT or DENY")
	}
	if len(f.Description) > 255 {
		return pbx.FieldErrorf("description", "description is longer than 255 characters")
	}
	p, err := ParsePrefix(f.CIDR)
	if err != nil {
		return pbx.FieldErrorf("cidr", "cidr must be an IP address or prefix")
	}
	f.CIDR = p.String()
	return nil
}

// ParsePrefix parses an IP address ("192.0.2.1") or prefix ("192.0.2.0/24")
// into a masked prefix; a lone address becomes a /32 or /128.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("parse prefix: %w", err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("parse prefix: %w", err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CreateIPFilter validates and stores f and gives it an ID. Bad fields are
// EINVALID naming the field.
func (s *DB) CreateIPFilter(ctx context.Context, f *IPFilter) error {
	if err := normalizeIPFilter(f); err != nil {
		return err
	}
	f.ID = s.NewID()
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO ip_filters (`+ipFilterCols+`) VALUES (?,?,?,?,?,?)`,
		f.ID, f.CIDR, string(f.Target), timeMS(f.ExpireAt), nullString(f.Description), now)
	if err != nil {
		return fmt.Errorf("create ip filter: %w", err)
	}
	f.CreatedAt = msTime(now)
	return nil
}

// UpdateIPFilter writes every field of f back.
func (s *DB) UpdateIPFilter(ctx context.Context, f *IPFilter) error {
	if err := normalizeIPFilter(f); err != nil {
		return err
	}
	return s.execOne(ctx, "update ip filter", "ip filter", nil, `UPDATE ip_filters SET cidr=?, target=?, expire_at=?, description=? WHERE id=?`,
		f.CIDR, string(f.Target), timeMS(f.ExpireAt), nullString(f.Description), f.ID)
}

// IPFilter returns the IP filter with the given ID.
func (s *DB) IPFilter(ctx context.Context, id pbx.ID) (IPFilter, error) {
	f, err := scanIPFilter(s.queryRow(ctx, `SELECT `+ipFilterCols+` FROM ip_filters WHERE id = ?`, id))
	return f, notFound(err, "ip filter")
}

// DeleteIPFilter removes the IP filter with the given ID.
func (s *DB) DeleteIPFilter(ctx context.Context, id pbx.ID) error {
	return s.execOne(ctx, "delete ip filter", "ip filter", nil, `DELETE FROM ip_filters WHERE id = ?`, id)
}

// ListIPFilters returns a page of IP filters and the total that match, with
// PortSIP's filter, search, orderby, skip and top.
func (s *DB) ListIPFilters(ctx context.Context, opts ListOptions) ([]IPFilter, int, error) {
	return listPage(ctx, s, ipFilterList, ipFilterCols, `ip_filters WHERE 1=1`, nil, opts, scanIPFilter, "ip filters")
}

// ActiveIPFilters returns every IP filter that has not expired at t. The SIP
// edge loads them on start and whenever the list changes.
func (s *DB) ActiveIPFilters(ctx context.Context, t time.Time) ([]IPFilter, error) {
	return s.ipFilters(ctx, `SELECT `+ipFilterCols+` FROM ip_filters WHERE expire_at = 0 OR expire_at > ? ORDER BY id`, t.UnixMilli())
}

func (s *DB) ipFilters(ctx context.Context, q string, args ...any) ([]IPFilter, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list ip filters: %w", err)
	}
	defer rows.Close()
	var out []IPFilter
	for rows.Next() {
		f, err := scanIPFilter(rows)
		if err != nil {
			return nil, fmt.Errorf("list ip filters: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list ip filters: %w", err)
	}
	return out, nil
}

// timeMS converts t to the stored Unix milliseconds; the zero time is 0.
func timeMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
