package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gopbx/gopbx/"

// forbidden holds the import rules of docs/ARCHITECTURE.md: dependencies
// point inward (cmd -> edges -> core -> pbx). Each key is a package (or a
// prefix ending in "/"), each value the gopbx packages it must not import.
var forbidden = map[string][]string{
	"internal/pbx":       {"internal/"}, // the nouns import nothing of gopbx
	"internal/query":     {"internal/store", "internal/api", "internal/signaling", "internal/call", "internal/media", "internal/registrar"},
	"internal/store":     {"internal/api", "internal/signaling"},
	"internal/certs":     {"internal/"},
	"internal/dialplan":  {"internal/api", "internal/signaling", "internal/store", "internal/call", "internal/media", "internal/registrar"},
	"internal/media/":    {"internal/api", "internal/signaling", "internal/store", "internal/call", "internal/registrar"},
	"internal/media":     {"internal/api", "internal/signaling", "internal/store", "internal/call", "internal/registrar"},
	"internal/call":      {"internal/api", "internal/signaling", "internal/store", "internal/registrar", "internal/trunk", "internal/routing"},
	"internal/registrar": {"internal/api", "internal/signaling", "internal/call", "internal/media"},
	"internal/signaling": {"internal/api", "internal/media", "internal/trunk", "internal/routing"},
	"internal/api":       {"internal/signaling", "internal/media", "internal/call/", "internal/trunk", "internal/routing"},
	// trunk runs the carriers' registrations and builds their headers;
	// routing turns stored rules into a call's Plan. Both feed the B2BUA
	// and know nothing of the edges.
	"internal/trunk":   {"internal/api", "internal/signaling", "internal/registrar", "internal/media", "internal/routing"},
	"internal/routing": {"internal/api", "internal/signaling", "internal/registrar", "internal/media", "internal/trunk"},
}

// allowed are exceptions to forbidden: internal/media/audio is pure format
// code, and the API checks uploaded WAV files with its CheckWAV
// (docs/ARCHITECTURE.md); the rest of media (ports, relays) stays out.
var allowed = map[string][]string{
	"internal/api": {"internal/media/audio"},
}

// TestImportRules fails when a non-test file of a package imports what the
// architecture forbids it.
func TestImportRules(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			dep, ok := strings.CutPrefix(p, module)
			if !ok || dep == rel || slices.Contains(allowed[rel], dep) {
				continue
			}
			for pkg, bad := range forbidden {
				if !(rel == pkg || (strings.HasSuffix(pkg, "/") && strings.HasPrefix(rel, pkg))) {
					continue
				}
				for _, b := range bad {
					if dep == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b)) || strings.HasPrefix(dep, b+"/") {
						t.Errorf("%s imports %s: the architecture forbids it", path, dep)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
