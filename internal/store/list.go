package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/query"
)

// ListOptions are the list options of PortSIP's API, already parsed.
type ListOptions struct {
	Filter  query.Expr
	Search  string
	OrderBy []query.Order
	Skip    int
	Top     int // 0 means DefaultTop
}

// DefaultTop and MaxTop bound a page.
const (
	DefaultTop = 100
	MaxTop     = 100
)

// colKind says how a filter literal converts to a column's stored form.
type colKind int

const (
	colText colKind = iota
	colInt
	colBool
	colTime // stored as Unix ms, filtered with RFC 3339 strings
	colID   // stored as BIGINT, filtered with decimal strings
)

type column struct {
	expr string
	kind colKind
}

// listSpec describes one listable resource: the API field names that filter
// and orderby may use, the columns search looks in, and the default order.
type listSpec struct {
	fields  map[string]column
	search  []string
	orderBy string // default ORDER BY, also the tiebreak
}

// clause is a WHERE fragment and its arguments.
type clause struct {
	sql  strings.Builder
	args []any
}

// compile turns opts into "AND ..." conditions, an ORDER BY and LIMIT/OFFSET
// numbers. Unknown fields and bad values are EINVALID errors naming filter
// or orderby, never silently ignored.
func (s *DB) compile(spec *listSpec, opts ListOptions) (where string, args []any, orderBy string, limit, offset int, err error) {
	var c clause
	if opts.Filter != nil {
		c.sql.WriteString(" AND ")
		if err := s.compileExpr(&c, spec, opts.Filter); err != nil {
			return "", nil, "", 0, 0, err
		}
	}
	if q := strings.TrimSpace(opts.Search); q != "" && len(spec.search) > 0 {
		// PortSIP's search is free text; "101 or 102" matches either word.
		var terms []string
		for _, t := range strings.Fields(q) {
			if !strings.EqualFold(t, "or") {
				terms = append(terms, t)
			}
		}
		if len(terms) > 0 {
			c.sql.WriteString(" AND (")
			n := 0
			for _, t := range terms {
				for _, col := range spec.search {
					if n > 0 {
						c.sql.WriteString(" OR ")
					}
					n++
					c.sql.WriteString(col + " " + s.d.likeCI() + " ? ESCAPE '\\'")
					c.args = append(c.args, "%"+escapeLike(t)+"%")
				}
			}
			c.sql.WriteString(")")
		}
	}
	var ob []string
	for _, o := range opts.OrderBy {
		col, ok := spec.fields[o.Field]
		if !ok {
			return "", nil, "", 0, 0, pbx.FieldErrorf("orderby", "unknown field %q", o.Field)
		}
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		ob = append(ob, col.expr+dir)
	}
	ob = append(ob, spec.orderBy)
	limit = opts.Top
	if limit == 0 {
		limit = DefaultTop
	}
	if limit < 1 || limit > MaxTop {
		return "", nil, "", 0, 0, pbx.FieldErrorf("top", "top must be between 1 and %d", MaxTop)
	}
	if opts.Skip < 0 {
		return "", nil, "", 0, 0, pbx.FieldErrorf("skip", "skip must not be negative")
	}
	return c.sql.String(), c.args, strings.Join(ob, ", "), limit, opts.Skip, nil
}

func (s *DB) compileExpr(c *clause, spec *listSpec, e query.Expr) error {
	switch e := e.(type) {
	case *query.Logical:
		c.sql.WriteString("(")
		if err := s.compileExpr(c, spec, e.Left); err != nil {
			return err
		}
		c.sql.WriteString(" " + strings.ToUpper(e.Op) + " ")
		if err := s.compileExpr(c, spec, e.Right); err != nil {
			return err
		}
		c.sql.WriteString(")")
	case *query.Not:
		c.sql.WriteString("NOT (")
		if err := s.compileExpr(c, spec, e.X); err != nil {
			return err
		}
		c.sql.WriteString(")")
	case *query.Func:
		col, ok := spec.fields[e.Field]
		if !ok {
			return pbx.FieldErrorf("filter", "unknown field %q", e.Field)
		}
		if col.kind != colText {
			return pbx.FieldErrorf("filter", "%s works on text fields, not %q", e.Name, e.Field)
		}
		pat := escapeLike(e.Arg)
		switch e.Name {
		case "startswith":
			pat += "%"
		case "endswith":
			pat = "%" + pat
		default:
			pat = "%" + pat + "%"
		}
		c.sql.WriteString(col.expr + " " + s.d.likeCI() + " ? ESCAPE '\\'")
		c.args = append(c.args, pat)
	case *query.Compare:
		col, ok := spec.fields[e.Field]
		if !ok {
			return pbx.FieldErrorf("filter", "unknown field %q", e.Field)
		}
		if e.Value.Kind == query.KindNull {
			switch e.Op {
			case "eq":
				c.sql.WriteString(col.expr + " IS NULL")
			case "ne":
				c.sql.WriteString(col.expr + " IS NOT NULL")
			default:
				return pbx.FieldErrorf("filter", "null takes eq or ne only")
			}
			return nil
		}
		v, err := literal(col.kind, e.Field, e.Value)
		if err != nil {
			return err
		}
		ops := map[string]string{"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
		c.sql.WriteString(col.expr + " " + ops[e.Op] + " ?")
		c.args = append(c.args, v)
	}
	return nil
}

// literal converts a filter value to the stored form of a column.
func literal(k colKind, field string, v query.Value) (any, error) {
	bad := func() error { return pbx.FieldErrorf("filter", "bad value %s for %q", v, field) }
	switch k {
	case colText:
		if v.Kind != query.KindString && v.Kind != query.KindNumber {
			return nil, bad()
		}
		return v.Str, nil
	case colInt:
		n, err := strconv.ParseInt(v.Str, 10, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case colID:
		n, err := strconv.ParseInt(v.Str, 10, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case colBool:
		if v.Kind != query.KindBool {
			return nil, bad()
		}
		return v.Bool, nil
	case colTime:
		t, err := time.Parse(time.RFC3339Nano, v.Str)
		if err != nil || v.Kind != query.KindString {
			return nil, bad()
		}
		return t.UnixMilli(), nil
	}
	return nil, bad()
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// scanner is what a row scanner reads from: *sql.Row or *sql.Rows.
type scanner = interface{ Scan(...any) error }

// listPage runs one list query: the total of the rows of from (a "table
// WHERE condition" clause, with scopeArgs for its placeholders) that opts'
// filter and search match, and the page opts asks for, read with scan. what
// names the list in errors.
func listPage[T any](ctx context.Context, s *DB, spec *listSpec, cols, from string, scopeArgs []any, opts ListOptions,
	scan func(scanner) (T, error), what string) ([]T, int, error) {
	where, args, order, limit, offset, err := s.compile(spec, opts)
	if err != nil {
		return nil, 0, err
	}
	args = append(append([]any{}, scopeArgs...), args...)
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM `+from+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, err)
	}
	rows, err := s.query(ctx, `SELECT `+cols+` FROM `+from+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, total, rows.Err()
}
