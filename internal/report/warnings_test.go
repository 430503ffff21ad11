package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// A plan's warnings (engine.Warning: a user it creates that exists under
// another hierarchy) are in every format, each naming its row — the
// terminal as a "warning:" line, JSON as a "warnings" array, HTML as a
// section, xlsx as a sheet, and CSV, xlsx and HTML beside the operation
// they concern — and counted in the one account, not as failures.
func TestWarningsInEveryFormat(t *testing.T) {
	loc := engine.Source{File: "users.xlsx", Sheet: "Users", Row: 7}
	p := &engine.Plan{Ops: []*engine.Op{{ID: "op1", Source: &loc, Target: "voss", Kind: "data/User", Key: "sys.hcs.B/jdoe", Action: engine.Create, Status: engine.Planned,
		Hierarchy: "sys.hcs.B", Changes: []engine.Change{{Field: "username", New: "jdoe"}}}},
		Warnings: []engine.Warning{{Source: &loc, Op: "op1", Target: "voss", Kind: "data/User", Key: "sys.hcs.B/jdoe",
			Message: "user jdoe already exists under sys.hcs.A (pkid p1); this plan creates another at sys.hcs.B"}}}
	d := New("plan", p)
	const line = "warning: row 7 (users.xlsx:Users:7): user jdoe already exists under sys.hcs.A (pkid p1); this plan creates another at sys.hcs.B"
	for _, changes := range []bool{true, false} {
		var b bytes.Buffer
		Print(&b, d, TextOptions{Changes: changes})
		if !strings.Contains(b.String(), line+"\n") || !strings.Contains(b.String(), "0 failed. 1 warning.") {
			t.Errorf("terminal (changes %v):\n%s", changes, b.String())
		}
	}
	if a := d.Account(); a.Warnings != 1 || a.ByStatus.Failed != 0 || a.Rows.OK != 1 {
		t.Errorf("account %+v", a)
	}
	var j bytes.Buffer
	if err := JSON(&j, d); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Account  struct{ Warnings int }
		Warnings []struct {
			Source struct {
				File, Sheet string
				Row         int
			}
			Target, Kind, Key, Operation, Message string
		}
	}
	if err := json.Unmarshal(j.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Account.Warnings != 1 || len(rep.Warnings) != 1 || rep.Warnings[0].Source.Row != 7 || rep.Warnings[0].Operation != "op1" ||
		!strings.HasPrefix(rep.Warnings[0].Message, "user jdoe already exists under sys.hcs.A") {
		t.Errorf("JSON: %s", j.String())
	}
	var c bytes.Buffer
	if err := CSV(&c, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.String(), "warning: user jdoe already exists under sys.hcs.A") {
		t.Errorf("CSV:\n%s", c.String())
	}
	var h bytes.Buffer
	if err := HTML(&h, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), `<table id="warnings">`) || !strings.Contains(h.String(), "<td>row 7 (users.xlsx:Users:7)</td>") ||
		!strings.Contains(h.String(), `<div class="err">warning: user jdoe`) {
		t.Errorf("HTML has no warnings section or note")
	}
	var x bytes.Buffer
	if err := XLSX(&x, d, nil); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(WarningsSheet)
	if err != nil || len(rows) != 2 || rows[1][2] != "7" || !strings.Contains(rows[1][6], "already exists under sys.hcs.A") {
		t.Errorf("xlsx %s: %v %v", WarningsSheet, rows, err)
	}
	summary, _ := f.GetRows(SummarySheet)
	found := false
	for _, r := range summary {
		found = found || len(r) == 2 && r[0] == "warnings" && r[1] == "1"
	}
	if !found {
		t.Errorf("xlsx summary has no warnings count: %v", summary)
	}
}
