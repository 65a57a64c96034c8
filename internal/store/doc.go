// Package store keeps gopbx's state in SQL: one database/sql implementation
// for every table, run on SQLite (modernc.org/sqlite, no cgo) by default and
// on PostgreSQL (jackc/pgx/v5) for clusters. The two differ only through the
// small dialect seam in dialect.go. Every method that touches tenant-owned
// rows takes the tenant as an explicit pbx.TenantID.
package store
