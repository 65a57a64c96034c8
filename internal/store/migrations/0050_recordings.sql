-- Call recordings (/recordings, /user/recordings). Each row is one recorded
-- call, linked to its CDR (cdr_id) and session; the users of both parties
-- (0 for a party that is not a user of the tenant, as a trunk's) let a user
-- see the recordings of their own calls. files is the JSON list of WAV
-- files under the data folder: one for a mixed recording, two (the
-- caller's side, then the callee's) for dual-track. Times are Unix
-- milliseconds.
CREATE TABLE recordings (
	id              BIGINT PRIMARY KEY,
	tenant_id       BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	session_id      BIGINT NOT NULL,
	cdr_id          BIGINT NOT NULL,
	caller          TEXT NOT NULL,
	callee          TEXT NOT NULL,
	caller_user_id  BIGINT NOT NULL,
	callee_user_id  BIGINT NOT NULL,
	started_at      BIGINT NOT NULL,
	ended_at        BIGINT NOT NULL,
	duration_ms     BIGINT NOT NULL,
	format          TEXT NOT NULL,
	size            BIGINT NOT NULL,
	files           TEXT NOT NULL
);
-- +statement
CREATE INDEX recordings_tenant ON recordings (tenant_id, started_at);
-- +statement
CREATE INDEX recordings_caller_user ON recordings (tenant_id, caller_user_id);
-- +statement
CREATE INDEX recordings_callee_user ON recordings (tenant_id, callee_user_id);
