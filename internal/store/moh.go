package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// MOHPlayType says which music on hold a tenant's held callers hear
// (PortSIP's /moh_server play_type).
type MOHPlayType string

// The play types of PortSIP's API.
const (
	// MOHDefaultMusic plays the tenant's first music (the oldest), or the
	// system's default music when the tenant has none.
	MOHDefaultMusic MOHPlayType = "DEFAULT_MUSIC"
	// MOHRandomPerCall picks one of the tenant's musics for each hold.
	MOHRandomPerCall MOHPlayType = "RANDOM_MUSIC_PER_CALL"
	// MOHRandomPerDay picks one of the tenant's musics for each day.
	MOHRandomPerDay MOHPlayType = "RANDOM_MUSIC_PER_DAY"
)

func (t MOHPlayType) String() string { return string(t) }

// Valid reports whether t is one of PortSIP's play types.
func (t MOHPlayType) Valid() bool {
	switch t {
	case MOHDefaultMusic, MOHRandomPerCall, MOHRandomPerDay:
		return true
	}
	return false
}

// MOHSettings are a tenant's music on hold settings (PortSIP's
// /moh_server), stored as the JSON of this type in the setting
// "moh:<tenant id>". A tenant that never wrote them has
// DefaultMOHSettings().
type MOHSettings struct {
	// Enabled plays music to held callers; when false they hear what the
	// holding phone sends.
	Enabled  bool        `json:"enabled"`
	PlayType MOHPlayType `json:"play_type"`
}

// DefaultMOHSettings returns PortSIP's defaults: music on, the default
// music.
func DefaultMOHSettings() MOHSettings { return MOHSettings{Enabled: true, PlayType: MOHDefaultMusic} }

func mohSettingName(tenant pbx.TenantID) string { return "moh:" + tenant.String() }

// MOHSettings returns tenant's music on hold settings, DefaultMOHSettings()
// where none were written.
func (s *DB) MOHSettings(ctx context.Context, tenant pbx.TenantID) (MOHSettings, error) {
	v := DefaultMOHSettings()
	if err := s.Setting(ctx, mohSettingName(tenant), &v); err != nil {
		return v, fmt.Errorf("moh settings: %w", err)
	}
	if !v.PlayType.Valid() {
		v.PlayType = MOHDefaultMusic
	}
	return v, nil
}

// SetMOHSettings writes tenant's music on hold settings. An unknown play
// type is EINVALID naming "play_type".
func (s *DB) SetMOHSettings(ctx context.Context, tenant pbx.TenantID, v MOHSettings) error {
	if !v.PlayType.Valid() {
		return &pbx.Error{Code: pbx.EINVALID, Field: "play_type", Message: fmt.Sprintf("unknown play type %q", v.PlayType)}
	}
	return s.SetSetting(ctx, mohSettingName(tenant), v)
}

// MOHMusic is one of a tenant's musics on hold: a file of the tenant.
type MOHMusic struct {
	ID        pbx.ID
	Tenant    pbx.TenantID
	File      pbx.ID
	CreatedAt time.Time
}

const mohMusicCols = `id, tenant_id, file_id, created_at`

func scanMOHMusic(row interface{ Scan(...any) error }) (MOHMusic, error) {
	var m MOHMusic
	var created int64
	err := row.Scan(&m.ID, &m.Tenant, &m.File, &created)
	m.CreatedAt = msTime(created)
	return m, err
}

// CreateMOHMusic adds m.File, which the caller checked is a playable file
// of tenant, to tenant's musics. A file that already is one is ECONFLICT
// naming "file_id".
func (s *DB) CreateMOHMusic(ctx context.Context, tenant pbx.TenantID, m *MOHMusic) error {
	m.ID, m.Tenant = s.NewID(), tenant
	now := s.nowMS()
	_, err := s.exec(ctx, `INSERT INTO moh_musics (`+mohMusicCols+`) VALUES (?,?,?,?)`, m.ID, tenant, m.File, now)
	if isUniqueViolation(err) {
		return &pbx.Error{Code: pbx.ECONFLICT, Field: "file_id", Message: "file " + m.File.String() + " already is a music on hold"}
	} else if err != nil {
		return fmt.Errorf("create moh music: %w", err)
	}
	m.CreatedAt = msTime(now)
	return nil
}

// MOHMusic returns one of tenant's musics.
func (s *DB) MOHMusic(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (MOHMusic, error) {
	m, err := scanMOHMusic(s.queryRow(ctx, `SELECT `+mohMusicCols+` FROM moh_musics WHERE tenant_id = ? AND id = ?`, tenant, id))
	return m, notFound(err, "music")
}

// MOHMusics returns tenant's musics, oldest first.
func (s *DB) MOHMusics(ctx context.Context, tenant pbx.TenantID) ([]MOHMusic, error) {
	rows, err := s.query(ctx, `SELECT `+mohMusicCols+` FROM moh_musics WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list moh musics: %w", err)
	}
	defer rows.Close()
	var out []MOHMusic
	for rows.Next() {
		m, err := scanMOHMusic(rows)
		if err != nil {
			return nil, fmt.Errorf("list moh musics: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MOHMusicFiles returns the files of tenant's musics, in the order of
// MOHMusics, leaving out musics whose file was deleted: what a held call
// may hear.
func (s *DB) MOHMusicFiles(ctx context.Context, tenant pbx.TenantID) ([]File, error) {
	rows, err := s.query(ctx, `SELECT f.id, f.tenant_id, f.name, f.size, f.media_type, f.sha256, f.path, f.temporary, f.created_at
		FROM moh_musics m JOIN files f ON f.tenant_id = m.tenant_id AND f.id = m.file_id
		WHERE m.tenant_id = ? ORDER BY m.id`, tenant)
	if err != nil {
		return nil, fmt.Errorf("list moh music files: %w", err)
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("list moh music files: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// DeleteMOHMusic removes one of tenant's musics (not its file).
func (s *DB) DeleteMOHMusic(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	return s.execOne(ctx, "delete moh music", "music", nil, `DELETE FROM moh_musics WHERE tenant_id = ? AND id = ?`, tenant, id)
}
