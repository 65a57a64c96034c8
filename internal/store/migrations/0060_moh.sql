-- Music on hold (/moh_server/musics): each row makes one of the tenant's
-- files (a WAV uploaded through /blobs/uploads) a music its held callers
-- may hear. A file is a music of its tenant at most once. Deleting a music
-- keeps its file; deleting the file leaves a row that plays nothing until
-- it is deleted too. The tenant's play settings are the setting
-- "moh:<tenant id>" (store.MOHSettings). Times are Unix milliseconds.
CREATE TABLE moh_musics (
	id          BIGINT PRIMARY KEY,
	tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	file_id     BIGINT NOT NULL,
	created_at  BIGINT NOT NULL
);
-- +statement
CREATE UNIQUE INDEX moh_musics_file ON moh_musics (tenant_id, file_id);
