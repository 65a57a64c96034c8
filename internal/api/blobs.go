package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gopbx/gopbx/internal/media/audio"
	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store"
)

// maxUploadBytes is the largest file an upload may build. Each request's
// body is further capped below maxBodyBytes (Server.Handler; huma refuses
// a body of exactly its limit), so larger files come in chunks of at most
// 1 MiB - 1 byte.
const maxUploadBytes = 50 << 20

// uploadHeaders are the headers PortSIP answers upload operations with.
// Range is "0-<offset of the last byte held>", the convention of the
// Docker registry API PortSIP's uploads follow: "0-0" for an empty upload
// as well as for one of one byte.
type uploadHeaders struct {
	ID    string `header:"PortSIP-Upload-ID"`
	Range string `header:"Range"`
}

func newUploadHeaders(u store.Upload) uploadHeaders {
	end := u.Size
	if end > 0 {
		end--
	}
	return uploadHeaders{ID: u.ID.String(), Range: "0-" + strconv.FormatInt(end, 10)}
}

// uploadInit is uploadHeaders and the token (huma reads output headers
// from the struct's own fields only, so they are spelled out again).
type uploadInit struct {
	ID    string `header:"PortSIP-Upload-ID"`
	Range string `header:"Range"`
	Token string `header:"PortSIP-Upload-Token"`
}

type uploadInitInput struct {
	Filename  string `query:"filename" maxLength:"255"`
	Temporary bool   `query:"temporary"`
}

// The inputs spell their fields out: huma reads parameters from a
// struct's own fields only.
type uploadChunkInput struct {
	ID      string `path:"id"`
	Token   string `header:"PortSIP-Upload-Token" required:"true"`
	RawBody []byte `contentType:"application/octet-stream"`
}

// uploadCompleteInput reads its body itself (Resolve): huma requires a
// RawBody, and PortSIP's complete may come without one.
type uploadCompleteInput struct {
	ID      string `path:"id"`
	Token   string `header:"PortSIP-Upload-Token" required:"true"`
	Digest  string `query:"digest" doc:"sha256:<hex> or <hex>: the SHA-256 of the whole file"`
	last    []byte
	lastErr error
}

// Resolve implements huma.Resolver: it reads the optional last chunk.
func (in *uploadCompleteInput) Resolve(ctx huma.Context) []error {
	if r := ctx.BodyReader(); r != nil {
		in.last, in.lastErr = io.ReadAll(r)
	}
	return nil
}

// optionalBinaryBody documents a request body of bytes that may be absent.
func optionalBinaryBody() *huma.RequestBody {
	return &huma.RequestBody{Content: map[string]*huma.MediaType{
		"application/octet-stream": {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}}}}
}

// keyedMutex serialises the requests on one upload: chunks of the same
// upload must not interleave, while different uploads run in parallel.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[pbx.ID]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(id pbx.ID) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[pbx.ID]*keyedLock{}
	}
	l := k.locks[id]
	if l == nil {
		l = &keyedLock{}
		k.locks[id] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, id)
		}
		k.mu.Unlock()
	}
}

// registerBlobs serves /blobs: chunked, resumable uploads that end as a
// file of the tenant (/files), and downloads of a tenant's file by digest.
//
// An upload belongs to the tenant it was started in and is proven by the
// PortSIP-Upload-Token its start answered (only its SHA-256 is stored): a
// wrong token is refused with 403, another tenant's upload is not found.
// Chunks are appended in order; GET .../status answers the bytes held so
// far in Range, so a client that lost an answer resumes from there. A
// refused complete (wrong digest, unacceptable WAV) keeps the upload as it
// was before that request, so the client may resume or destroy it.
//
// A file whose name ends in .wav or whose bytes start as RIFF must be a WAV
// the PBX plays (audio.CheckWAV): 16-bit PCM, mono, 8, 16, 32 or 48 kHz.
//
// Unlike PortSIP, GET /blobs/{digest} needs a token: files are the
// tenant's, and the digest alone does not say which tenant's.
func (s *Server) registerBlobs() {
	tags := []string{"Blobs"}
	var locks keyedMutex
	handle(s, huma.Operation{OperationID: "init_blob_upload", Method: http.MethodPost, Path: "/blobs/uploads", Tags: tags, Summary: "Initiate file upload",
		DefaultStatus: http.StatusAccepted},
		tenantMember, func(ctx context.Context, p *principal, in *uploadInitInput) (*uploadInit, error) {
			if s.cfg.Data == "" {
				return nil, errNoData
			}
			name := strings.TrimSpace(in.Filename)
			if strings.ContainsAny(name, `/\`) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return nil, pbx.FieldErrorf("filename", "a file name has no path separators or control characters")
			}
			if name == "" {
				name = "upload"
			}
			var raw [32]byte
			rand.Read(raw[:])
			token := base64.RawURLEncoding.EncodeToString(raw[:])
			u := store.Upload{ID: s.db.NewID(), Name: name, TokenHash: hashToken(token), Temporary: in.Temporary}
			u.Path = filepath.Join("uploads", p.scope.String(), u.ID.String())
			path, err := s.dataPath(u.Path)
			if err != nil {
				return nil, err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				return nil, fmt.Errorf("start upload: %w", err)
			}
			if err := os.WriteFile(path, nil, 0o640); err != nil {
				return nil, fmt.Errorf("start upload: %w", err)
			}
			if err := s.db.CreateUpload(ctx, p.scope, &u); err != nil {
				os.Remove(path)
				return nil, err
			}
			h := newUploadHeaders(u)
			return &uploadInit{ID: h.ID, Range: h.Range, Token: token}, nil
		})
	handle(s, huma.Operation{OperationID: "append_blob_upload", Method: http.MethodPost, Path: "/blobs/uploads/{id}/append", Tags: tags,
		Summary: "Upload a chunk of data for the specified upload.", DefaultStatus: http.StatusAccepted, MaxBodyBytes: maxBodyBytes},
		tenantMember, func(ctx context.Context, p *principal, in *uploadChunkInput) (*uploadHeaders, error) {
			u, unlock, err := s.ownUpload(ctx, p, &locks, in.ID, in.Token)
			if err != nil {
				return nil, err
			}
			defer unlock()
			if err := s.appendChunk(ctx, &u, in.RawBody); err != nil {
				return nil, err
			}
			h := newUploadHeaders(u)
			return &h, nil
		})
	handle(s, huma.Operation{OperationID: "get_blob_upload_status", Method: http.MethodGet, Path: "/blobs/uploads/{id}/status", Tags: tags,
		Summary: "Get file upload status", DefaultStatus: http.StatusNoContent},
		tenantMember, func(ctx context.Context, p *principal, in *pathID) (*uploadHeaders, error) {
			id, err := parseID(in.ID, "upload")
			if err != nil {
				return nil, err
			}
			u, err := s.db.Upload(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			h := newUploadHeaders(u)
			return &h, nil
		})
	handle(s, huma.Operation{OperationID: "complete_blob_upload", Method: http.MethodPost, Path: "/blobs/uploads/{id}/complete", Tags: tags,
		Summary: "Complete file upload", DefaultStatus: http.StatusCreated, RequestBody: optionalBinaryBody()},
		tenantMember, func(ctx context.Context, p *principal, in *uploadCompleteInput) (*idBody, error) {
			if in.lastErr != nil {
				if errors.As(in.lastErr, new(*http.MaxBytesError)) {
					return nil, pbx.FieldErrorf("file", "a chunk is less than %d bytes", maxBodyBytes)
				}
				return nil, fmt.Errorf("complete upload: %w", in.lastErr)
			}
			want, err := parseDigest(in.Digest, "digest")
			if err != nil {
				return nil, err
			}
			u, unlock, err := s.ownUpload(ctx, p, &locks, in.ID, in.Token)
			if err != nil {
				return nil, err
			}
			defer unlock()
			f, err := s.completeUpload(ctx, p, u, in.last, want)
			if err != nil {
				return nil, err
			}
			s.audit(ctx, p, "CREATE", "FILE", f.Name, nil, newFileItem(f))
			return created(f.ID.String()), nil
		})
	handle(s, huma.Operation{OperationID: "delete_blob_upload", Method: http.MethodPost, Path: "/blobs/uploads/{id}/destroy", Tags: tags,
		Summary: "Delete file upload"},
		tenantMember, func(ctx context.Context, p *principal, in *pathID) (*noContent, error) {
			id, err := parseID(in.ID, "upload")
			if err != nil {
				return nil, err
			}
			defer locks.lock(id)()
			u, err := s.db.Upload(ctx, p.scope, id)
			if err != nil {
				return nil, err
			}
			if err := s.db.DeleteUpload(ctx, p.scope, id); err != nil {
				return nil, err
			}
			s.removeData(u.Path)
			return &noContent{}, nil
		})
	handle(s, huma.Operation{OperationID: "download_blob", Method: http.MethodGet, Path: "/blobs/{digest}", Tags: tags, Summary: "Download file blobs",
		Responses: binaryResponse("application/octet-stream")},
		tenantMember, func(ctx context.Context, p *principal, in *struct {
			Digest string `path:"digest"`
		}) (*huma.StreamResponse, error) {
			sum, err := parseDigest(in.Digest, "digest")
			if err != nil || sum == "" {
				return nil, pbx.Errorf(pbx.ENOTFOUND, "file not found")
			}
			f, err := s.db.FileByDigest(ctx, p.scope, sum)
			if err != nil {
				return nil, err
			}
			mt := f.MediaType
			if mt == "" {
				mt = "application/octet-stream"
			}
			return s.serveData(f.Path, f.Name, mt)
		})
}

// parseDigest reads "sha256:<hex>" or a bare hex SHA-256 into lowercase
// hex; "" stays "". Other algorithms are refused: PortSIP takes only
// SHA-256.
func parseDigest(d, field string) (string, error) {
	if d == "" {
		return "", nil
	}
	alg, sum, ok := strings.Cut(d, ":")
	if !ok {
		alg, sum = "sha256", d
	}
	if !strings.EqualFold(alg, "sha256") {
		return "", pbx.FieldErrorf(field, "only sha256 digests are accepted, not %q", alg)
	}
	sum = strings.ToLower(sum)
	if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
		return "", pbx.FieldErrorf(field, "a digest is sha256: and 64 hex digits")
	}
	return sum, nil
}

// ownUpload returns the caller's upload rawID, locked, after checking its
// token. The caller calls the returned unlock when done.
func (s *Server) ownUpload(ctx context.Context, p *principal, locks *keyedMutex, rawID, token string) (store.Upload, func(), error) {
	id, err := parseID(rawID, "upload")
	if err != nil {
		return store.Upload{}, nil, err
	}
	unlock := locks.lock(id)
	u, err := s.db.Upload(ctx, p.scope, id)
	if err != nil {
		unlock()
		return u, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(hashToken(strings.TrimSpace(token))), []byte(u.TokenHash)) != 1 {
		unlock()
		return u, nil, pbx.Errorf(pbx.EFORBIDDEN, "wrong upload token")
	}
	return u, unlock, nil
}

// appendChunk writes chunk after the bytes the store says u holds and
// records the new size. The store's size is the truth: bytes a failed
// request left beyond it are overwritten.
func (s *Server) appendChunk(ctx context.Context, u *store.Upload, chunk []byte) error {
	if u.Size+int64(len(chunk)) > maxUploadBytes {
		return pbx.FieldErrorf("file", "a file is at most %d MB", maxUploadBytes>>20)
	}
	if len(chunk) == 0 {
		return nil
	}
	if err := s.writeAt(u.Path, u.Size, chunk); err != nil {
		return fmt.Errorf("append upload: %w", err)
	}
	if err := s.db.SetUploadSize(ctx, u.Tenant, u.ID, u.Size+int64(len(chunk))); err != nil {
		return err
	}
	u.Size += int64(len(chunk))
	return nil
}

// writeAt cuts the file rel to off bytes and writes b there.
func (s *Server) writeAt(rel string, off int64, b []byte) error {
	path, err := s.dataPath(rel)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(off); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteAt(b, off); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// completeUpload appends the last chunk, checks the whole file against
// want (a hex SHA-256, or "") and, for a WAV, its format, and turns the
// upload into a file of the tenant. A refused upload is cut back to the
// size it had before the last chunk.
func (s *Server) completeUpload(ctx context.Context, p *principal, u store.Upload, last []byte, want string) (store.File, error) {
	if u.Size+int64(len(last)) > maxUploadBytes {
		return store.File{}, pbx.FieldErrorf("file", "a file is at most %d MB", maxUploadBytes>>20)
	}
	size := u.Size + int64(len(last))
	if len(last) > 0 {
		if err := s.writeAt(u.Path, u.Size, last); err != nil {
			return store.File{}, fmt.Errorf("complete upload: %w", err)
		}
	}
	f, err := s.adoptUpload(ctx, p, u, size, want)
	if err != nil && len(last) > 0 {
		if path, perr := s.dataPath(u.Path); perr == nil {
			os.Truncate(path, u.Size)
		}
	}
	return f, err
}

// adoptUpload checks the size bytes of u and moves them to a new file of
// the tenant.
func (s *Server) adoptUpload(ctx context.Context, p *principal, u store.Upload, size int64, want string) (store.File, error) {
	src, err := s.dataPath(u.Path)
	if err != nil {
		return store.File{}, err
	}
	fh, err := os.Open(src)
	if err != nil {
		return store.File{}, fmt.Errorf("complete upload: %w", err)
	}
	defer fh.Close()
	h := sha256.New()
	var head [512]byte
	n, _ := io.ReadFull(io.NewSectionReader(fh, 0, size), head[:])
	if _, err := io.Copy(h, io.NewSectionReader(fh, 0, size)); err != nil {
		return store.File{}, fmt.Errorf("complete upload: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if want != "" && want != sum {
		return store.File{}, pbx.FieldErrorf("digest", "the upload's digest is sha256:%s, not sha256:%s", sum, want)
	}
	mediaType := mediaTypeOf(u.Name, head[:n])
	if mediaType == "audio/wav" {
		if _, err := audio.CheckWAV(io.NewSectionReader(fh, 0, size)); err != nil {
			return store.File{}, wavError("file", err)
		}
	}
	f := store.File{ID: s.db.NewID(), Name: u.Name, Size: size, MediaType: mediaType, SHA256: sum, Temporary: u.Temporary}
	f.Path = filepath.Join("files", p.scope.String(), f.ID.String())
	dst, err := s.dataPath(f.Path)
	if err != nil {
		return store.File{}, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return store.File{}, fmt.Errorf("complete upload: %w", err)
	}
	if err := os.Rename(src, dst); err != nil {
		return store.File{}, fmt.Errorf("complete upload: %w", err)
	}
	// Bytes a failed append left beyond the upload's size are not the file's.
	if err := os.Truncate(dst, size); err != nil {
		os.Rename(dst, src)
		return store.File{}, fmt.Errorf("complete upload: %w", err)
	}
	if err := s.db.CreateFile(ctx, p.scope, &f); err != nil {
		os.Rename(dst, src)
		return store.File{}, err
	}
	if err := s.db.DeleteUpload(ctx, p.scope, u.ID); err != nil {
		s.log.Warn("completed upload not deleted", "upload", u.ID.String(), "err", err)
	}
	return f, nil
}

// mediaTypeOf names a file's type: audio/wav for a .wav name or RIFF/WAVE
// bytes, else what the name's extension or the bytes say.
func mediaTypeOf(name string, head []byte) string {
	if strings.EqualFold(filepath.Ext(name), ".wav") || bytes.HasPrefix(head, []byte("RIFF")) {
		return "audio/wav"
	}
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	return http.DetectContentType(head)
}

// wavError turns audio.CheckWAV's error into a validation error of field
// that says what is wrong and what is wanted.
func wavError(field string, err error) error {
	if !errors.Is(err, audio.ErrUnsupportedWAV) {
		return err
	}
	why := strings.TrimPrefix(err.Error(), audio.ErrUnsupportedWAV.Error()+": ")
	return pbx.FieldErrorf(field, "WAV not accepted (%s): want PCM 16-bit mono 8/16/32/48 kHz", why)
}
