package shape

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	maxLines = 100 // lines of a function, from func to its closing brace
	maxCyclo = 25  // cyclomatic complexity, counted as gocyclo v0.6.0 does
)

// exempt names the functions allowed over the limits, as
// "package-relative-file:Receiver.Func": the xlsx sheet reader is one
// state machine over the sheet's XML tokens, clearer whole (issue 22).
var exempt = map[string]bool{
	"loader/xlsx.go:(*workbook).readSheet": true,
}

// tighter are functions held to fewer lines than maxLines: bulkprov
// apply is flags and wiring; the run's life cycle is engine.Run's.
var tighter = map[string]int{
	"cmd/bulkprov/apply.go:runApply": 60,
}

// cyclo is gocyclo v0.6.0's count: 1, plus one per if, for, range,
// non-default case and communication clause, && and ||, closures included.
func cyclo(fn ast.Node) int {
	c := 1
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil {
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// funcName is gocyclo's name of a declaration: (*T).F, T.F or F.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if ix, ok := t.(*ast.IndexExpr); ok { // generic receiver T[P]
		t = ix.X
	}
	if ix, ok := t.(*ast.IndexListExpr); ok {
		t = ix.X
	}
	switch t := t.(type) {
	case *ast.StarExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			return "(*" + id.Name + ")." + d.Name.Name
		}
		if ix, ok := t.X.(*ast.IndexExpr); ok {
			return "(*" + ix.X.(*ast.Ident).Name + ")." + d.Name.Name
		}
	case *ast.Ident:
		return t.Name + "." + d.Name.Name
	}
	return d.Name.Name
}

// TestSmallParts walks every non-test Go file of the module and fails on
// each function over maxLines lines or cyclomatic maxCyclo.
func TestSmallParts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	var over []string
	files, seenTighter := 0, 0
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := funcName(fd)
			if exempt[rel+":"+name] {
				continue
			}
			lines := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			c := cyclo(fd)
			limit := maxLines
			if n, ok := tighter[rel+":"+name]; ok {
				limit = n
				seenTighter++
			}
			if lines > limit || c > maxCyclo {
				over = append(over, fmt.Sprintf("%s:%d: %s: %d lines, cyclomatic %d",
					rel, fset.Position(fd.Pos()).Line, name, lines, c))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seenTighter != len(tighter) {
		t.Errorf("%d of the %d functions held tighter were found: fix the table", seenTighter, len(tighter))
	}
	if files < 50 {
		t.Fatalf("only %d Go files found under %s: the walk is wrong", files, root)
	}
	sort.Strings(over)
	for _, o := range over {
		t.Errorf("%s (limits: %d lines, or as tighter says, cyclomatic %d; split it)", o, maxLines, maxCyclo)
	}
}
