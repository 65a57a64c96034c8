package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopbx/gopbx/internal/pbx"
	"github.com/gopbx/gopbx/internal/store/storetest"
)

// startUpload starts an upload and returns its ID and token.
func startUpload(e *env, token, name string, temporary bool) (string, string) {
	e.t.Helper()
	q := "/api/blobs/uploads?filename=" + url.QueryEscape(name)
	if temporary {
		q += "&temporary=true"
	}
	resp, body := e.raw("POST", q, token, nil, nil)
	id, tok := resp.Header.Get("PortSIP-Upload-ID"), resp.Header.Get("PortSIP-Upload-Token")
	if resp.StatusCode != 202 || id == "" || tok == "" || resp.Header.Get("Range") != "0-0" {
		e.t.Fatalf("start upload %s: status %d, headers %v, %s", name, resp.StatusCode, resp.Header, body)
	}
	return id, tok
}

// completeUpload completes an upload with last as its last chunk and
// returns the status and the decoded answer.
func completeUpload(e *env, token, id, upTok, digest string, last []byte) (int, map[string]any) {
	e.t.Helper()
	q := "/api/blobs/uploads/" + id + "/complete"
	if digest != "" {
		q += "?digest=" + url.QueryEscape(digest)
	}
	resp, body := e.raw("POST", q, token, map[string]string{"PortSIP-Upload-Token": upTok}, last)
	var out map[string]any
	json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// uploadFile uploads b in one request and returns the new file's ID.
func uploadFile(e *env, token, name string, b []byte, temporary bool) string {
	e.t.Helper()
	id, tok := startUpload(e, token, name, temporary)
	st, out := completeUpload(e, token, id, tok, "", b)
	fid, _ := out["id"].(string)
	if st != 201 || fid == "" {
		e.t.Fatalf("upload %s: status %d, %v", name, st, out)
	}
	return fid
}

// errorOf returns the field and message of an error answer.
func errorOf(out map[string]any) (field, msg string) {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return "", ""
	}
	first, _ := errs[0].(map[string]any)
	msg, _ = first["message"].(string)
	if d, ok := first["detail"].(map[string]any); ok {
		field, _ = d["field"].(string)
	}
	return field, msg
}

func TestBlobUploads(t *testing.T) {
	eachDataEnv(t, func(t *testing.T, e *env, data string) {
		a := newVMUsers(e, "a.test", "10")
		b := newVMUsers(e, "b.test", "20")
		wav := testWAV(1, 16000, 3000)
		sum := sha256.Sum256(wav)
		digest := "sha256:" + hex.EncodeToString(sum[:])
		chunks := [][]byte{wav[:1000], wav[1000:4000], wav[4000:]}

		id, tok := startUpload(e, a.alice, "hello.wav", false)
		status := func(want string) {
			t.Helper()
			resp, body := e.raw("GET", "/api/blobs/uploads/"+id+"/status", a.alice, nil, nil)
			if resp.StatusCode != 204 || resp.Header.Get("Range") != want || resp.Header.Get("PortSIP-Upload-ID") != id {
				t.Fatalf("status: %d, Range %q (want %q), %s", resp.StatusCode, resp.Header.Get("Range"), want, body)
			}
		}
		status("0-0")
		appendChunk := func(c []byte, wantRange string) {
			t.Helper()
			resp, body := e.raw("POST", "/api/blobs/uploads/"+id+"/append", a.alice, map[string]string{"PortSIP-Upload-Token": tok}, c)
			if resp.StatusCode != 202 || resp.Header.Get("Range") != wantRange {
				t.Fatalf("append: status %d, Range %q (want %q), %s", resp.StatusCode, resp.Header.Get("Range"), wantRange, body)
			}
		}
		appendChunk(chunks[0], "0-999")
		status("0-999")

		// A wrong token is refused, another tenant does not see the upload.
		if resp, _ := e.raw("POST", "/api/blobs/uploads/"+id+"/append", a.alice, map[string]string{"PortSIP-Upload-Token": "nope"}, chunks[1]); resp.StatusCode != 403 {
			t.Errorf("append with a wrong token: status %d", resp.StatusCode)
		}
		if resp, _ := e.raw("POST", "/api/blobs/uploads/"+id+"/append", a.alice, nil, chunks[1]); resp.StatusCode != 400 {
			t.Errorf("append without a token: status %d", resp.StatusCode)
		}
		if st, _ := completeUpload(e, a.alice, id, "nope", "", nil); st != 403 {
			t.Errorf("complete with a wrong token: status %d", st)
		}
		if resp, _ := e.raw("POST", "/api/blobs/uploads/"+id+"/append", b.alice, map[string]string{"PortSIP-Upload-Token": tok}, chunks[1]); resp.StatusCode != 404 {
			t.Errorf("append from another tenant: status %d", resp.StatusCode)
		}
		if resp, _ := e.raw("GET", "/api/blobs/uploads/"+id+"/status", b.boss, nil, nil); resp.StatusCode != 404 {
			t.Errorf("status from another tenant: status %d", resp.StatusCode)
		}
		if resp, _ := e.raw("POST", "/api/blobs/uploads/"+id+"/destroy", b.alice, nil, nil); resp.StatusCode != 404 {
			t.Errorf("destroy from another tenant: status %d", resp.StatusCode)
		}
		status("0-999") // none of that changed it

		appendChunk(chunks[1], "0-3999")
		status("0-3999")

		// The wrong digest is refused and the last chunk not kept.
		st, out := completeUpload(e, a.alice, id, tok, "sha256:"+strings.Repeat("0", 64), chunks[2])
		if f, msg := errorOf(out); st != 400 || f != "digest" || !strings.Contains(msg, digest) {
			t.Errorf("wrong digest: status %d, field %q, %q", st, f, msg)
		}
		status("0-3999")
		if st, out := completeUpload(e, a.alice, id, tok, "md5:abcd", chunks[2]); st != 400 {
			t.Errorf("md5 digest: status %d, %v", st, out)
		}
		st, out = completeUpload(e, a.alice, id, tok, digest, chunks[2])
		fid, _ := out["id"].(string)
		if st != 201 || fid == "" {
			t.Fatalf("complete: status %d, %v", st, out)
		}
		if resp, _ := e.raw("GET", "/api/blobs/uploads/"+id+"/status", a.alice, nil, nil); resp.StatusCode != 404 {
			t.Errorf("completed upload's status: %d", resp.StatusCode)
		}
		if ents, _ := os.ReadDir(filepath.Join(data, "uploads", a.tenant.String())); len(ents) != 0 {
			t.Errorf("uploads folder after complete: %v", ents)
		}

		// The file is the tenant's: listed, and downloadable by digest.
		var l struct {
			Count int        `json:"count"`
			Items []fileItem `json:"items"`
		}
		if st := e.do("GET", "/api/files", a.boss, nil, &l); st != 200 || l.Count != 1 || l.Items[0].ID != fid || l.Items[0].Name != "hello.wav" ||
			l.Items[0].Size != int64(len(wav)) || l.Items[0].MediaType != "audio/wav" || l.Items[0].CreatedAt == nil {
			t.Errorf("files: status %d, %+v", st, l)
		}
		var one fileItem
		if st := e.do("GET", "/api/files/"+fid, a.boss, nil, &one); st != 200 || one.ID != fid {
			t.Errorf("file: status %d, %+v", st, one)
		}
		if e.do("GET", "/api/files", b.boss, nil, &l); l.Count != 0 {
			t.Errorf("other tenant's files: %+v", l)
		}
		e.wantError("GET", "/api/files/"+fid, b.boss, nil, 404, "NOT_FOUND", "")
		e.wantError("GET", "/api/files", a.alice, nil, 403, "FORBIDDEN", "")
		for _, d := range []string{digest, strings.TrimPrefix(digest, "sha256:")} {
			resp, body := e.raw("GET", "/api/blobs/"+d, a.alice, nil, nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, wav) || !strings.Contains(resp.Header.Get("Content-Disposition"), "hello.wav") {
				t.Errorf("download %s: status %d, %d bytes, %q", d, resp.StatusCode, len(body), resp.Header.Get("Content-Disposition"))
			}
		}
		if resp, _ := e.raw("GET", "/api/blobs/"+digest, a.alice, map[string]string{"Range": "bytes=0-3"}, nil); resp.StatusCode != 206 {
			t.Errorf("range download: status %d", resp.StatusCode)
		}
		if resp, _ := e.raw("GET", "/api/blobs/"+digest, b.alice, nil, nil); resp.StatusCode != 404 {
			t.Errorf("download from another tenant: status %d", resp.StatusCode)
		}
		if resp, _ := e.raw("GET", "/api/blobs/"+digest, "", nil, nil); resp.StatusCode != 401 {
			t.Errorf("download without a token: status %d", resp.StatusCode)
		}

		// Unplayable WAVs are refused, saying why; other files are kept as they are.
		sid, stok := startUpload(e, a.alice, "stereo.wav", false)
		st, out = completeUpload(e, a.alice, sid, stok, "", testWAV(2, 8000, 800))
		if f, msg := errorOf(out); st != 400 || f != "file" || !strings.Contains(msg, "stereo") || !strings.Contains(msg, "want PCM 16-bit mono 8/16/32/48 kHz") {
			t.Errorf("stereo WAV: status %d, field %q, %q", st, f, msg)
		}
		for _, rate := range []int{8000, 32000, 48000} {
			uploadFile(e, a.alice, "rate.wav", testWAV(1, rate, 100), false)
		}
		sid, stok = startUpload(e, a.alice, "odd.wav", false)
		if st, out := completeUpload(e, a.alice, sid, stok, "", testWAV(1, 22050, 100)); st != 400 {
			t.Errorf("22.05 kHz WAV: status %d, %v", st, out)
		}
		tid, ttok := startUpload(e, a.alice, "notes.wav", false)
		st, out = completeUpload(e, a.alice, tid, ttok, "", []byte("just some text, not audio\n"))
		if f, msg := errorOf(out); st != 400 || f != "file" || !strings.Contains(msg, "not a RIFF/WAVE file") {
			t.Errorf("text named .wav: status %d, field %q, %q", st, f, msg)
		}
		// A RIFF body is checked whatever its name.
		rid, rtok := startUpload(e, a.alice, "sneaky.bin", false)
		if st, out := completeUpload(e, a.alice, rid, rtok, "", testWAV(2, 8000, 10)); st != 400 {
			t.Errorf("stereo RIFF named .bin: status %d, %v", st, out)
		}
		txt := uploadFile(e, a.alice, "notes.txt", []byte("hello\n"), true)
		if st := e.do("GET", "/api/files/"+txt, a.boss, nil, &one); st != 200 || !strings.HasPrefix(one.MediaType, "text/plain") {
			t.Errorf("text file: status %d, %+v", st, one)
		}
		tx, _ := pbx.ParseID(txt)
		if f, err := e.db.File(context.Background(), a.tenant, tx); err != nil || !f.Temporary {
			t.Errorf("temporary upload's file: %+v, %v", f, err)
		}

		// Uploads can be abandoned.
		if st := e.do("POST", "/api/blobs/uploads/"+tid+"/destroy", a.alice, nil, nil); st/100 != 2 {
			t.Errorf("destroy upload: status %d", st)
		}
		if resp, _ := e.raw("GET", "/api/blobs/uploads/"+tid+"/status", a.alice, nil, nil); resp.StatusCode != 404 {
			t.Errorf("destroyed upload's status: %d", resp.StatusCode)
		}
		if _, err := os.Stat(filepath.Join(data, "uploads", a.tenant.String(), tid)); !os.IsNotExist(err) {
			t.Errorf("destroyed upload's bytes: %v", err)
		}
		e.wantError("POST", "/api/blobs/uploads?filename="+url.QueryEscape("../x"), a.alice, nil, 400, "VALIDATE_FAILED", "filename")

		// Deleting the file removes its bytes and its digest.
		e.wantError("POST", "/api/files/"+fid+"/destroy", b.boss, nil, 404, "NOT_FOUND", "")
		if st := e.do("POST", "/api/files/"+fid+"/destroy", a.boss, nil, nil); st/100 != 2 {
			t.Fatalf("destroy file: status %d", st)
		}
		e.wantError("GET", "/api/files/"+fid, a.boss, nil, 404, "NOT_FOUND", "")
		if resp, _ := e.raw("GET", "/api/blobs/"+digest, a.alice, nil, nil); resp.StatusCode != 404 {
			t.Errorf("deleted file's blob: status %d", resp.StatusCode)
		}
		if _, err := os.Stat(filepath.Join(data, "files", a.tenant.String(), fid)); !os.IsNotExist(err) {
			t.Errorf("deleted file's bytes: %v", err)
		}
	})
}

// TestBlobUploadLimit checks that an upload stops at maxUploadBytes.
func TestBlobUploadLimit(t *testing.T) {
	data := t.TempDir()
	e := newEnv(t, storetest.OpenSQLite(t), Config{Data: data})
	a := newVMUsers(e, "a.test", "10")
	id, tok := startUpload(e, a.alice, "big.bin", false)
	chunk := make([]byte, maxBodyBytes/2)
	for sent := 0; sent+len(chunk) <= maxUploadBytes; sent += len(chunk) {
		if resp, body := e.raw("POST", "/api/blobs/uploads/"+id+"/append", a.alice, map[string]string{"PortSIP-Upload-Token": tok}, chunk); resp.StatusCode != 202 {
			t.Fatalf("append at %d: status %d, %s", sent, resp.StatusCode, body)
		}
	}
	st, out := completeUpload(e, a.alice, id, tok, "", []byte{1})
	if f, _ := errorOf(out); st != 400 || f != "file" {
		t.Errorf("one byte past the limit: status %d, %v", st, out)
	}
	if resp, body := e.raw("POST", "/api/blobs/uploads/"+id+"/append", a.alice, map[string]string{"PortSIP-Upload-Token": tok}, make([]byte, maxBodyBytes)); resp.StatusCode != 413 {
		t.Errorf("chunk past the request limit: status %d, %s", resp.StatusCode, body)
	}
	if st, out := completeUpload(e, a.alice, id, tok, "", make([]byte, maxBodyBytes+1)); st != 400 {
		t.Errorf("last chunk past the request limit: status %d, %v", st, out)
	}
	if st, out := completeUpload(e, a.alice, id, tok, "", nil); st != 201 {
		t.Errorf("complete at the limit: status %d, %v", st, out)
	}
}
