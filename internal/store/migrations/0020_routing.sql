-- Trunks (PortSIP's providers) and their assignment to tenants. A provider
-- is system-level; the columns are what lists filter on, and the rest of
-- its SIP settings are JSON in TEXT, read and written whole. The password
-- is kept apart so that no view of the settings can leak it.
CREATE TABLE providers (
	id          BIGINT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	enabled     BOOLEAN NOT NULL,
	brand       TEXT,
	hostname    TEXT NOT NULL,
	port        INTEGER NOT NULL,
	did_numbers TEXT,
	password    TEXT,
	settings    TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
-- +statement
CREATE TABLE provider_assignees (
	provider_id BIGINT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	did_numbers TEXT,
	concurrency INTEGER NOT NULL,
	PRIMARY KEY (provider_id, tenant_id)
);
-- +statement
-- holidays are a tenant's days off; inbound and outbound rules name them.
-- The date fields are JSON in TEXT, read and written whole.
CREATE TABLE holidays (
	id         BIGINT PRIMARY KEY,
	tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	region     TEXT,
	spec       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (tenant_id, name)
);
-- +statement
-- blacklisted_numbers, disallowed_codes and emergency_numbers are a
-- tenant's lists of numbers and prefixes: callers refused, prefixes its users
-- may not dial, and numbers always let out.
CREATE TABLE blacklisted_numbers (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	number      TEXT NOT NULL,
	expire_at   BIGINT NOT NULL,
	description TEXT,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (tenant_id, number)
);
-- +statement
CREATE TABLE disallowed_codes (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	number      TEXT NOT NULL,
	expire_at   BIGINT NOT NULL,
	description TEXT,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (tenant_id, number)
);
-- +statement
CREATE TABLE emergency_numbers (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	number      TEXT NOT NULL,
	expire_at   BIGINT NOT NULL,
	description TEXT,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (tenant_id, number)
);
-- +statement
-- inbound_rules route a trunk's DID numbers to the tenant; outbound_rules
-- route dialled numbers to trunks. Nested settings (forward rules, office
-- hours, holiday IDs, routes) are JSON in TEXT.
CREATE TABLE inbound_rules (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	enabled     BOOLEAN NOT NULL,
	did_numbers TEXT NOT NULL,
	provider_id BIGINT NOT NULL,
	settings    TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	UNIQUE (tenant_id, name)
);
-- +statement
CREATE TABLE outbound_rules (
	id               BIGINT PRIMARY KEY,
	tenant_id        BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name             TEXT NOT NULL,
	enabled          BOOLEAN NOT NULL,
	priority         INTEGER NOT NULL,
	number_prefix    TEXT,
	number_length    TEXT,
	routing_strategy TEXT NOT NULL,
	settings         TEXT NOT NULL,
	created_at       BIGINT NOT NULL,
	UNIQUE (tenant_id, name)
);
-- +statement
CREATE TABLE outbound_rule_groups (
	rule_id  BIGINT NOT NULL REFERENCES outbound_rules (id) ON DELETE CASCADE,
	group_id BIGINT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
	PRIMARY KEY (rule_id, group_id)
);
