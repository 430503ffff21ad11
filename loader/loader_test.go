package loader

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// readAll reads path and returns its records and problems as strings.
func readAll(t *testing.T, path string, o Options) ([]*Record, []string, error) {
	t.Helper()
	var recs []*Record
	var probs []string
	c := NewChecker()
	err := Read(path, o, func(r *Record) error {
		for _, p := range c.Check(r) {
			probs = append(probs, p.String())
		}
		recs = append(recs, r)
		return nil
	}, func(p Problem) { probs = append(probs, p.String()) })
	return recs, probs, err
}

func writeBook(t *testing.T, fill func(f *excelize.File)) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	fill(f)
	p := filepath.Join(t.TempDir(), "in.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func header(f *excelize.File, sheet, entity string, cols ...any) {
	_ = f.SetCellValue(sheet, "A1", entity)
	_ = f.SetSheetRow(sheet, "A2", &cols)
}

func TestCellValuesAreExact(t *testing.T) {
	p := writeBook(t, func(f *excelize.File) {
		header(f, "Sheet1", "entity: data/User; hierarchy: sys.hcs.X", "# Action", "username", "role", "account_information.locked",
			"account_information.failed_login_lock_date", "DtmfAccessId", "email", "account_information.num_of_failed_login_attempts", "first_name")
		_ = f.SetSheetRow("Sheet1", "A5", &[]any{"ADD", "u1", "R", true, time.Date(2024, 1, 31, 12, 30, 0, 0, time.UTC), "00123", " ", 3, "12345678901234567890"})
		_ = f.SetSheetRow("Sheet1", "A6", &[]any{"Modify", "u2", "R", "yes", nil, nil, nil, nil, nil})
		_ = f.SetSheetRow("Sheet1", "A7", &[]any{nil, "u3", "R", "0"})
	})
	recs, probs, err := readAll(t, p, Options{})
	if err != nil || len(probs) > 0 {
		t.Fatalf("err %v problems %v", err, probs)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	ai := r.Fields["account_information"].(map[string]any)
	tests := []struct {
		name      string
		got, want any
	}{
		{"action case-insensitive", r.Action, Add},
		{"hierarchy from entity row", r.Hierarchy, "sys.hcs.X"},
		{"boolean cell", ai["locked"], true},
		{"date to ISO 8601", ai["failed_login_lock_date"], "2024-01-31T12:30:00"},
		{"leading zeros kept", r.Fields["DtmfAccessId"], "00123"},
		{"single space means set-to-empty", r.Fields["email"], ""},
		{"integer typed", ai["num_of_failed_login_attempts"], int64(3)},
		{"20-digit text stays text", r.Fields["first_name"], "12345678901234567890"},
		{"row number", r.Loc.Row, 5},
		{"column letters", r.Columns["account_information.locked"], "D"},
		{"modify", recs[1].Action, Modify},
		{"yes is true", recs[1].Fields["account_information"].(map[string]any)["locked"], true},
		{"absent cell not in tree", recs[1].Fields["email"], nil},
		{"empty action is add", recs[2].Action, Add},
		{"0 is false", recs[2].Fields["account_information"].(map[string]any)["locked"], false},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

func TestBlocksSheetsAndArrays(t *testing.T) {
	p := writeBook(t, func(f *excelize.File) {
		header(f, "Sheet1", "entity: data/User; hierarchy: sys.A", "username", "role", "account_information.security_questions[0].question",
			"account_information.security_questions.1.question", "account_information.security_questions.[0].answer", "account_information.security_questions[1].answer")
		_ = f.SetSheetRow("Sheet1", "A5", &[]any{"u1", "R", "q0", "q1", "a0", "a1"})
		// A second block on the same sheet, with blank rows before it.
		_ = f.SetCellValue("Sheet1", "A8", "Entity: relation/HcsAdminUserREL; hierarchy: sys.B; parallel: False")
		_ = f.SetSheetRow("Sheet1", "A9", &[]any{"hcsUname", "AdminUser.username", "AdminUser.role"})
		_ = f.SetSheetRow("Sheet1", "A12", &[]any{"a1", "a1", "R"})
		f.NewSheet("#ignored")
		_ = f.SetCellValue("#ignored", "A1", "entity: data/Nothing")
		f.NewSheet("cupi")
		header(f, "cupi", "entity: cupi/User", "Alias", "DtmfAccessId")
		_ = f.SetSheetRow("cupi", "A5", &[]any{"vm", "1"})
	})
	recs, probs, err := readAll(t, p, Options{})
	if err != nil || len(probs) > 0 {
		t.Fatalf("err %v problems %v", err, probs)
	}
	if len(recs) != 3 || recs[1].Model != "relation/HcsAdminUserREL" || recs[1].Hierarchy != "sys.B" || recs[1].Loc.Row != 12 || recs[2].Loc.Sheet != "cupi" {
		t.Fatalf("records: %+v", recs)
	}
	qs := recs[0].Fields["account_information"].(map[string]any)["security_questions"].([]any)
	if len(qs) != 2 || qs[0].(map[string]any)["question"] != "q0" || qs[1].(map[string]any)["question"] != "q1" || qs[0].(map[string]any)["answer"] != "a0" {
		t.Fatalf("array paths a[0].b, a.1.b and a.[0].b: %#v", qs)
	}
}

func TestFormulaCells(t *testing.T) {
	p := writeBook(t, func(f *excelize.File) {
		header(f, "Sheet1", "entity: data/User; hierarchy: sys.A", "username", "role", "email")
		_ = f.SetSheetRow("Sheet1", "A5", &[]any{"u1", "R"})
		_ = f.SetCellFormula("Sheet1", "C5", `="a"&"@b.c"`)
	})
	// excelize saves no value with the formula: --formulas cached cannot
	// help, so neither message recommends it, and both refuse the cell.
	for _, formulas := range []string{"error", "cached"} {
		_, probs, _ := readAll(t, p, Options{Formulas: formulas})
		if len(probs) != 1 || !strings.Contains(probs[0], ":Sheet1:5:C: formula cell with no saved value") || strings.Contains(probs[0], "--formulas") {
			t.Fatalf("--formulas %s: problems %v", formulas, probs)
		}
	}
}

func TestCSVLayouts(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, text string
		opts       Options
		records    int
		problems   []string
	}{
		{"block layout with titles", "\"entity: data/User; hierarchy: sys.A\"\nusername,role\nBase,Attributes\nUser Name,Role\nu1,R\n", Options{}, 1, nil},
		{"semicolon separated with BOM", "\ufeffusername;role;email\nu1;R;x@y\n", Options{Model: "data/User", Hierarchy: "sys.A"}, 1, nil},
		{"no model", "username,role\nu1,R\n", Options{}, 0, []string{"give the model with --model"}},
		{"unknown column", "username,rolle\nu1,R\n", Options{Model: "data/User", Hierarchy: "sys.A"}, 1, []string{`:csv:1:B: unknown column "rolle" for data/User (did you mean "role"?)`}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, string(rune('a'+i))+".csv")
			_ = os.WriteFile(p, []byte(tc.text), 0o644)
			recs, probs, err := readAll(t, p, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tc.records {
				t.Errorf("%d records, want %d", len(recs), tc.records)
			}
			for _, want := range tc.problems {
				if !strings.Contains(strings.Join(probs, "\n"), want) {
					t.Errorf("problems %v lack %q", probs, want)
				}
			}
			if tc.problems == nil && len(probs) > 0 {
				t.Errorf("unexpected problems %v", probs)
			}
		})
	}
}

func zipOf(t *testing.T, entries map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range entries {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(body))
	}
	_ = zw.Close()
	p := filepath.Join(t.TempDir(), "x.zip")
	_ = os.WriteFile(p, b.Bytes(), 0o644)
	return p
}

func TestJSONShapes(t *testing.T) {
	item := `{"meta":{"model_type":"data/User","hierarchy":"sys.A"},"data":{"username":"u1","role":"R","account_information":{"locked":true}}}`
	tests := []struct{ name, doc string }{
		{"list", "[" + item + "]"},
		{"data", `{"data":[` + item + `]}`},
		{"resources", `{"resources":[` + item + `], "schema": {}}`},
		{"instances", `{"instances":[` + item + `]}`},
		{"lone item", item},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, probs, err := readAll(t, zipOf(t, map[string]string{"e.json": tc.doc}), Options{})
			if err != nil || len(probs) > 0 || len(recs) != 1 {
				t.Fatalf("%v %v %d", err, probs, len(recs))
			}
			r := recs[0]
			if r.Action != Upsert || r.Hierarchy != "sys.A" || r.Loc.Entry != "e.json" || r.Fields["account_information"].(map[string]any)["locked"] != true {
				t.Fatalf("record %+v", r)
			}
		})
	}
}

func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	small := Options{Limits: Limits{MaxBytes: 1 << 20, MaxRows: 100, MaxColumns: 50}}
	// A zip whose entry lies about its size: declared small, inflates big.
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "e.json", Method: zip.Deflate})
	_, _ = w.Write(bytes.Repeat([]byte(" "), 3<<20))
	_ = zw.Close()
	lying := filepath.Join(dir, "lying.zip")
	data := b.Bytes()
	// Patch the declared uncompressed size in the central directory to 10.
	if i := bytes.LastIndex(data, []byte("PK\x01\x02")); i >= 0 {
		copy(data[i+24:i+28], []byte{10, 0, 0, 0})
	}
	_ = os.WriteFile(lying, data, 0o644)

	manyRows := writeBook(t, func(f *excelize.File) {
		header(f, "Sheet1", "entity: data/User; hierarchy: sys.A", "username", "role")
		_ = f.SetCellValue("Sheet1", "A500", "late")
	})
	wide := writeBook(t, func(f *excelize.File) {
		header(f, "Sheet1", "entity: data/User; hierarchy: sys.A", "username")
		_ = f.SetCellValue("Sheet1", "XFD5", "far")
	})
	bigStrings := writeBook(t, func(f *excelize.File) {
		header(f, "Sheet1", "entity: data/User; hierarchy: sys.A", "username")
		for i := 0; i < 3000; i++ {
			ref, _ := excelize.CoordinatesToCellName(2, i+5)
			_ = f.SetCellValue("Sheet1", ref, strings.Repeat("ab", 200)+strconv.Itoa(i)) // 3,000 distinct strings
		}
	})
	renamed := filepath.Join(dir, "csv.xlsx")
	_ = os.WriteFile(renamed, []byte("a,b\n1,2\n"), 0o644)
	ole := filepath.Join(dir, "enc.xlsx")
	_ = os.WriteFile(ole, append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), 0o644)
	deep := zipOf(t, map[string]string{"d.json": strings.Repeat("[", 65) + strings.Repeat("]", 65)})
	slip := zipOf(t, map[string]string{"../x.json": "[]"})

	tests := []struct {
		name, path string
		want       string
	}{
		{"zip bomb lying about its size", lying, "larger than it declares"},
		{"rows beyond the limit", manyRows, "--max-rows"},
		{"16,384 columns", wide, "--max-columns"},
		{"huge shared-strings table", bigStrings, "--max-bytes"},
		{"renamed CSV", renamed, "name it .csv"},
		{"encrypted workbook", ole, "encrypted"},
		{"deep JSON", deep, "--max-json-depth"},
		{"zip slip", slip, "unsafe zip entry name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, tc.path, small)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			var le *LimitError
			if strings.HasPrefix(tc.want, "--") && !errors.As(err, &le) {
				t.Fatalf("not a LimitError: %v", err)
			}
		})
	}
}

func TestExcelDate(t *testing.T) {
	for _, tc := range []struct {
		serial float64
		want   string
	}{{45322, "2024-01-31"}, {45322.5, "2024-01-31T12:00:00"}, {1, "1899-12-31"}} {
		if got := excelDate(tc.serial, false); got != tc.want {
			t.Errorf("excelDate(%v) = %s, want %s", tc.serial, got, tc.want)
		}
	}
}

// A workbook saved by LibreOffice (testdata/gen-libreoffice.sh): shared
// strings, its own styles and date formats, booleans and a formula.
func TestLibreOfficeWorkbook(t *testing.T) {
	recs, probs, err := readAll(t, "testdata/libreoffice.xlsx", Options{Formulas: "cached"})
	if err != nil || len(probs) > 0 || len(recs) != 2 {
		t.Fatalf("err %v problems %v records %d", err, probs, len(recs))
	}
	a, b := recs[0], recs[1]
	ai := a.Fields["account_information"].(map[string]any)
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"text with zeros", a.Fields["DtmfAccessId"], "00123"},
		{"boolean", ai["locked"], true},
		{"date", ai["failed_login_lock_date"], "2024-01-31"},
		{"integer", ai["num_of_failed_login_attempts"], int64(3)},
		{"unicode", a.Fields["first_name"], "Zoë"},
		{"20 digits as text", b.Fields["DtmfAccessId"], "12345678901234567890"},
		{"false", b.Fields["account_information"].(map[string]any)["locked"], false},
		{"cached formula value", b.Fields["account_information"].(map[string]any)["num_of_failed_login_attempts"], int64(2)},
		{"modify", b.Action, Modify},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	_, probs, _ = readAll(t, "testdata/libreoffice.xlsx", Options{})
	if len(probs) != 1 || !strings.HasSuffix(probs[0], "formula cell: VOSS does not evaluate formulas; type the value itself, or pass --formulas cached to use the value saved with the file") {
		t.Fatalf("formula refusal: %v", probs)
	}
}

// One JSON document per entry: trailing data is a problem at the entry,
// not ignored; a UTF-8 BOM is accepted; desktop clutter is skipped.
func TestJSONStrictness(t *testing.T) {
	item := `{"meta":{"model_type":"data/User","hierarchy":"sys.A"},"data":{"username":"u","role":"R"}}`
	tests := []struct {
		name    string
		entries map[string]string
		records int
		problem string
	}{
		{"second document", map[string]string{"e.json": "[" + item + "]\n[" + item + "]"}, 0, ":e.json:0: trailing data after the JSON document at byte"},
		{"BOM", map[string]string{"e.json": "\ufeff[" + item + "]"}, 1, ""},
		{"macOS clutter", map[string]string{"x/e.json": "[" + item + "]", "__MACOSX/x/._e.json": "\x00\x05\x16\x07", "x/.DS_Store": "Bud1", "._top.json": "\x00"}, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, probs, err := readAll(t, zipOf(t, tc.entries), Options{})
			if err != nil || len(recs) != tc.records {
				t.Fatalf("%d records, err %v, problems %v", len(recs), err, probs)
			}
			if tc.problem == "" && len(probs) > 0 || tc.problem != "" && (len(probs) != 1 || !strings.Contains(probs[0], tc.problem)) {
				t.Fatalf("problems %v, want %q", probs, tc.problem)
			}
		})
	}
}

// A meta.hierarchy wins over --hierarchy; an item without one takes its
// business key's hierarchy, then hierarchy_path from its data, then
// --hierarchy.
func TestJSONHierarchyPrecedence(t *testing.T) {
	doc := `[{"meta":{"model_type":"data/User","hierarchy":"sys.meta"},"data":{"username":"a","role":"R","hierarchy_path":"sys.path"}},
	{"meta":{"model_type":"data/User","business_key":{"hierarchy":"sys.bk"}},"data":{"username":"b","role":"R","hierarchy_path":"sys.path"}},
	{"meta":{"model_type":"data/User"},"data":{"username":"c","role":"R","hierarchy_path":"sys.path"}},
	{"meta":{"model_type":"data/User"},"data":{"username":"d","role":"R"}}]`
	recs, probs, err := readAll(t, zipOf(t, map[string]string{"e.json": doc}), Options{Hierarchy: "sys.flag"})
	if err != nil || len(probs) > 0 || len(recs) != 4 {
		t.Fatalf("%v %v %d", err, probs, len(recs))
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Hierarchy)
	}
	if want := []string{"sys.meta", "sys.bk", "sys.path", "sys.flag"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("hierarchies %v, want %v", got, want)
	}
}
