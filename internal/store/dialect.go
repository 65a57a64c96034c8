package store

import (
	"strconv"
	"strings"
)

// dialect is the seam between SQLite and PostgreSQL. Queries are written once
// with '?' placeholders and portable SQL; the dialect fills in the rest.
type dialect interface {
	// name is "sqlite" or "postgres".
	name() string
	// rebind rewrites '?' placeholders into the dialect's form.
	rebind(query string) string
	// likeCI returns a case-insensitive LIKE operator.
	likeCI() string
	// forUpdate is the clause that locks the rows a SELECT reads until the
	// transaction ends; empty on SQLite, whose IMMEDIATE transactions
	// already serialise writers.
	forUpdate() string
}

type sqliteDialect struct{}

func (sqliteDialect) name() string           { return "sqlite" }
func (sqliteDialect) rebind(q string) string { return q }
func (sqliteDialect) likeCI() string         { return "LIKE" }
func (sqliteDialect) forUpdate() string      { return "" }

type postgresDialect struct{}

func (postgresDialect) name() string      { return "postgres" }
func (postgresDialect) likeCI() string    { return "ILIKE" }
func (postgresDialect) forUpdate() string { return " FOR UPDATE" }

// rebind turns each '?' outside string literals into $1, $2, ...
func (postgresDialect) rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, inStr := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
