package dialplan

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package pure: its non-test files import only the
// standard library and internal/pbx, so routing never reaches a store, a
// socket or a global clock.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(p, "/")
			if p != "github.com/gopbx/gopbx/internal/pbx" && strings.Contains(first, ".") {
				t.Errorf("%s imports %s; want only the standard library and internal/pbx", name, p)
			}
		}
	}
}
