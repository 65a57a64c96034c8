-- display_name_key makes a case-insensitive startswith on a user's display
-- name an index range in both dialects: the store writes the first 64 bytes
-- of the lower-cased name, each byte as three decimal digits, so that the
-- key sorts byte-wise under any collation. '' marks a row written before
-- this migration; while a tenant has one, lists fall back to a scan.
ALTER TABLE users ADD COLUMN display_name_key TEXT NOT NULL DEFAULT '';
-- +statement
CREATE INDEX users_tenant_display_name_key ON users (tenant_id, display_name_key, enabled);
