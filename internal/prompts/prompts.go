package prompts

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/gopbx/gopbx/internal/pbx"
)

// DefaultLang is the language every lookup falls back to. The embedded
// prompts of DefaultLang are complete: every name in Names exists in it.
const DefaultLang = "en"

// systemDir is the directory under <dataDir>/prompts of the system-wide
// overrides. It cannot clash with a tenant's directory, which is named by
// the tenant's decimal ID.
const systemDir = "system"

// embedded holds lang/<lang>.txt, the lists scripts/prompts.sh reads, and
// lang/<lang>/<name>.wav, the prompts it writes.
//
//go:embed lang
var embedded embed.FS

// Library resolves prompt names to audio: a tenant's replacement first, then
// a system-wide replacement, then the prompt embedded in the binary. A
// Library holds no open files and is safe for concurrent use.
type Library struct {
	root string // <dataDir>/prompts, or "" for embedded prompts only
}

// New returns a Library whose replacement prompts live under
// <dataDir>/prompts: <tenant-id>/<lang>/<name>.wav for one tenant and
// system/<lang>/<name>.wav for all tenants. The directory need not exist. An
// empty dataDir gives a Library of the embedded prompts only.
func New(dataDir string) *Library {
	l := &Library{}
	if dataDir != "" {
		l.root = filepath.Join(dataDir, "prompts")
	}
	return l
}

// Open returns the WAV file of the prompt name in language lang for tenant,
// which the caller must close. An empty lang means DefaultLang, and
// pbx.SystemTenant skips the tenant's replacements.
//
// For lang and then for DefaultLang, Open tries the tenant's replacement, the
// system-wide replacement and the embedded prompt, and returns the first that
// exists: a language's prompt wins over a replacement in another language.
// It returns an EINVALID error if tenant is negative or lang or name is not
// made of [a-z0-9_-] (name may have "/"-separated segments, as in
// "vm/goodbye"), so no argument can reach outside the prompt directories;
// an ENOTFOUND error if no prompt has that name; and another error if a
// replacement exists but cannot be opened, or is a symbolic link that leads
// out of <dataDir>/prompts.
func (l *Library) Open(tenant pbx.TenantID, lang, name string) (io.ReadCloser, error) {
	if lang == "" {
		lang = DefaultLang
	}
	if tenant < 0 {
		return nil, pbx.Errorf(pbx.EINVALID, "invalid tenant %s", tenant)
	}
	if !validLang(lang) {
		return nil, pbx.Errorf(pbx.EINVALID, "invalid prompt language %q", lang)
	}
	if !validName(name) {
		return nil, pbx.Errorf(pbx.EINVALID, "invalid prompt name %q", name)
	}
	langs := []string{lang}
	if lang != DefaultLang {
		langs = append(langs, DefaultLang)
	}
	for _, lang := range langs {
		file := name + ".wav"
		if tenant != pbx.SystemTenant {
			if rc, err := l.openFile(path.Join(tenant.String(), lang, file)); rc != nil || err != nil {
				return rc, err
			}
		}
		if rc, err := l.openFile(path.Join(systemDir, lang, file)); rc != nil || err != nil {
			return rc, err
		}
		if f, err := embedded.Open(path.Join("lang", lang, file)); err == nil {
			return f, nil
		}
	}
	return nil, pbx.Errorf(pbx.ENOTFOUND, "prompt %s not found in %s", name, lang)
}

// openFile opens rel under the replacement directory. It returns nil and no
// error if there is no such regular file. os.OpenInRoot refuses symbolic
// links that lead out of the directory, which validation alone cannot.
func (l *Library) openFile(rel string) (io.ReadCloser, error) {
	if l.root == "" {
		return nil, nil
	}
	f, err := os.OpenInRoot(l.root, rel)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("open prompt %s: %w", rel, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open prompt %s: %w", rel, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil
	}
	return f, nil
}

// Names returns the sorted names of the embedded prompts of DefaultLang,
// which are the names Open finds whatever the language.
func Names() []string {
	var names []string
	dir := path.Join("lang", DefaultLang)
	err := fs.WalkDir(embedded, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".wav") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(p, dir+"/"), ".wav"))
		}
		return nil
	})
	if err != nil {
		// The embedded tree is fixed at build time and the tests walk it.
		panic(fmt.Sprintf("prompts: walk embedded prompts: %v", err))
	}
	slices.Sort(names)
	return names
}

// validLang reports whether lang is a language directory name: 1 to 32 of
// [a-z0-9_-], such as "en" or "pt-br".
func validLang(lang string) bool {
	return len(lang) <= 32 && validSegment(lang)
}

// validName reports whether name is a prompt name: up to 128 characters of
// [a-z0-9_-] segments joined by "/". Dots, empty segments and leading or
// trailing slashes are refused, so a name can never climb out of a
// directory.
func validName(name string) bool {
	if len(name) > 128 {
		return false
	}
	for seg := range strings.SplitSeq(name, "/") {
		if !validSegment(seg) {
			return false
		}
	}
	return true
}

func validSegment(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
