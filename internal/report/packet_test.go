package report

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
)

// apply --revert is an apply: it ends with an "Apply:" line, and its
// workbook has the done and skipped rows (issue 24).
func TestApplyRevertIsAnApply(t *testing.T) {
	d := sample()
	d.Kind, d.Run.Command = "apply --revert", "apply --revert"
	d.Ops[0].Status, d.Ops[1].Status, d.Ops[3].Status = engine.Done, engine.Done, engine.Skipped
	d.Ops[3].Error = "not run: the run stopped before this row"
	if line := SummaryLine(d); !strings.HasPrefix(line, "Apply: ") || !strings.Contains(line, "2 done, 1 failed, 1 skipped, 1 unchanged.") {
		t.Errorf("summary line %q", line)
	}
	facts := map[string]any{}
	for _, kv := range SummaryRows(d) {
		facts[kv[0].(string)] = kv[1]
	}
	if facts["operations done"] != 2 || facts["operations skipped"] != 1 {
		t.Errorf("summary rows lack done/skipped: %v", facts)
	}
}

// packetDoc is a back-out plan's document with everything a change board
// signs: the config and its hash, the back-out file, the not-restorable
// list.
func packetDoc() *Document {
	d := sample()
	d.Run.Config = &RunFile{File: "tenant-config.json", SHA256: "c0ff1e"}
	d.Run.Backout = "state/checkpoints/users-20260102T030405Z.backout.json"
	d.NotRestorable = []engine.NotRestorable{{Source: engine.Source{File: "users.xlsx", Sheet: "data_User", Row: 7}, Kind: "cupi/credential/pin", Key: "jdoe-unrestorable", Field: "Credentials"}}
	return d
}

// Every report format carries the run's config path and hash, the back-out
// file and the not-restorable list (the CSV, one flat table, carries the
// list only).
func TestRunMetadataInEveryFormat(t *testing.T) {
	d := packetDoc()
	wants := []string{"tenant-config.json", "c0ff1e", "users-20260102T030405Z.backout.json", "jdoe-unrestorable"}
	var js, page bytes.Buffer
	if err := JSON(&js, d); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Run struct {
			Config  RunFile `json:"config"`
			Backout string  `json:"backout"`
		} `json:"run"`
		NotRestorable []engine.NotRestorable `json:"not_restorable"`
	}
	if err := json.Unmarshal(js.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	if parsed.Run.Config.File != "tenant-config.json" || parsed.Run.Config.SHA256 != "c0ff1e" || parsed.Run.Backout == "" || len(parsed.NotRestorable) != 1 {
		t.Errorf("JSON: %+v", parsed)
	}
	if err := HTML(&page, d); err != nil {
		t.Fatal(err)
	}
	var book bytes.Buffer
	if err := XLSX(&book, d, nil); err != nil {
		t.Fatal(err)
	}
	dump := string(dumpXLSX(t, book.Bytes()))
	var flat bytes.Buffer
	if err := CSV(&flat, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flat.String(), "jdoe-unrestorable,none,not restorable,Credentials") {
		t.Errorf("CSV lacks the not-restorable value:\n%s", flat.String())
	}
	for _, w := range wants {
		if !strings.Contains(page.String(), w) {
			t.Errorf("HTML lacks %q", w)
		}
		if !strings.Contains(dump, w) {
			t.Errorf("xlsx lacks %q", w)
		}
	}
}

// The HTML shows every row and every value with no script run: the text
// of the page with its scripts removed holds each field change.
func TestHTMLShowsEveryValueWithoutScript(t *testing.T) {
	d := bigPlan(300)
	var b bytes.Buffer
	if err := HTML(&b, d); err != nil {
		t.Fatal(err)
	}
	static := regexp.MustCompile(`(?s)<script.*?</script>`).ReplaceAllString(b.String(), "")
	for _, op := range d.Visible() {
		for _, c := range op.Changes {
			if c.Secret {
				continue
			}
			v := Value(c.New, false)
			if !strings.Contains(static, "<li>"+c.Field+": ") || !strings.Contains(static, strings.ReplaceAll(v, `"`, "&#34;")) {
				t.Fatalf("the page without scripts lacks %s %s: %s", op.Key, c.Field, v)
			}
		}
	}
	if strings.Contains(static, "<details") || strings.Contains(static, "noscript") {
		t.Error("the page folds values or needs a script")
	}
	if !strings.Contains(static, "@media print") {
		t.Error("no print stylesheet")
	}
}

// sheetXML is every worksheet's XML, by sheet name.
func sheetXML(t *testing.T, book []byte) map[string]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range z.File {
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		files[f.Name] = string(b)
	}
	// workbook.xml names the sheets by r:id; the relationships name the parts.
	rels := map[string]string{}
	for _, m := range regexp.MustCompile(`<Relationship [^>]*Id="([^"]+)"[^>]*Target="([^"]+)"`).FindAllStringSubmatch(files["xl/_rels/workbook.xml.rels"], -1) {
		rels[m[1]] = strings.TrimPrefix(m[2], "/xl/")
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`<sheet name="([^"]+)" sheetId="\d+" r:id="([^"]+)"`).FindAllStringSubmatch(files["xl/workbook.xml"], -1) {
		out[strings.ReplaceAll(m[1], "&amp;", "&")] = files["xl/"+strings.TrimPrefix(rels[m[2]], "xl/")]
	}
	if len(out) == 0 {
		t.Fatalf("no sheets found in the workbook")
	}
	return out
}

// DimensionMatches checks a worksheet the way a reader that trusts
// <dimension> (openpyxl read-only) sees it: the declared range must be
// the range of the cells the sheet holds.
func DimensionMatches(t *testing.T, name, xml string) {
	t.Helper()
	dim := regexp.MustCompile(`<dimension ref="([^"]+)"`).FindStringSubmatch(xml)
	if dim == nil {
		t.Errorf("%s: no <dimension>", name)
		return
	}
	maxCol, maxRow := 0, 0
	for _, m := range regexp.MustCompile(`<c r="([A-Z]+[0-9]+)"`).FindAllStringSubmatch(xml, -1) {
		c, r, _ := excelize.CellNameToCoordinates(m[1])
		maxCol, maxRow = max(maxCol, c), max(maxRow, r)
	}
	want, _ := excelize.CoordinatesToCellName(maxCol, maxRow)
	if dim[1] != "A1:"+want {
		t.Errorf("%s declares <dimension ref=%q>; its cells span A1:%s", name, dim[1], want)
	}
}

// The workbook's sheets declare their true used range; counts and row
// numbers are numbers; the header rows are frozen and filterable and the
// columns sized. The failed-rows sheet keeps the input's own text.
func TestXLSXLayout(t *testing.T) {
	d := packetDoc()
	d.Ops[0].Changes = append(d.Ops[0].Changes, engine.Change{Field: "extension", Old: json.Number("5001"), New: json.Number("5002")})
	recs := []*loader.Record{{Model: "data/User", Loc: loader.Location{File: "users.xlsx", Sheet: "data_User", Row: 8}, Instructions: "entity: data/User; hierarchy: sys.hcs.A",
		Header: []string{"# Action", "username", "extension"}, Cells: []string{"add", "jdoe", "0042"}}}
	var b bytes.Buffer
	if err := XLSX(&b, d, recs); err != nil {
		t.Fatal(err)
	}
	sheets := sheetXML(t, b.Bytes())
	for _, name := range []string{SummarySheet, ChangesSheet, FailedSheet, NotRestorableSheet} {
		xml, ok := sheets[name]
		if !ok {
			t.Fatalf("no sheet %s among %d", name, len(sheets))
		}
		DimensionMatches(t, name, xml)
	}
	for _, name := range []string{ChangesSheet, NotRestorableSheet} {
		xml := sheets[name]
		if !strings.Contains(xml, `state="frozen"`) || !strings.Contains(xml, "<autoFilter") || !strings.Contains(xml, "<col ") {
			t.Errorf("%s: header not frozen, no filter, or columns not sized: %s", name, regexp.MustCompile(`(?s)<sheetData.*</sheetData>`).ReplaceAllString(xml[strings.Index(xml, "<dimension"):], "DATA"))
		}
	}
	f, _ := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	defer f.Close()
	typ := func(sheet, cell string) excelize.CellType {
		ct, err := f.GetCellType(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	// The changes sheet: the row number (C2) and the numeric old and new
	// values are numbers.
	if ct := typ(ChangesSheet, "C2"); ct != excelize.CellTypeNumber && ct != excelize.CellTypeUnset {
		t.Errorf("#Changes C2 (row number) has type %v", ct)
	}
	rows, _ := f.GetRows(ChangesSheet)
	found := false
	for i, r := range rows {
		if len(r) > 11 && r[9] == "extension" {
			found = true
			cell, _ := excelize.CoordinatesToCellName(12, i+1)
			if ct := typ(ChangesSheet, cell); ct != excelize.CellTypeNumber && ct != excelize.CellTypeUnset {
				t.Errorf("#Changes %s (5002) has type %v", cell, ct)
			}
			if v, _ := f.GetCellValue(ChangesSheet, cell); v != "5002" {
				t.Errorf("#Changes %s = %q", cell, v)
			}
		}
	}
	if !found {
		t.Fatal("no extension change in #Changes")
	}
	if !regexp.MustCompile(`<c r="C2"[^>]*><v>7</v>`).MatchString(sheets[ChangesSheet]) {
		t.Errorf("#Changes C2 is not the number 7: %.400s", sheets[ChangesSheet])
	}
	// The summary's counts are numbers.
	srows, _ := f.GetRows(SummarySheet)
	for i, r := range srows {
		if len(r) == 2 && r[0] == "rows" {
			cell, _ := excelize.CoordinatesToCellName(2, i+1)
			if !regexp.MustCompile(`<c r="` + cell + `"[^>]*><v>4</v>`).MatchString(sheets[SummarySheet]) {
				t.Errorf("#Summary %s (rows) is not the number 4", cell)
			}
		}
	}
	// The failed rows keep the input's text, leading zero and all.
	frows, _ := f.GetRows(FailedSheet)
	if len(frows) < 5 || frows[4][2] != "0042" {
		t.Errorf("failed rows: %q", frows)
	}
}
