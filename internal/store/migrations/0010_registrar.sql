-- Registrar bindings and the IP filter list of the SIP edge. Timestamps are
-- Unix milliseconds; expire_at 0 on an IP filter means it never expires.
-- binding_key identifies a binding within its user: "instance:<urn>;<reg-id>"
-- for RFC 5626 phones, "contact:<uri>" for the rest.
CREATE TABLE bindings (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	extension   TEXT NOT NULL,
	binding_key TEXT NOT NULL,
	contact     TEXT NOT NULL,
	instance_id TEXT NOT NULL,
	reg_id      INTEGER NOT NULL,
	call_id     TEXT NOT NULL,
	cseq        BIGINT NOT NULL,
	source      TEXT NOT NULL,
	transport   TEXT NOT NULL,
	user_agent  TEXT NOT NULL,
	expires_at  BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (tenant_id, user_id, binding_key)
);
-- +statement
CREATE INDEX bindings_tenant_extension ON bindings (tenant_id, extension);
-- +statement
CREATE INDEX bindings_expires_at ON bindings (expires_at);
-- +statement
CREATE TABLE ip_filters (
	id          BIGINT PRIMARY KEY,
	cidr        TEXT NOT NULL,
	target      TEXT NOT NULL,
	expire_at   BIGINT NOT NULL,
	description TEXT,
	created_at  BIGINT NOT NULL
);
-- +statement
CREATE INDEX ip_filters_cidr ON ip_filters (cidr);
