-- Call detail records: one row per call, answered or not, with PortSIP's
-- CDR fields. Times are Unix milliseconds, 0 when the call never got there.
-- caller and callee are indexed for /api/user/cdrs, started_at for the
-- default newest-first order.
CREATE TABLE cdrs (
	id                  BIGINT PRIMARY KEY,
	tenant_id           BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	session_id          BIGINT NOT NULL,
	call_id             TEXT NOT NULL,
	caller              TEXT NOT NULL,
	caller_domain       TEXT NOT NULL,
	caller_display_name TEXT NOT NULL,
	callee              TEXT NOT NULL,
	callee_domain       TEXT NOT NULL,
	callee_display_name TEXT NOT NULL,
	started_at          BIGINT NOT NULL,
	rang_at             BIGINT NOT NULL,
	answered_at         BIGINT NOT NULL,
	ended_at            BIGINT NOT NULL,
	direction           TEXT NOT NULL,
	end_reason          TEXT NOT NULL,
	reroute_reason      TEXT NOT NULL,
	status_code         INTEGER NOT NULL,
	destination         TEXT NOT NULL,
	outbound_caller_id  TEXT NOT NULL,
	did_cid             TEXT NOT NULL,
	trunk               TEXT NOT NULL,
	duration            INTEGER NOT NULL,
	service_number      TEXT NOT NULL,
	user_data           TEXT NOT NULL
);
-- +statement
CREATE INDEX cdrs_tenant_started ON cdrs (tenant_id, started_at);
-- +statement
CREATE INDEX cdrs_tenant_caller ON cdrs (tenant_id, caller);
-- +statement
CREATE INDEX cdrs_tenant_callee ON cdrs (tenant_id, callee);
-- +statement
CREATE INDEX cdrs_tenant_session ON cdrs (tenant_id, session_id);
