package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Issue 24: checkpoints and back-out files were never pruned. --keep N
// keeps those of the N most recent completed runs; an unfinished run's
// journal and back-out file, and files not bulkprov's, are never removed.
func TestPruneCheckpoints(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	write := func(name, content string, age int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		at := old.Add(time.Duration(age) * time.Minute)
		os.Chtimes(p, at, at)
		return p
	}
	run := `{"type":"run","binding":"b"}` + "\n"
	header := `{"type":"backout","version":1}` + "\n"
	for i := range 5 {
		write(fmt.Sprintf("done%d.journal", i), run+`{"type":"complete","t":"2026-01-01T00:00:00Z"}`+"\n", i)
		write(fmt.Sprintf("done%d-T.backout.json", i), header, i)
	}
	held := write("held-T.backout.json", header, -10) // the oldest
	write("held.journal", run+fmt.Sprintf(`{"type":"backout","backout":%q}`+"\n", held), -10)
	write("foreign.backout.json", "mine\n", -20)
	write("foreign.journal", "mine\n", -20)
	os.Symlink(filepath.Join(dir, "done0.journal"), filepath.Join(dir, "link.journal"))

	removed, err := PruneCheckpoints(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := []string{"done3-T.backout.json", "done3.journal", "done4-T.backout.json", "done4.journal",
		"foreign.backout.json", "foreign.journal", "held-T.backout.json", "held.journal", "link.journal"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v\nwant %v", left, want)
	}
	if len(removed) != 6 {
		t.Errorf("removed %v", removed)
	}
	if r, _ := PruneCheckpoints(dir, 0); len(r) != 0 {
		t.Errorf("--keep 0 removed %v", r)
	}
}
