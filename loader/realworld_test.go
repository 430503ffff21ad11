package loader

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/realworld")

// Files written by other programs (testdata/realworld, see its gen-*
// scripts): each is read as bulkprov reads it, checks included, and gives
// exactly the records, located problems and error of its golden file.
func TestRealWorld(t *testing.T) {
	tests := []struct {
		file   string
		golden string
		opts   Options
	}{
		// LibreOffice 7.4 (soffice --convert-to xlsx): t="b" booleans and
		// the constant formula FALSE(), a text-formatted 20-digit id, a
		// 16-digit id typed as a number, a formula, a merged range over
		// data rows, and a sheet whose title rows were deleted.
		{"libreoffice-users.xlsx", "libreoffice-users.golden", Options{}},
		{"libreoffice-users.xlsx", "libreoffice-users.cached.golden", Options{Formulas: "cached"}},
		// The same sheet exported by LibreOffice as CSV: an unquoted entity
		// line with a ";" in it, the Base/Attributes group row, titles.
		{"libreoffice-export.csv", "libreoffice-export.golden", Options{}},
		// excelize's StreamWriter: inline strings, a formula without a
		// saved value, a 17-digit number.
		{"excelize-stream.xlsx", "excelize-stream.golden", Options{}},
		// openpyxl 3.0: inline strings, datetime cells, an empty <v/> after a
		// formula, a Python int past 2^53, two blocks on one sheet.
		{"openpyxl.xlsx", "openpyxl.golden", Options{}},
		// A VOSS-layout cupi/User CSV as Excel saves "CSV UTF-8" in a ";"
		// locale: BOM, CRLF, a quoted value over two lines.
		{"voss-cupi-user.csv", "voss-cupi-user.golden", Options{}},
		// A JSON export zipped by macOS Finder: __MACOSX/, ._ and .DS_Store
		// entries, a BOM, the hierarchy from business_key and hierarchy_path.
		{"macos-export.zip", "macos-export.golden", Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			dir := filepath.Join("testdata", "realworld")
			tc.opts.DisplayName = tc.file
			var lines []string
			c := NewChecker()
			err := Read(filepath.Join(dir, tc.file), tc.opts, func(r *Record) error {
				problems := c.Check(r) // converts the values to their schema types
				fields, _ := json.Marshal(r.Fields)
				lines = append(lines, fmt.Sprintf("record %s %s %s hierarchy=%q pkid=%q %s", r.Loc, r.Action, r.Model, r.Hierarchy, r.Pkid, fields))
				for _, p := range problems {
					lines = append(lines, "problem "+p.String())
				}
				return nil
			}, func(p Problem) { lines = append(lines, "problem "+p.String()) })
			if err != nil {
				lines = append(lines, "error "+err.Error())
			}
			got := strings.Join(lines, "\n") + "\n"
			path := filepath.Join(dir, tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./loader -run TestRealWorld -update)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
