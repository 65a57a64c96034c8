package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/pbx"
)

// Expr is a node of a parsed filter: *Compare, *Func, *Logical or *Not.
type Expr interface{ isExpr() }

// Kind says what a literal is.
type Kind int

// Literal kinds.
const (
	KindString Kind = iota
	KindNumber
	KindBool
	KindNull
)

// Value is a literal of a filter.
type Value struct {
	Kind Kind
	Str  string // KindString text, or the KindNumber digits as written
	Bool bool
}

// Compare is "Field Op Value" with Op one of eq ne gt ge lt le.
type Compare struct {
	Field string
	Op    string
	Value Value
}

// Func is startswith(Field,'Arg'), endswith(...) or contains(...).
type Func struct {
	Name  string
	Field string
	Arg   string
}

// Logical is "Left and Right" or "Left or Right".
type Logical struct {
	Op          string
	Left, Right Expr
}

// Not negates an expression.
type Not struct{ X Expr }

func (*Compare) isExpr() {}
func (*Func) isExpr()    {}
func (*Logical) isExpr() {}
func (*Not) isExpr()     {}

// Order is one term of orderby.
type Order struct {
	Field string
	Desc  bool
}

// maxDepth bounds nesting so that a hostile filter cannot exhaust the stack.
const maxDepth = 32

// maxLen bounds the filter text.
const maxLen = 4096

// Parse parses a filter. An empty filter is a nil Expr. Errors are EINVALID
// and name the "filter" field.
func Parse(s string) (Expr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	if len(s) > maxLen {
		return nil, pbx.FieldErrorf("filter", "filter longer than %d characters", maxLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, p.errorf("unexpected %q", p.toks[p.pos].text)
	}
	return e, nil
}

// ParseOrderBy parses "field [asc|desc], ...". Errors name "orderby".
func ParseOrderBy(s string) ([]Order, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Order
	for _, part := range strings.Split(s, ",") {
		f := strings.Fields(part)
		if len(f) == 0 || len(f) > 2 || !isIdent(f[0]) {
			return nil, pbx.FieldErrorf("orderby", "bad term %q", strings.TrimSpace(part))
		}
		o := Order{Field: f[0]}
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
			case "desc":
				o.Desc = true
			default:
				return nil, pbx.FieldErrorf("orderby", "bad direction %q", f[1])
			}
		}
		out = append(out, o)
	}
	if len(out) > 8 {
		return nil, pbx.FieldErrorf("orderby", "too many terms")
	}
	return out, nil
}

type tokKind int

const (
	tIdent tokKind = iota
	tString
	tNumber
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "("})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")"})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ","})
			i++
		case c == '\'':
			// OData escapes a quote inside a string by doubling it.
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, pbx.FieldErrorf("filter", "unterminated string")
			}
			toks = append(toks, token{tString, b.String()})
		case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (s[j] == '.' || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			if _, err := strconv.ParseFloat(s[i:j], 64); err != nil {
				return nil, pbx.FieldErrorf("filter", "bad number %q", s[i:j])
			}
			toks = append(toks, token{tNumber, s[i:j]})
			i = j
		case isIdentByte(c):
			j := i
			for j < len(s) && (isIdentByte(s[j]) || (s[j] >= '0' && s[j] <= '9') || s[j] == '.') {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j]})
			i = j
		default:
			return nil, pbx.FieldErrorf("filter", "unexpected character %q", c)
		}
	}
	return toks, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdent(s string) bool {
	if s == "" || !isIdentByte(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentByte(s[i]) && !(s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) errorf(format string, args ...any) error {
	return pbx.FieldErrorf("filter", format, args...)
}

func (p *parser) peek() (token, bool) {
	if p.pos >= len(p.toks) {
		return token{}, false
	}
	return p.toks[p.pos], true
}

func (p *parser) keyword(word string) bool {
	t, ok := p.peek()
	if ok && t.kind == tIdent && strings.EqualFold(t.text, word) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) or(depth int) (Expr, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = &Logical{Op: "or", Left: l, Right: r}
	}
	return l, nil
}

func (p *parser) and(depth int) (Expr, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = &Logical{Op: "and", Left: l, Right: r}
	}
	return l, nil
}

func (p *parser) unary(depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	if p.keyword("not") {
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	t, ok := p.peek()
	if !ok {
		return nil, p.errorf("unexpected end")
	}
	if t.kind == tLParen {
		p.pos++
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if t, ok := p.peek(); !ok || t.kind != tRParen {
			return nil, p.errorf("missing )")
		}
		p.pos++
		return e, nil
	}
	if t.kind != tIdent {
		return nil, p.errorf("expected a field, got %q", t.text)
	}
	p.pos++
	name := t.text
	switch fn := strings.ToLower(name); fn {
	case "startswith", "endswith", "contains":
		if nt, ok := p.peek(); ok && nt.kind == tLParen {
			return p.fn(fn)
		}
	}
	if !isIdent(name) {
		return nil, p.errorf("bad field %q", name)
	}
	op, ok := p.peek()
	if !ok || op.kind != tIdent {
		return nil, p.errorf("expected an operator after %q", name)
	}
	lop := strings.ToLower(op.text)
	switch lop {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		return nil, p.errorf("unknown operator %q", op.text)
	}
	p.pos++
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return &Compare{Field: name, Op: lop, Value: v}, nil
}

func (p *parser) fn(name string) (Expr, error) {
	p.pos++ // (
	f, ok := p.peek()
	if !ok || f.kind != tIdent || !isIdent(f.text) {
		return nil, p.errorf("%s: expected a field", name)
	}
	p.pos++
	if c, ok := p.peek(); !ok || c.kind != tComma {
		return nil, p.errorf("%s: expected ,", name)
	}
	p.pos++
	a, ok := p.peek()
	if !ok || a.kind != tString {
		return nil, p.errorf("%s: expected a quoted string", name)
	}
	p.pos++
	if r, ok := p.peek(); !ok || r.kind != tRParen {
		return nil, p.errorf("%s: missing )", name)
	}
	p.pos++
	return &Func{Name: name, Field: f.text, Arg: a.text}, nil
}

func (p *parser) value() (Value, error) {
	t, ok := p.peek()
	if !ok {
		return Value{}, p.errorf("expected a value")
	}
	p.pos++
	switch t.kind {
	case tString:
		return Value{Kind: KindString, Str: t.text}, nil
	case tNumber:
		return Value{Kind: KindNumber, Str: t.text}, nil
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return Value{Kind: KindBool, Bool: true}, nil
		case "false":
			return Value{Kind: KindBool}, nil
		case "null":
			return Value{Kind: KindNull}, nil
		}
	}
	return Value{}, p.errorf("bad value %q", t.text)
}

// String renders an expression back to filter syntax, for logs and tests.
func String(e Expr) string {
	switch e := e.(type) {
	case nil:
		return ""
	case *Compare:
		return fmt.Sprintf("%s %s %s", e.Field, e.Op, e.Value)
	case *Func:
		return fmt.Sprintf("%s(%s,%s)", e.Name, e.Field, Value{Kind: KindString, Str: e.Arg})
	case *Logical:
		return fmt.Sprintf("(%s %s %s)", String(e.Left), e.Op, String(e.Right))
	case *Not:
		return fmt.Sprintf("not %s", String(e.X))
	}
	return "?"
}

// String renders a literal in filter syntax.
func (v Value) String() string {
	switch v.Kind {
	case KindString:
		return "'" + strings.ReplaceAll(v.Str, "'", "''") + "'"
	case KindBool:
		return strconv.FormatBool(v.Bool)
	case KindNull:
		return "null"
	}
	return v.Str
}
