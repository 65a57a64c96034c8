-- Virtual receptionists (PortSIP's /ivrs) and their action URLs. An IVR's
-- extension number is also claimed in extension_numbers, in the same
-- transaction; its menu (prompts, PIN, forward rules, custom rules) is JSON
-- in TEXT that the API owns, read and written whole. Times are Unix
-- milliseconds.
CREATE TABLE ivrs (
	id               BIGINT PRIMARY KEY,
	tenant_id        BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name             TEXT NOT NULL,
	extension_number TEXT NOT NULL,
	settings         TEXT NOT NULL,
	created_at       BIGINT NOT NULL
);
-- +statement
CREATE UNIQUE INDEX ivrs_name ON ivrs (tenant_id, name);
-- +statement
CREATE UNIQUE INDEX ivrs_extension ON ivrs (tenant_id, extension_number);
-- +statement
CREATE TABLE ivr_action_urls (
	id         BIGINT PRIMARY KEY,
	tenant_id  BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	ivr_id     BIGINT NOT NULL REFERENCES ivrs (id) ON DELETE CASCADE,
	settings   TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
-- +statement
CREATE INDEX ivr_action_urls_ivr ON ivr_action_urls (tenant_id, ivr_id, id);
