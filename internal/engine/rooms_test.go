package engine_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
)

const module = "github.com/bulkprov/bulkprov/"

// rooms are the engine's packages, each with the packages of this module
// it may import: the rooms below it and nothing above. A new import
// across rooms is a design change; make it here, on purpose.
var rooms = map[string][]string{
	"internal/engine/plan":  {"internal/redact"},
	"internal/engine/pace":  {"targets"},
	"internal/engine/store": {"internal/engine/plan", "internal/jsonx"},
	"internal/engine/kinds": {"internal/engine/plan", "internal/engine/pace", "internal/engine/store",
		"internal/schema", "targets", "targets/cupi", "targets/voss"},
	// The core plans and applies over the kind interface alone: it names
	// no client of a target, only the rooms below and the error classes.
	"internal/engine": {"internal/engine/plan", "internal/engine/pace", "internal/engine/store",
		"internal/engine/kinds", "targets"},
}

// TestRoomsImportOnlyDown holds the layering: each room imports only the
// packages of this module its row above allows, and every package under
// internal/engine is a room of that table.
func TestRoomsImportOnlyDown(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"internal/engine/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		room := strings.TrimPrefix(f[0], module)
		allowed, ok := rooms[room]
		if !ok {
			t.Errorf("%s is not a room of the layering table: add it, with what it may import", room)
			continue
		}
		seen++
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, module) {
				continue // the standard library and other modules
			}
			if dep := strings.TrimPrefix(imp, module); !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, which its layer may not", room, dep)
			}
		}
	}
	if seen != len(rooms) {
		t.Errorf("go list found %d of the %d rooms", seen, len(rooms))
	}
}

// kindNames are the kinds' constants and names: only the kind files may
// say them.
var kindNames = map[string]string{
	"KindUser": engine.KindUser, "KindAdminREL": engine.KindAdminREL, "KindCUPIUser": engine.KindCUPIUser,
	"KindUserRole": engine.KindUserRole, "KindPassword": engine.KindPassword, "KindPIN": engine.KindPIN,
	"KindAuthz": engine.KindAuthz,
}

// isKindFile reports whether file, of room, may name a kind: in the kinds
// room, the registry (kinds.go) and one file per kind (kind_*.go); in the
// core, only kindnames.go, which gives cmd and transform the kinds' names.
func isKindFile(room, file string) bool {
	base := filepath.Base(file)
	switch room {
	case "internal/engine/kinds":
		return base == "kinds.go" || strings.HasPrefix(base, "kind_")
	case "internal/engine":
		return base == "kindnames.go"
	}
	return false
}

// TestNoKindBranchOutsideTheKinds holds that a kind is in one place: no
// source file of any room but the kind files (kinds/kinds.go, kinds/kind_*.go)
// names a kind — by its constant, its name, or the credential kinds'
// helper — in code (comments may).
func TestNoKindBranchOutsideTheKinds(t *testing.T) {
	names := map[string]bool{"credKind": true}
	values := map[string]bool{}
	for c, v := range kindNames {
		names[c] = true
		values[v] = true
	}
	for room := range rooms {
		dir := "." // the test runs in internal/engine
		if room != "internal/engine" {
			dir = strings.TrimPrefix(room, "internal/engine/")
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("room %s: no source in %s (%v)", room, dir, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") || isKindFile(room, file) {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, file, src, 0) // comments dropped
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.Ident:
					if names[n.Name] {
						t.Errorf("%s: %s outside the kind files", fset.Position(n.Pos()), n.Name)
					}
				case *ast.BasicLit:
					if s, err := strconv.Unquote(n.Value); n.Kind == token.STRING && err == nil && values[s] {
						t.Errorf("%s: the kind name %q outside the kind files", fset.Position(n.Pos()), s)
					}
				}
				return true
			})
		}
	}
}
