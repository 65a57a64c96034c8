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
// which the caller must close. An empty lang means DefaultLang, lang is a
// BCP 47 tag in any case (PortSIP's IVRs say "en-US"), and
// pbx.SystemTenant skips the tenant's replacements.
//
// For lang, then each shorter prefix of it ("de-ch", then "de"), then
// DefaultLang, Open tries the tenant's replacement, the system-wide
// replacement and the embedded prompt, and returns the first that exists: a
// language's prompt wins over a replacement in another language. It returns
// an EINVALID error if tenant is negative or lang or name is not made of
// [a-z0-9_-] (name may have "/"-separated segments, as in
// "vm/goodbye"), so no argument can reach outside the prompt directories;
// an ENOTFOUND error if no prompt has that name; and another error if a
// replacement exists but cannot be opened, or is a symbolic link that leads
// out of <dataDir>/prompts.
func (l *Library) Open(tenant pbx.TenantID, lang, name string) (io.ReadCloser, error) {
	rc, _, err := l.Find(tenant, lang, name)
	return rc, err
}

// Origin says which of the places Open looks in a prompt came from.
type Origin string

// The origins of a prompt, in the order Open tries them for each language.
const (
	OriginTenant  Origin = "TENANT"   // the tenant's replacement
	OriginSystem  Origin = "SYSTEM"   // the system-wide replacement
	OriginBuiltIn Origin = "BUILT_IN" // embedded in the binary
)

// Found is where Find found a prompt: its origin and its language, which
// is DefaultLang when the language asked for lacks the prompt.
type Found struct {
	Origin Origin
	Lang   string
}

// Find is Open that also says where the prompt it opened came from, so an
// administrator can see which prompts a tenant has replaced.
func (l *Library) Find(tenant pbx.TenantID, lang, name string) (io.ReadCloser, Found, error) {
	lang, err := check(tenant, lang, name)
	if err != nil {
		return nil, Found{}, err
	}
	for _, lang := range lookup(lang) {
		file := name + ".wav"
		if tenant != pbx.SystemTenant {
			if rc, err := l.openFile(path.Join(tenant.String(), lang, file)); rc != nil || err != nil {
				return rc, Found{OriginTenant, lang}, err
			}
		}
		if rc, err := l.openFile(path.Join(systemDir, lang, file)); rc != nil || err != nil {
			return rc, Found{OriginSystem, lang}, err
		}
		if f, err := embedded.Open(path.Join("lang", lang, file)); err == nil {
			return f, Found{OriginBuiltIn, lang}, nil
		}
	}
	return nil, Found{}, pbx.Errorf(pbx.ENOTFOUND, "prompt %s not found in %s", name, lang)
}

// check refuses a negative tenant, and a language or name that could reach
// outside the prompt directories. It returns the language's directory name:
// an empty lang is DefaultLang, and a BCP 47 tag such as PortSIP's "en-US"
// is lower-cased, as tags are case-insensitive.
func check(tenant pbx.TenantID, lang, name string) (string, error) {
	if tenant < 0 {
		return "", pbx.Errorf(pbx.EINVALID, "invalid tenant %s", tenant)
	}
	lang, err := CheckLang(lang)
	if err != nil {
		return "", err
	}
	if !validName(name) {
		return "", pbx.Errorf(pbx.EINVALID, "invalid prompt name %q", name)
	}
	return lang, nil
}

// lookup returns the languages to try for lang, most specific first, as
// RFC 4647's lookup does: "pt-br", then "pt", then DefaultLang.
func lookup(lang string) []string {
	langs := []string{lang}
	for {
		i := strings.LastIndexByte(lang, '-')
		if i <= 0 {
			break
		}
		lang = lang[:i]
		langs = append(langs, lang)
	}
	if !slices.Contains(langs, DefaultLang) {
		langs = append(langs, DefaultLang)
	}
	return langs
}

// replacement returns the path of tenant's replacement of name in lang,
// relative to the replacement directory; pbx.SystemTenant's is the
// system-wide one.
func replacement(tenant pbx.TenantID, lang, name string) string {
	dir := systemDir
	if tenant != pbx.SystemTenant {
		dir = tenant.String()
	}
	return path.Join(dir, lang, name+".wav")
}

// Replace stores the WAV read from r as tenant's replacement of name in
// lang (pbx.SystemTenant: the system-wide one). It does not check the audio,
// which is the caller's job. The file is written beside its place and then
// renamed over it, so a call that opens the prompt meanwhile plays the old
// file or the new one, never half of one. All of it happens through an
// os.Root, so no symbolic link planted in the directory can lead a write
// outside it.
func (l *Library) Replace(tenant pbx.TenantID, lang, name string, r io.Reader) error {
	lang, err := check(tenant, lang, name)
	if err != nil {
		return err
	}
	if l.root == "" {
		return pbx.Errorf(pbx.EUNAVAILABLE, "prompt replacements need a data folder")
	}
	if err := os.MkdirAll(l.root, 0o750); err != nil {
		return fmt.Errorf("replace prompt: %w", err)
	}
	root, err := os.OpenRoot(l.root)
	if err != nil {
		return fmt.Errorf("replace prompt: %w", err)
	}
	defer root.Close()
	rel := replacement(tenant, lang, name)
	if err := root.MkdirAll(path.Dir(rel), 0o750); err != nil {
		return fmt.Errorf("replace prompt %s: %w", rel, err)
	}
	tmp := rel + ".tmp"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("replace prompt %s: %w", rel, err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, rel)
	}
	if err != nil {
		root.Remove(tmp)
		return fmt.Errorf("replace prompt %s: %w", rel, err)
	}
	return nil
}

// Restore removes tenant's replacement of name in lang (pbx.SystemTenant:
// the system-wide one), so the next call plays what Open finds after it.
// It returns an ENOTFOUND error if there is no such replacement.
func (l *Library) Restore(tenant pbx.TenantID, lang, name string) error {
	lang, err := check(tenant, lang, name)
	if err != nil {
		return err
	}
	rel := replacement(tenant, lang, name)
	if l.root == "" {
		return pbx.Errorf(pbx.ENOTFOUND, "no replacement of prompt %s in %s", name, lang)
	}
	root, err := os.OpenRoot(l.root)
	if errors.Is(err, fs.ErrNotExist) {
		return pbx.Errorf(pbx.ENOTFOUND, "no replacement of prompt %s in %s", name, lang)
	} else if err != nil {
		return fmt.Errorf("restore prompt: %w", err)
	}
	defer root.Close()
	err = root.Remove(rel)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return pbx.Errorf(pbx.ENOTFOUND, "no replacement of prompt %s in %s", name, lang)
	} else if err != nil {
		return fmt.Errorf("restore prompt %s: %w", rel, err)
	}
	return nil
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

// CheckLang returns the directory name of the language tag lang: "" is
// DefaultLang, and a tag is lower-cased ("en-US" is "en-us"). It returns an
// EINVALID error if the name would not be 1 to 32 of [a-z0-9_-].
func CheckLang(lang string) (string, error) {
	if lang == "" {
		return DefaultLang, nil
	}
	lang = strings.ToLower(lang)
	if !validLang(lang) {
		return "", pbx.Errorf(pbx.EINVALID, "invalid prompt language %q", lang)
	}
	return lang, nil
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
