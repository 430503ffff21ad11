package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 23 finding 6: a 400 MB one-line journal was taken for a torn line
// and silently reset. A line above the bound is an error; the file is
// left as it is. (The bound is lowered for the test.)
func TestJournalHugeLineIsAnError(t *testing.T) {
	defer func(n int) { maxLine = n }(maxLine)
	maxLine = 4 << 10
	path := filepath.Join(t.TempDir(), "run.journal")
	huge := `{"type":"run","binding":"b","error":"` + strings.Repeat("x", 3*maxLine)
	if err := os.WriteFile(path, []byte(huge), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenJournal(path, "b", false)
	if err == nil || !strings.Contains(err.Error(), "longer than") || !strings.Contains(err.Error(), "--fresh") {
		t.Fatalf("open: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != huge {
		t.Error("the journal was changed")
	}
	// Also after good lines.
	good := `{"type":"run","binding":"b"}` + "\n"
	os.WriteFile(path, []byte(good+strings.Repeat("y", 2*maxLine)), 0o600)
	if _, err := OpenJournal(path, "b", false); err == nil {
		t.Fatal("a huge last line was cut as torn")
	}
	// --fresh starts over on a damaged journal of ours.
	j, err := OpenJournal(path, "b", true)
	if err != nil {
		t.Fatal(err)
	}
	j.Close(true)
}
