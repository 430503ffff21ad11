package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/engine"
	"github.com/bulkprov/bulkprov/loader"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() *Document {
	loc := loader.Location{File: "users.xlsx", Sheet: "data_User", Row: 7}
	p := &engine.Plan{Inputs: []engine.Input{{Path: "users.xlsx", SHA256: "ab12", Size: 10}}, Ops: []*engine.Op{
		{ID: "1", Source: loc, Row: 0, Target: "voss", Kind: "data/User", Key: "sys.hcs.A/jdoe", Action: engine.Update, Status: engine.Planned, Hierarchy: "sys.hcs.A",
			Changes: []engine.Change{{Field: "account_information.locked", Old: false, New: true}, {Field: "password", Old: "***", New: "***", Secret: true}}},
		{ID: "2", Source: loc, Row: 0, Target: "cupi", Kind: "cupi/userrole", Key: "jdoe/Help Desk Administrator", Action: engine.Create, Status: engine.Planned,
			Changes: []engine.Change{{Field: "role", New: "Help Desk Administrator"}}},
		{ID: "3", Source: loader.Location{File: "users.xlsx", Sheet: "data_User", Row: 8}, Row: 1, Target: "cupi", Kind: "cupi/user", Key: "=cmd|calc", Action: engine.Noop, Status: engine.Failed,
			Error: "the CUPI user =cmd|calc does not exist and the row has no DtmfAccessId to create it with"},
		{ID: "4", Source: loader.Location{File: "users.xlsx", Sheet: "data_User", Row: 9}, Row: 2, Target: "voss", Kind: "data/User", Key: "sys.hcs.A/old", Action: engine.Delete, Status: engine.Planned,
			Changes: []engine.Change{{Field: "username", Old: "old"}}},
		{ID: "5", Source: loader.Location{File: "users.xlsx", Sheet: "data_User", Row: 10}, Row: 3, Target: "voss", Kind: "data/User", Key: "sys.hcs.A/same", Action: engine.Noop, Status: engine.Planned},
	}}
	return New("plan", p)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run with -update):\n%s", name, got)
	}
}

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	Text(&b, sample(), false)
	golden(t, "plan.txt.golden", b.Bytes())
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json.golden", b.Bytes())
}

func TestCSVEscapesFormulas(t *testing.T) {
	var b bytes.Buffer
	if err := CSV(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.csv.golden", b.Bytes())
	if strings.Contains(b.String(), ",=cmd") {
		t.Fatal("formula not escaped")
	}
}

func TestHTMLContent(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, sample()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	rows := regexp.MustCompile(`(?s)<table id="changes">.*?</table>`).FindString(page)
	if n := strings.Count(rows, "<tr class="); n != 5 { // 2 changes + 1 + 1 failed + 1 delete; the noop is counted, not listed
		t.Errorf("changes table has %d rows, want 5", n)
	}
	for _, want := range []string{`id="by-kind"`, `id="by-hierarchy"`, "sys.hcs.A", "ab12", "+1 create", "~1 update", "-1 delete", "1 failed", "***", "class=\"bar\""} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page must be self-contained and static")
	}
}

func TestXLSXSheets(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.xlsx")
	d := sample()
	d.Kind = "apply"
	recs := []*loader.Record{{Loc: loader.Location{File: "users.xlsx", Sheet: "data_User", Row: 8}, Instructions: "entity: data/User; hierarchy: sys.hcs.A",
		Header: []string{"# Action", "username", "password"}, Cells: []string{"add", "=cmd|calc", "Secret-123"}}}
	if err := XLSX(p, d, recs); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "Summary,Changes,Failed rows" {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := f.GetRows("Failed rows")
	if len(rows) != 5 || rows[0][0] != "entity: data/User; hierarchy: sys.hcs.A" || rows[4][1] != "'=cmd|calc" || len(rows[4]) > 2 && rows[4][2] != "" {
		t.Fatalf("failed rows sheet %q", rows)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
}
