-- The foundation: system accounts, tenants, users, groups, roles, dealers,
-- API tokens and logs. Timestamps are Unix milliseconds (BIGINT); settings
-- that are read and written whole, and never filtered on, are JSON in TEXT.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
-- +statement
CREATE TABLE admins (
	id            BIGINT PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
-- +statement
CREATE TABLE dealers (
	id                 BIGINT PRIMARY KEY,
	name               TEXT NOT NULL UNIQUE,
	password_hash      TEXT NOT NULL,
	enabled            BOOLEAN NOT NULL,
	level              TEXT NOT NULL,
	email              TEXT,
	display_name       TEXT,
	website            TEXT,
	phone              TEXT,
	address            TEXT,
	description        TEXT,
	max_tenants        INTEGER NOT NULL,
	max_extensions     INTEGER NOT NULL,
	tenant_full_access BOOLEAN NOT NULL,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL
);
-- +statement
CREATE TABLE tenants (
	id                   BIGINT PRIMARY KEY,
	name                 TEXT NOT NULL,
	domain               TEXT NOT NULL UNIQUE,
	enabled              BOOLEAN NOT NULL,
	website              TEXT,
	timezone             TEXT NOT NULL,
	currency             TEXT NOT NULL,
	region               TEXT NOT NULL,
	max_extensions       INTEGER NOT NULL,
	max_concurrent_calls INTEGER NOT NULL,
	settings             TEXT NOT NULL,
	password_policy      TEXT NOT NULL,
	created_at           BIGINT NOT NULL,
	updated_at           BIGINT NOT NULL
);
-- +statement
CREATE INDEX tenants_name ON tenants (name);
-- +statement
CREATE TABLE tenant_dealers (
	tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	dealer_id BIGINT NOT NULL REFERENCES dealers (id) ON DELETE CASCADE,
	PRIMARY KEY (tenant_id, dealer_id)
);
-- +statement
-- extension_numbers is the one namespace of dialable numbers per tenant:
-- users now; ring groups, queues, IVRs and conference rooms register here too.
CREATE TABLE extension_numbers (
	tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	number    TEXT NOT NULL,
	type      TEXT NOT NULL,
	owner_id  BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, number)
);
-- +statement
CREATE TABLE roles (
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	description TEXT,
	permissions TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, name)
);
-- +statement
CREATE TABLE users (
	id                 BIGINT PRIMARY KEY,
	tenant_id          BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name               TEXT NOT NULL,
	enabled            BOOLEAN NOT NULL,
	email              TEXT NOT NULL,
	display_name       TEXT NOT NULL,
	role               TEXT NOT NULL,
	mobile_phone       TEXT,
	work_phone         TEXT,
	home_phone         TEXT,
	address            TEXT,
	department         TEXT,
	extension_number   TEXT NOT NULL,
	extension_password TEXT NOT NULL,
	password_hash      TEXT NOT NULL,
	settings           TEXT NOT NULL,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL,
	UNIQUE (tenant_id, name),
	UNIQUE (tenant_id, extension_number)
);
-- +statement
CREATE INDEX users_tenant_display_name ON users (tenant_id, display_name);
-- +statement
CREATE INDEX users_tenant_created_at ON users (tenant_id, created_at);
-- +statement
CREATE INDEX users_tenant_email ON users (tenant_id, email);
-- +statement
CREATE TABLE user_groups (
	id                  BIGINT PRIMARY KEY,
	tenant_id           BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name                TEXT NOT NULL,
	description         TEXT,
	outbound_caller_ids TEXT NOT NULL,
	created_at          BIGINT NOT NULL,
	UNIQUE (tenant_id, name)
);
-- +statement
CREATE TABLE user_group_members (
	group_id BIGINT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
	user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
-- +statement
-- tokens are the API's bearer and refresh tokens, stored as SHA-256 hashes.
-- principal_kind is ADMIN, DEALER or USER; tenant_id is the principal's
-- tenant (0 for system accounts) and scope_tenant_id the tenant a system
-- admin or dealer has switched into.
CREATE TABLE tokens (
	id                 BIGINT PRIMARY KEY,
	access_hash        TEXT NOT NULL UNIQUE,
	refresh_hash       TEXT NOT NULL UNIQUE,
	principal_kind     TEXT NOT NULL,
	principal_id       BIGINT NOT NULL,
	tenant_id          BIGINT NOT NULL,
	scope_tenant_id    BIGINT NOT NULL,
	role               TEXT NOT NULL,
	expires_at         BIGINT NOT NULL,
	refresh_expires_at BIGINT NOT NULL,
	created_at         BIGINT NOT NULL
);
-- +statement
CREATE INDEX tokens_principal ON tokens (principal_kind, principal_id);
-- +statement
CREATE TABLE audit_logs (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	source      TEXT,
	ip          TEXT,
	action      TEXT NOT NULL,
	object_type TEXT NOT NULL,
	user_name   TEXT,
	object_name TEXT,
	old_state   TEXT,
	new_state   TEXT
);
-- +statement
CREATE INDEX audit_logs_tenant_created ON audit_logs (tenant_id, created_at);
-- +statement
CREATE TABLE event_logs (
	id         BIGINT PRIMARY KEY,
	tenant_id  BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	level      TEXT NOT NULL,
	source     TEXT,
	message    TEXT NOT NULL
);
-- +statement
CREATE INDEX event_logs_tenant_created ON event_logs (tenant_id, created_at);
