package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gopbx/gopbx/internal/pbx"
)

// File is an uploaded file of a tenant (a prompt, a greeting, music on
// hold): PortSIP's /files. The bytes are at Path, relative to the data
// folder; SHA256 is their hex digest (the blob's name in /blobs/{digest}).
type File struct {
	ID        pbx.ID
	Tenant    pbx.TenantID
	Name      string
	Size      int64
	MediaType string
	SHA256    string
	Path      string
	// Temporary files are removed by the sweep once they are a day old
	// unless something adopted them (SetFileTemporary false).
	Temporary bool
	CreatedAt time.Time
}

const fileCols = `id, tenant_id, name, size, media_type, sha256, path, temporary, created_at`

var fileList = &listSpec{
	fields: map[string]column{
		"id":         {"id", colID},
		"name":       {"name", colText},
		"size":       {"size", colInt},
		"media_type": {"media_type", colText},
		"created_at": {"created_at", colTime},
	},
	search:  []string{"name"},
	orderBy: "id DESC",
}

func scanFile(row interface{ Scan(...any) error }) (File, error) {
	var f File
	var created int64
	err := row.Scan(&f.ID, &f.Tenant, &f.Name, &f.Size, &f.MediaType, &f.SHA256, &f.Path, &f.Temporary, &created)
	f.CreatedAt = msTime(created)
	return f, err
}

// CreateFile records a file whose bytes are already at f.Path.
func (s *DB) CreateFile(ctx context.Context, tenant pbx.TenantID, f *File) error {
	if f.ID == 0 {
		f.ID = s.NewID()
	}
	f.Tenant = tenant
	now := s.nowMS()
	if _, err := s.exec(ctx, `INSERT INTO files (`+fileCols+`) VALUES (?,?,?,?,?,?,?,?,?)`,
		f.ID, tenant, f.Name, f.Size, f.MediaType, f.SHA256, f.Path, f.Temporary, now); err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	f.CreatedAt = msTime(now)
	return nil
}

// File returns one file of tenant.
func (s *DB) File(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (File, error) {
	f, err := scanFile(s.queryRow(ctx, `SELECT `+fileCols+` FROM files WHERE tenant_id = ? AND id = ?`, tenant, id))
	return f, notFound(err, "file")
}

// FileByDigest returns tenant's newest file with the given SHA-256.
func (s *DB) FileByDigest(ctx context.Context, tenant pbx.TenantID, sha string) (File, error) {
	f, err := scanFile(s.queryRow(ctx, `SELECT `+fileCols+` FROM files WHERE tenant_id = ? AND sha256 = ? ORDER BY id DESC LIMIT 1`, tenant, sha))
	return f, notFound(err, "file")
}

// ListFiles returns a page of tenant's files and the total that match.
func (s *DB) ListFiles(ctx context.Context, tenant pbx.TenantID, opts ListOptions) ([]File, int, error) {
	return listPage(ctx, s, fileList, fileCols, `files WHERE tenant_id = ?`, []any{tenant}, opts, scanFile, "files")
}

// SetFileTemporary marks a file kept (false) or sweepable (true).
func (s *DB) SetFileTemporary(ctx context.Context, tenant pbx.TenantID, id pbx.ID, temporary bool) error {
	return s.execOne(ctx, "set file temporary", "file", nil, `UPDATE files SET temporary = ? WHERE tenant_id = ? AND id = ?`, temporary, tenant, id)
}

// DeleteFile removes a file's row and returns it, so that the caller
// removes its bytes.
func (s *DB) DeleteFile(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (File, error) {
	f, err := s.File(ctx, tenant, id)
	if err != nil {
		return f, err
	}
	if _, err := s.exec(ctx, `DELETE FROM files WHERE tenant_id = ? AND id = ?`, tenant, id); err != nil {
		return f, fmt.Errorf("delete file: %w", err)
	}
	return f, nil
}

// Upload is a chunked upload in progress (/blobs/uploads): the bytes so
// far are at Path; the client proves it owns the upload with a token whose
// SHA-256 is TokenHash.
type Upload struct {
	ID        pbx.ID
	Tenant    pbx.TenantID
	Name      string
	TokenHash string
	Size      int64
	Path      string
	Temporary bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

const uploadCols = `id, tenant_id, name, token_hash, size, path, temporary, created_at, updated_at`

func scanUpload(row interface{ Scan(...any) error }) (Upload, error) {
	var u Upload
	var created, updated int64
	err := row.Scan(&u.ID, &u.Tenant, &u.Name, &u.TokenHash, &u.Size, &u.Path, &u.Temporary, &created, &updated)
	u.CreatedAt, u.UpdatedAt = msTime(created), msTime(updated)
	return u, err
}

// CreateUpload records a new upload.
func (s *DB) CreateUpload(ctx context.Context, tenant pbx.TenantID, u *Upload) error {
	if u.ID == 0 {
		u.ID = s.NewID()
	}
	u.Tenant = tenant
	now := s.nowMS()
	if _, err := s.exec(ctx, `INSERT INTO uploads (`+uploadCols+`) VALUES (?,?,?,?,?,?,?,?,?)`,
		u.ID, tenant, u.Name, u.TokenHash, u.Size, u.Path, u.Temporary, now, now); err != nil {
		return fmt.Errorf("create upload: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = msTime(now), msTime(now)
	return nil
}

// Upload returns one upload of tenant.
func (s *DB) Upload(ctx context.Context, tenant pbx.TenantID, id pbx.ID) (Upload, error) {
	u, err := scanUpload(s.queryRow(ctx, `SELECT `+uploadCols+` FROM uploads WHERE tenant_id = ? AND id = ?`, tenant, id))
	return u, notFound(err, "upload")
}

// SetUploadSize records how many bytes an upload holds after a chunk.
func (s *DB) SetUploadSize(ctx context.Context, tenant pbx.TenantID, id pbx.ID, size int64) error {
	return s.execOne(ctx, "set upload size", "upload", nil, `UPDATE uploads SET size = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`, size, s.nowMS(), tenant, id)
}

// DeleteUpload removes an upload's row.
func (s *DB) DeleteUpload(ctx context.Context, tenant pbx.TenantID, id pbx.ID) error {
	return s.execOne(ctx, "delete upload", "upload", nil, `DELETE FROM uploads WHERE tenant_id = ? AND id = ?`, tenant, id)
}

// Greeting is a user's recorded voicemail greeting: a file of the tenant.
// At most one of a user's greetings is enabled, the one callers hear.
type Greeting struct {
	ID        pbx.ID
	Tenant    pbx.TenantID
	User      pbx.ID
	File      pbx.ID
	Enabled   bool
	CreatedAt time.Time
}

const greetingCols = `id, tenant_id, user_id, file_id, enabled, created_at`

func scanGreeting(row interface{ Scan(...any) error }) (Greeting, error) {
	var g Greeting
	var created int64
	err := row.Scan(&g.ID, &g.Tenant, &g.User, &g.File, &g.Enabled, &created)
	g.CreatedAt = msTime(created)
	return g, err
}

// CreateGreeting adds a greeting to user; an enabled one disables the
// user's others in the same transaction.
func (s *DB) CreateGreeting(ctx context.Context, tenant pbx.TenantID, g *Greeting) error {
	g.ID, g.Tenant = s.NewID(), tenant
	now := s.nowMS()
	return s.tx(ctx, func(tx *Tx) error {
		if g.Enabled {
			if _, err := tx.exec(ctx, `UPDATE greetings SET enabled = ? WHERE tenant_id = ? AND user_id = ?`, false, tenant, g.User); err != nil {
				return fmt.Errorf("create greeting: %w", err)
			}
		}
		if _, err := tx.exec(ctx, `INSERT INTO greetings (`+greetingCols+`) VALUES (?,?,?,?,?,?)`, g.ID, tenant, g.User, g.File, g.Enabled, now); err != nil {
			return fmt.Errorf("create greeting: %w", err)
		}
		g.CreatedAt = msTime(now)
		return nil
	})
}

// Greetings returns user's greetings, oldest first.
func (s *DB) Greetings(ctx context.Context, tenant pbx.TenantID, user pbx.ID) ([]Greeting, error) {
	rows, err := s.query(ctx, `SELECT `+greetingCols+` FROM greetings WHERE tenant_id = ? AND user_id = ? ORDER BY id`, tenant, user)
	if err != nil {
		return nil, fmt.Errorf("list greetings: %w", err)
	}
	defer rows.Close()
	var out []Greeting
	for rows.Next() {
		g, err := scanGreeting(rows)
		if err != nil {
			return nil, fmt.Errorf("list greetings: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// EnableGreeting makes a greeting the one callers hear (enabled true,
// the user's others off) or turns it off.
func (s *DB) EnableGreeting(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID, enabled bool) error {
	return s.tx(ctx, func(tx *Tx) error {
		if enabled {
			if _, err := tx.exec(ctx, `UPDATE greetings SET enabled = ? WHERE tenant_id = ? AND user_id = ?`, false, tenant, user); err != nil {
				return fmt.Errorf("enable greeting: %w", err)
			}
		}
		res, err := tx.exec(ctx, `UPDATE greetings SET enabled = ? WHERE tenant_id = ? AND user_id = ? AND id = ?`, enabled, tenant, user, id)
		if err != nil {
			return fmt.Errorf("enable greeting: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pbx.Errorf(pbx.ENOTFOUND, "greeting not found")
		}
		return nil
	})
}

// DeleteGreeting removes a greeting (not its file).
func (s *DB) DeleteGreeting(ctx context.Context, tenant pbx.TenantID, user, id pbx.ID) error {
	return s.execOne(ctx, "delete greeting", "greeting", nil, `DELETE FROM greetings WHERE tenant_id = ? AND user_id = ? AND id = ?`, tenant, user, id)
}
