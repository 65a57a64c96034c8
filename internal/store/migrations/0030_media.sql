-- Files a tenant uploaded (prompts, greetings, music on hold) and chunked
-- uploads in progress; voicemail messages and users' greetings. The audio
-- itself lives under the data folder (path is relative to it); rows hold
-- what lists and checks need. Times are Unix milliseconds.
CREATE TABLE files (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL,
	name        TEXT NOT NULL,
	size        BIGINT NOT NULL,
	media_type  TEXT NOT NULL,
	sha256      TEXT NOT NULL,
	path        TEXT NOT NULL,
	temporary   BOOLEAN NOT NULL,
	created_at  BIGINT NOT NULL
);
-- +statement
CREATE INDEX files_tenant ON files (tenant_id, id);
-- +statement
CREATE TABLE uploads (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL,
	name        TEXT NOT NULL,
	token_hash  TEXT NOT NULL,
	size        BIGINT NOT NULL,
	path        TEXT NOT NULL,
	temporary   BOOLEAN NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
-- +statement
CREATE TABLE voicemails (
	id                  BIGINT PRIMARY KEY,
	tenant_id           BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id             BIGINT NOT NULL,
	sender              TEXT NOT NULL,
	sender_display_name TEXT NOT NULL,
	duration_ms         BIGINT NOT NULL,
	path                TEXT NOT NULL,
	size                BIGINT NOT NULL,
	is_read             BOOLEAN NOT NULL,
	created_at          BIGINT NOT NULL
);
-- +statement
CREATE INDEX voicemails_box ON voicemails (tenant_id, user_id, created_at);
-- +statement
CREATE TABLE greetings (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id     BIGINT NOT NULL,
	file_id     BIGINT NOT NULL,
	enabled     BOOLEAN NOT NULL,
	created_at  BIGINT NOT NULL
);
-- +statement
CREATE INDEX greetings_user ON greetings (tenant_id, user_id);
