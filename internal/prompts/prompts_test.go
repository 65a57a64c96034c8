package prompts

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopbx/gopbx/internal/pbx"
)

// listNames returns the prompt names of lang/<lang>.txt in file order.
func listNames(tb testing.TB, lang string) []string {
	tb.Helper()
	f, err := embedded.Open(path.Join("lang", lang+".txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "@") {
			continue
		}
		name, _, ok := strings.Cut(line, "|")
		if !ok {
			tb.Fatalf("bad line %q", line)
		}
		names = append(names, name)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return names
}

// wavInfo is what the tests check of a prompt file.
type wavInfo struct {
	format, channels, bits uint16
	rate                   uint32
	duration               time.Duration
	rms                    float64 // of the samples, 0 to 1 of full scale
}

// parseWAV reads a RIFF WAVE file, skipping chunks other than fmt and data.
func parseWAV(b []byte) (wavInfo, error) {
	var w wavInfo
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return w, errors.New("not a RIFF WAVE file")
	}
	if got := binary.LittleEndian.Uint32(b[4:8]); int(got) != len(b)-8 {
		return w, errors.New("RIFF size does not match the file size")
	}
	var data []byte
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8:]
		if size > len(body) {
			return w, errors.New("chunk " + id + " runs past the end")
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return w, errors.New("short fmt chunk")
			}
			w.format = binary.LittleEndian.Uint16(body[0:2])
			w.channels = binary.LittleEndian.Uint16(body[2:4])
			w.rate = binary.LittleEndian.Uint32(body[4:8])
			w.bits = binary.LittleEndian.Uint16(body[14:16])
		case "data":
			data = body
		}
		p += 8 + size + size%2
	}
	if w.rate == 0 || data == nil {
		return w, errors.New("no fmt or data chunk")
	}
	n := len(data) / 2
	var sum float64
	for i := range n {
		s := float64(int16(binary.LittleEndian.Uint16(data[2*i:]))) / 32768
		sum += s * s
	}
	if n > 0 {
		w.rms = math.Sqrt(sum / float64(n))
	}
	w.duration = time.Duration(n) * time.Second / time.Duration(w.rate)
	return w, nil
}

func TestEmbeddedPrompts(t *testing.T) {
	listed := listNames(t, DefaultLang)
	if diff := cmp.Diff(slices.Sorted(slices.Values(listed)), Names()); diff != "" {
		t.Errorf("embedded prompts differ from lang/%s.txt; run bash scripts/prompts.sh (-listed +embedded):\n%s", DefaultLang, diff)
	}
	lib := New("")
	var total int64
	for _, name := range listed {
		rc, err := lib.Open(pbx.SystemTenant, DefaultLang, name)
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		total += int64(len(b))
		w, err := parseWAV(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if w.format != 1 || w.channels != 1 || w.bits != 16 || w.rate != 8000 {
			t.Errorf("%s: format %d, %d channels, %d bits, %d Hz; want PCM (1), 1 channel, 16 bits, 8000 Hz",
				name, w.format, w.channels, w.bits, w.rate)
		}
		// -40 dBFS: espeak-ng speech normalised to -3 dBFS peaks sits
		// around -20 dBFS, so this catches silent or broken output.
		if w.rms < 0.01 {
			t.Errorf("%s: RMS %.4f of full scale; want at least 0.01", name, w.rms)
		}
		lo, hi := 200*time.Millisecond, 8*time.Second
		if strings.HasPrefix(name, "moh/") {
			lo, hi = 5*time.Second, 30*time.Second
		}
		if w.duration < lo || w.duration > hi {
			t.Errorf("%s: duration %v; want %v to %v", name, w.duration, lo, hi)
		}
	}
	t.Logf("%d embedded %s prompts, %d bytes", len(listed), DefaultLang, total)
	if total > 3<<20 {
		t.Errorf("embedded prompts take %d bytes; keep them under 3 MiB", total)
	}
}

// writePrompt writes content as <dataDir>/prompts/<dir>/<lang>/<name>.wav.
func writePrompt(tb testing.TB, dataDir, dir, lang, name, content string) {
	tb.Helper()
	p := filepath.Join(dataDir, "prompts", dir, lang, filepath.FromSlash(name)+".wav")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// readPrompt opens a prompt and returns its content, or "embedded:en" if
// it is the embedded English file.
func readPrompt(tb testing.TB, lib *Library, tenant pbx.TenantID, lang, name string) string {
	tb.Helper()
	rc, err := lib.Open(tenant, lang, name)
	if err != nil {
		tb.Fatalf("Open(%d, %q, %q): %v", tenant, lang, name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatal(err)
	}
	if e, err := fs.ReadFile(embedded, path.Join("lang", DefaultLang, name+".wav")); err == nil && bytes.Equal(b, e) {
		return "embedded:" + DefaultLang
	}
	return string(b)
}

func TestOpenResolution(t *testing.T) {
	dir := t.TempDir()
	lib := New(dir)
	const tenant, other = pbx.TenantID(7), pbx.TenantID(8)
	writePrompt(t, dir, "7", "en", "goodbye", "tenant en goodbye")
	writePrompt(t, dir, "system", "en", "goodbye", "system en goodbye")
	writePrompt(t, dir, "system", "en", "vm/leave-message", "system en leave")
	writePrompt(t, dir, "7", "de", "vm/leave-message", "tenant de leave")
	writePrompt(t, dir, "system", "de", "1", "system de 1")
	writePrompt(t, dir, "system", "de", "hallo", "system de hallo")
	writePrompt(t, dir, "7", "en", "extra/welcome", "tenant en welcome")

	tests := []struct {
		tenant     pbx.TenantID
		lang, name string
		want       string
	}{
		{tenant, "en", "goodbye", "tenant en goodbye"},
		{tenant, "", "goodbye", "tenant en goodbye"},
		{other, "en", "goodbye", "system en goodbye"},
		{pbx.SystemTenant, "en", "goodbye", "system en goodbye"},
		{tenant, "en", "vm/leave-message", "system en leave"},
		{tenant, "de", "vm/leave-message", "tenant de leave"},
		{other, "de", "vm/leave-message", "system en leave"},
		{tenant, "de", "1", "system de 1"},
		{tenant, "de", "hallo", "system de hallo"},
		// A language without the prompt falls back to DefaultLang,
		// replacements included.
		{tenant, "de", "goodbye", "tenant en goodbye"},
		{other, "de", "2", "embedded:en"},
		{tenant, "en", "beep", "embedded:en"},
		{tenant, "en", "extra/welcome", "tenant en welcome"},
		// Tags are BCP 47, in any case, and fall back prefix by prefix.
		{tenant, "en-US", "goodbye", "tenant en goodbye"},
		{tenant, "DE-CH", "1", "system de 1"},
		{other, "de-ch-1996", "hallo", "system de hallo"},
	}
	for _, tt := range tests {
		if got := readPrompt(t, lib, tt.tenant, tt.lang, tt.name); got != tt.want {
			t.Errorf("Open(%d, %q, %q) = %q; want %q", tt.tenant, tt.lang, tt.name, got, tt.want)
		}
	}

	// Without a data directory only the embedded prompts exist.
	if got := readPrompt(t, New(""), tenant, "en", "goodbye"); got != "embedded:en" {
		t.Errorf("New(\"\").Open goodbye = %q; want embedded:en", got)
	}
	// A directory where a file should be is no prompt.
	if err := os.MkdirAll(filepath.Join(dir, "prompts", "7", "en", "0.wav"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := readPrompt(t, lib, tenant, "en", "0"); got != "embedded:en" {
		t.Errorf("Open 0 with a directory 0.wav = %q; want embedded:en", got)
	}
}

func TestOpenNotFound(t *testing.T) {
	lib := New(t.TempDir())
	for _, lang := range []string{"en", "de"} {
		_, err := lib.Open(1, lang, "no-such-prompt")
		if got := pbx.ErrorCode(err); got != pbx.ENOTFOUND {
			t.Errorf("Open(1, %q, no-such-prompt) = %v; want kind %s", lang, err, pbx.ENOTFOUND)
		}
	}
}

func TestOpenRefusesTraversal(t *testing.T) {
	dir := t.TempDir()
	lib := New(dir)
	// A file the traversals below aim at.
	if err := os.WriteFile(filepath.Join(dir, "secret.wav"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tenant     pbx.TenantID
		lang, name string
	}{
		{1, "en", "../../../secret"},
		{1, "en", "../goodbye"},
		{1, "en", "vm/../../goodbye"},
		{1, "en", "./goodbye"},
		{1, "en", "/etc/passwd"},
		{1, "en", "goodbye.wav"},
		{1, "en", "vm//goodbye"},
		{1, "en", "vm/"},
		{1, "en", ""},
		{1, "en", "Goodbye"},
		{1, "en", `vm\goodbye`},
		{1, "en", "good bye"},
		{1, "en", "goodbye\x00"},
		{1, "en", strings.Repeat("a", 129)},
		{1, "..", "goodbye"},
		{1, "../..", "secret"},
		{1, "en/../..", "secret"},
		{1, "en.", "goodbye"},
		{1, strings.Repeat("a", 33), "goodbye"},
		{-1, "en", "goodbye"},
	}
	for _, tt := range tests {
		rc, err := lib.Open(tt.tenant, tt.lang, tt.name)
		if err == nil {
			rc.Close()
		}
		if got := pbx.ErrorCode(err); got != pbx.EINVALID {
			t.Errorf("Open(%d, %q, %q) = %v; want kind %s", tt.tenant, tt.lang, tt.name, err, pbx.EINVALID)
		}
	}
}

func TestOpenRefusesSymlinkEscape(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.wav")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "prompts", "1", "en", "goodbye.wav")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
	rc, err := New(dir).Open(1, "en", "goodbye")
	if err == nil {
		b, _ := io.ReadAll(rc)
		rc.Close()
		t.Fatalf("Open through a symlink out of the prompt directory read %q; want an error", b)
	}
	if got := pbx.ErrorCode(err); got != pbx.EINTERNAL {
		t.Errorf("Open through a symlink out of the prompt directory = %v; want kind %s", err, pbx.EINTERNAL)
	}
}

func TestReplaceAndRestore(t *testing.T) {
	dir := t.TempDir()
	lib := New(dir)
	const tenant, other = pbx.TenantID(7), pbx.TenantID(8)
	found := func(tn pbx.TenantID, lang, name string) Found {
		t.Helper()
		rc, f, err := lib.Find(tn, lang, name)
		if err != nil {
			t.Fatalf("Find(%d, %q, %q): %v", tn, lang, name, err)
		}
		rc.Close()
		return f
	}
	if got := found(tenant, "en", "goodbye"); got != (Found{OriginBuiltIn, "en"}) {
		t.Fatalf("before Replace: %+v; want built-in en", got)
	}
	if err := lib.Replace(tenant, "en", "vm/leave-message", strings.NewReader("first")); err != nil {
		t.Fatal(err)
	}
	if err := lib.Replace(tenant, "en", "vm/leave-message", strings.NewReader("tenant goodbye")); err != nil {
		t.Fatal(err)
	}
	if got := readPrompt(t, lib, tenant, "en", "vm/leave-message"); got != "tenant goodbye" {
		t.Errorf("after Replace: %q; want the replacement", got)
	}
	if got := found(tenant, "de", "vm/leave-message"); got != (Found{OriginTenant, "en"}) {
		t.Errorf("Find in de after an en replacement: %+v; want tenant en", got)
	}
	if err := lib.Replace(pbx.SystemTenant, "de", "goodbye", strings.NewReader("system de")); err != nil {
		t.Fatal(err)
	}
	if got := found(other, "de", "goodbye"); got != (Found{OriginSystem, "de"}) {
		t.Errorf("Find of another tenant after a system replacement: %+v; want system de", got)
	}
	if got := readPrompt(t, lib, other, "en", "vm/leave-message"); got == "tenant goodbye" {
		t.Error("another tenant plays the tenant's replacement")
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "prompts", "7", "en", "vm", "*.tmp")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}

	if err := lib.Restore(tenant, "en", "vm/leave-message"); err != nil {
		t.Fatal(err)
	}
	if got := found(tenant, "en", "vm/leave-message"); got.Origin != OriginBuiltIn {
		t.Errorf("after Restore: %+v; want built-in", got)
	}
	if err := lib.Restore(tenant, "en", "vm/leave-message"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
		t.Errorf("second Restore = %v; want kind %s", err, pbx.ENOTFOUND)
	}
	if err := New(t.TempDir()).Restore(tenant, "en", "goodbye"); pbx.ErrorCode(err) != pbx.ENOTFOUND {
		t.Errorf("Restore with no prompt directory = %v; want kind %s", err, pbx.ENOTFOUND)
	}
	for _, bad := range [][2]string{{"en", "../goodbye"}, {"..", "goodbye"}, {"en", "goodbye.wav"}} {
		if err := lib.Replace(tenant, bad[0], bad[1], strings.NewReader("x")); pbx.ErrorCode(err) != pbx.EINVALID {
			t.Errorf("Replace(%q, %q) = %v; want kind %s", bad[0], bad[1], err, pbx.EINVALID)
		}
	}
	if err := New("").Replace(tenant, "en", "goodbye", strings.NewReader("x")); pbx.ErrorCode(err) != pbx.EUNAVAILABLE {
		t.Errorf("Replace without a data folder = %v; want kind %s", err, pbx.EUNAVAILABLE)
	}
}

func TestReplaceRefusesSymlinkEscape(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "prompts", "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "prompts", "1", "en")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if err := New(dir).Replace(1, "en", "goodbye", strings.NewReader("x")); err == nil {
		t.Error("Replace through a symlink out of the prompt directory succeeded")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("Replace wrote outside the prompt directory: %v", ents)
	}
}
