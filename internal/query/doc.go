// Package query parses the list options of PortSIP's REST API: the OData
// subset that `filter` takes (eq ne gt ge lt le, and, or, not, parentheses,
// startswith/endswith/contains, single-quoted strings) and `orderby`
// ("field asc, other desc"). It is pure: it knows no fields or tables, and
// the store checks the names it returns against each resource's columns.
package query
