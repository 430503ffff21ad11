package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() *Document {
	loc := engine.Source{File: "users.xlsx", Sheet: "data_User", Row: 7}
	p := &engine.Plan{Inputs: []engine.Input{{Path: "users.xlsx", SHA256: "ab12", Size: 10}}, Ops: []*engine.Op{
		{ID: "1", Source: &loc, Row: 0, Target: "voss", Kind: "data/User", Key: "sys.hcs.A/jdoe", Action: engine.Update, Status: engine.Planned, Hierarchy: "sys.hcs.A",
			Changes: []engine.Change{{Field: "account_information.locked", Old: false, New: true}, {Field: "password", Old: "***", New: "***", Secret: true}}},
		{ID: "2", Source: &loc, Row: 0, Target: "cupi", Kind: "cupi/userrole", Key: "jdoe/Help Desk Administrator", Action: engine.Create, Status: engine.Planned,
			Changes: []engine.Change{{Field: "role", New: "Help Desk Administrator"}}},
		{ID: "3", Source: &engine.Source{File: "users.xlsx", Sheet: "data_User", Row: 8}, Row: 1, Target: "cupi", Kind: "cupi/user", Key: "=cmd|calc", Action: engine.Create, Status: engine.Failed,
			Error: "the CUPI user =cmd|calc does not exist and the row has no DtmfAccessId to create it with"},
		{ID: "4", Source: &engine.Source{File: "users.xlsx", Sheet: "data_User", Row: 9}, Row: 2, Target: "voss", Kind: "data/User", Key: "sys.hcs.A/old", Action: engine.Delete, Status: engine.Planned,
			Changes: []engine.Change{{Field: "username", Old: "old"}}},
		{ID: "5", Source: &engine.Source{File: "users.xlsx", Sheet: "data_User", Row: 10}, Row: 3, Target: "voss", Kind: "data/User", Key: "sys.hcs.A/same", Action: engine.Noop, Status: engine.Planned},
	}}
	d := New("plan", p)
	d.Run = &Run{Command: "plan", Version: "1.2.3", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Finished: time.Date(2026, 1, 2, 3, 4, 7, 500e6, time.UTC),
		Targets: RunTargets{VOSS: "https://voss.example", CUPI: map[string]string{"default": "https://cuc.example"}},
		Inputs:  []RunFile{{File: "users.xlsx", SHA256: "ab12"}}, Plan: &RunFile{File: "plan.json", SHA256: "cd34"}, Exit: 1}
	return d
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
	golden(t, "plan.html.golden", b.Bytes())
	page := b.String()
	failures := regexp.MustCompile(`(?s)<div id="failures">.*?</div>`).FindString(page)
	if !strings.Contains(failures, "users.xlsx:data_User:8") || !strings.Contains(failures, "DtmfAccessId") || strings.Contains(failures, "data_User:7") {
		t.Errorf("failures section: %s", failures)
	}
	// 4 listed operations (the noop is counted, not listed) on 3 rows; the
	// failed row first.
	bodies := regexp.MustCompile(`<tbody class="(r f|r)"><tr class="src"><th colspan="6">([^<]*)</th>`).FindAllStringSubmatch(page, -1)
	if len(bodies) != 3 || bodies[0][1] != "r f" || !strings.HasPrefix(bodies[0][2], "users.xlsx:data_User:8 (1 operation)") || bodies[1][2] != "users.xlsx:data_User:7 (2 operations)" {
		t.Errorf("change list rows: %q", bodies)
	}
	for _, want := range []string{`id="by-kind"`, `id="by-hierarchy"`, "sys.hcs.A", "ab12", "+1 create", "~1 update", "-1 delete", "1 failed", "***",
		"https://voss.example", "https://cuc.example", "plan.json", "cd34", "2026-01-02T03:04:05Z", "1.2.3"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// dumpXLSX renders every sheet of a workbook as text, for golden files.
func dumpXLSX(t *testing.T, b []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	for _, sh := range f.GetSheetList() {
		fmt.Fprintf(&out, "== %s\n", sh)
		rows, err := f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			fmt.Fprintf(&out, "%q\n", r)
		}
	}
	return out.Bytes()
}

func TestXLSXGolden(t *testing.T) {
	d := sample()
	d.Kind, d.Run.Command = "apply", "apply"
	d.Ops[0].Status, d.Ops[1].Status, d.Ops[3].Status = engine.Done, engine.Done, engine.Done
	d.Summary = engine.Summary{Create: 1, Update: 1, Delete: 1, Noop: 1, Failed: 1, Done: 3}
	recs := []*loader.Record{{Model: "data/User", Loc: loader.Location{File: "users.xlsx", Sheet: "data_User", Row: 8}, Instructions: "entity: data/User; hierarchy: sys.hcs.A",
		Header: []string{"# Action", "username", "password"}, Cells: []string{"add", "=cmd|calc", "Secret-123"}}}
	var b bytes.Buffer
	if err := XLSX(&b, d, recs); err != nil {
		t.Fatal(err)
	}
	dump := dumpXLSX(t, b.Bytes())
	golden(t, "apply.xlsx.golden", dump)
	if strings.Contains(string(dump), "Secret-123") {
		t.Fatal("a write-only value reached the report")
	}
	f, _ := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "#Summary,#Changes,Failed rows" {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := f.GetRows(FailedSheet)
	if len(rows) != 5 || rows[0][0] != "entity: data/User; hierarchy: sys.hcs.A" || rows[1][3] != "# Comment" || rows[4][1] != "=cmd|calc" || rows[4][2] != "" ||
		!strings.Contains(rows[4][3], "DtmfAccessId") || !strings.Contains(rows[4][3], "type them again: password") {
		t.Fatalf("failed rows sheet %q", rows)
	}
}

// JSON items have no layout of their own: their failed rows become a
// block of dotted columns under their model and hierarchy.
func TestFailedBlocksFromJSONItems(t *testing.T) {
	d := sample()
	loc := loader.Location{File: "users.xlsx", Sheet: "data_User", Row: 8}
	recs := []*loader.Record{{Model: "data/User", Hierarchy: "sys.hcs.A", Loc: loc, Action: loader.Upsert, Fields: map[string]any{
		"username": "jane", "password": "Secret-123", "account_information": map[string]any{"locked": true,
			"security_questions": []any{map[string]any{"question": "q?", "answer": "a"}}}, "email": ""}}}
	bs := failedBlocks(d, recs)
	if len(bs) != 1 {
		t.Fatalf("%d blocks", len(bs))
	}
	b := bs[0]
	want := []string{"# Comment", "account_information.locked", "account_information.security_questions.[0].answer", "account_information.security_questions.[0].question", "email", "password", "username"}
	if strings.Join(b.header, ",") != strings.Join(want, ",") || b.instr != "entity: data/User; hierarchy: sys.hcs.A" {
		t.Fatalf("block %q %q", b.instr, b.header)
	}
	r := b.rows[0]
	if r[1] != true || r[2] != nil || r[3] != "q?" || r[4] != " " || r[5] != nil || r[6] != "jane" ||
		!strings.Contains(r[0].(string), "account_information.security_questions.[0].answer, password") {
		t.Fatalf("row %q", r)
	}
}

func TestCountRows(t *testing.T) {
	d := sample()
	if c := CountRows(d.Ops); c != (RowCounts{Total: 4, OK: 3, Failed: 1}) {
		t.Fatalf("%+v", c)
	}
	d.Ops[3].Status = engine.Skipped
	if c := CountRows(d.Ops); c != (RowCounts{Total: 4, OK: 2, Failed: 1, NotRun: 1}) {
		t.Fatalf("%+v", c)
	}
}

func TestWriteAtomicLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	if err := WriteAtomic(p, func(w io.Writer) error { _, _ = w.Write([]byte("half")); return errors.New("boom") }); err == nil {
		t.Fatal("no error")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
	if err := Write(filepath.Join(dir, "r.pdf"), sample(), nil); err == nil || !strings.Contains(err.Error(), "unknown report format") {
		t.Fatalf("pdf: %v", err)
	}
	if err := Write(p, sample(), nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("files: %v", ents)
	}
}

// bigPlan is a plan of n rows shaped like a real one: a VOSS user create
// with 7 fields, a CUPI user, a role and a password credential per row.
func bigPlan(n int) *Document {
	p := &engine.Plan{}
	for i := 0; i < n; i++ {
		loc := engine.Source{File: "users.csv", Sheet: "csv", Row: i + 3}
		u := fmt.Sprintf("user%05d", i)
		p.Ops = append(p.Ops,
			&engine.Op{Source: &loc, Row: i, Target: "voss", Kind: "data/User", Key: "sys.hcs.CS-P.CS-NB.AAAGlobal/" + u, Action: engine.Create, Status: engine.Planned, Hierarchy: "sys.hcs.CS-P.CS-NB.AAAGlobal",
				Changes: []engine.Change{{Field: "account_information.locked", New: false}, {Field: "email", New: u + "@aaaglobal.example"}, {Field: "first_name", New: fmt.Sprint("First", i)},
					{Field: "last_name", New: fmt.Sprint("Last", i)}, {Field: "role", New: "Help Desk Administrator"}, {Field: "username", New: u}, {Field: "password", New: "x", Secret: true}}},
			&engine.Op{Source: &loc, Row: i, Target: "cupi", Kind: "cupi/user", Key: u, Action: engine.Create, Status: engine.Planned,
				Changes: []engine.Change{{Field: "Alias", New: u}, {Field: "DtmfAccessId", New: fmt.Sprint(900000 + i)}, {Field: "FirstName", New: fmt.Sprint("First", i)}, {Field: "LastName", New: fmt.Sprint("Last", i)}}},
			&engine.Op{Source: &loc, Row: i, Target: "cupi", Kind: "cupi/userrole", Key: u + "/Help Desk Administrator", Action: engine.Create, Status: engine.Planned,
				Changes: []engine.Change{{Field: "role", New: "Help Desk Administrator"}}},
			&engine.Op{Source: &loc, Row: i, Target: "cupi", Kind: "cupi/credential/password", Key: u, Action: engine.Update, Status: engine.Planned,
				Changes: []engine.Change{{Field: "Locked", New: "false"}, {Field: "Credentials", New: "x", Secret: true}}})
	}
	p.Ops[len(p.Ops)-1].Status, p.Ops[len(p.Ops)-1].Error = engine.Failed, "the credential policy refuses this password"
	return New("plan", p)
}

// A 20,000-row plan's page holds every operation and every value as
// written (no script draws them), and stays within 1.25 KB a row
// (14 field changes a row here; a printout carries them all). No secret
// reaches it.
func TestHTMLScales(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, bigPlan(20000)); err != nil {
		t.Fatal(err)
	}
	t.Logf("20,000-row plan: %d bytes of HTML", b.Len())
	if b.Len() >= 20000*1250 {
		t.Fatalf("20,000-row plan page is %d bytes, want < 25 MB", b.Len())
	}
	page := b.String()[strings.Index(b.String(), `<table id="changes">`):]
	if n := strings.Count(page, "<tbody class="); n != 20000 {
		t.Errorf("%d rows listed, want 20000", n)
	}
	if n := strings.Count(page, "<li>"); n != 20000*14 {
		t.Errorf("%d field changes listed, want %d", n, 20000*14)
	}
	for _, v := range []string{"user19999@aaaglobal.example", "&#34;Last19999&#34;", "919999"} {
		if !strings.Contains(page, v) {
			t.Errorf("page lacks the value %s", v)
		}
	}
	if !strings.Contains(page, "*** (will be set)") || strings.Contains(page, `"x"`) || strings.Contains(page, "&#34;x&#34;") {
		t.Fatal("a secret reached the page")
	}
}

func BenchmarkHTML20000Rows(b *testing.B) {
	d := bigPlan(20000)
	for b.Loop() {
		var w bytes.Buffer
		if err := HTML(&w, d); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(w.Len())/1e6, "MB")
	}
}

// Timelines have axes: time along x (0, middle, end), the unit along y
// (0, half, maximum); an all-zero series gets one mark.
func TestChartAxes(t *testing.T) {
	ticks := []engine.Tick{{Requests: 4}, {Requests: 10}, {Requests: 2}, {Requests: 0}}
	svg := string(chart(ticks, "voss: requests per ¼ s", "", func(t engine.Tick) float64 { return float64(t.Requests) }))
	for _, want := range []string{`class="ax"`, ">0.0s<", ">0.5s<", ">1.0s<", ">10 <", ">5.0 <", ">0 <", "voss: requests per ¼ s", `<polyline class="ln"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	zero := string(chart(ticks, "backing off", "s", func(engine.Tick) float64 { return 0 }))
	if strings.Count(zero, `class="yl"`) != 1 {
		t.Errorf("an all-zero series has %d y marks", strings.Count(zero, `class="yl"`))
	}
}

// A part of a row never planned because the run stopped first (a noop
// skipped) is listed, and counted skipped, not unchanged.
func TestNeverPlannedIsListedNotUnchanged(t *testing.T) {
	p := &engine.Plan{Ops: []*engine.Op{
		{Target: "voss", Kind: "data/User", Key: "h/u", Action: engine.Update, Status: engine.Done},
		{Target: "cupi", Kind: "cupi/user", Key: "u", Action: engine.Noop, Status: engine.Skipped, Error: "not run: the run stopped"},
	}}
	d := New("apply", p)
	if len(d.Visible()) != 2 {
		t.Errorf("listed %d operations, want both", len(d.Visible()))
	}
	if s := d.Summary; s.Skip != 1 || s.Noop != 0 || s.Done != 1 {
		t.Errorf("summary %+v", s)
	}
}
