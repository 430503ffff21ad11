package report

import (
	"bytes"
	"strings"
	"testing"
)

// The plan's signers (apply under an approval policy) are shown next to
// the plan's SHA-256 in the JSON, HTML and xlsx reports.
func TestApprovalsShownNextToPlan(t *testing.T) {
	d := sample()
	d.Run.Approvals = []Approval{{Principal: "alice@board.example", Key: "SHA256:aaaa"}, {Principal: "bob@board.example", Key: "SHA256:bbbb"}}
	rows := SummaryRows(d)
	at := -1
	for i, r := range rows {
		if r[0] == "plan plan.json" {
			at = i
		}
	}
	if at < 0 || at+2 >= len(rows) || rows[at+1] != [2]any{"approved by alice@board.example", "key SHA256:aaaa"} || rows[at+2][0] != "approved by bob@board.example" {
		t.Fatalf("summary rows: %q", rows)
	}
	var h, x, j bytes.Buffer
	if err := HTML(&h, d); err != nil {
		t.Fatal(err)
	}
	if err := XLSX(&x, d, nil); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&j, d); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"html": h.String(), "xlsx": string(dumpXLSX(t, x.Bytes())), "json": j.String()} {
		for _, want := range []string{"alice@board.example", "SHA256:bbbb"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s report lacks %q", name, want)
			}
		}
	}
}
