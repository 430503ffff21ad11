package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// loadRun maps every record onto its row and keeps the records only when
// asked (an xlsx report writes failed rows back from them).
func TestLoadRunKeepsRecordsOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	csv := "\"entity: data/User; hierarchy: sys.A\"\nusername,role\nu1,R\nu2,R\nu3,R\n"
	if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	io := streams{out: io.Discard, err: io.Discard}
	for _, keep := range []bool{false, true} {
		var f targetFlags
		run, err := f.loadRun(&inputFlags{}, []string{in}, io, keep)
		if err != nil {
			t.Fatal(err)
		}
		if len(run.rows) != 3 {
			t.Fatalf("keep=%v: %d rows, want 3", keep, len(run.rows))
		}
		want := 0
		if keep {
			want = 3
		}
		if len(run.recs) != want {
			t.Errorf("keep=%v: %d records held, want %d", keep, len(run.recs), want)
		}
	}
	if !(&reporter{path: "r.XLSX"}).needsRecords() || (&reporter{path: "r.html"}).needsRecords() || (&reporter{}).needsRecords() {
		t.Error("only an xlsx report needs the records")
	}
}
