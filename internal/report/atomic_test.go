package report

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A report path planted as a symbolic link is replaced, never written
// through (issue 23 finding 6), and a failed write leaves the old report.
func TestWriteAtomicReplacesLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("someone else's"), 0o600)
	path := filepath.Join(dir, "run.json")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "someone else's" {
		t.Errorf("written through the link: victim now %q", b)
	}
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("report %v %v", st, err)
	}
	failing := func(w io.Writer) error { io.WriteString(w, "half"); return io.ErrShortWrite }
	if err := WriteAtomic(path, failing); err == nil {
		t.Fatal("a failed write succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != "report" {
		t.Errorf("a failed write left %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("temporary files left: %v", ents)
	}
}
