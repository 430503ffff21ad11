package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
)

// Issue 23 finding 6: a back-out file killed at its first write (0 bytes,
// or the header cut short) blocked every resume for good. The header is
// written again; what follows is appended as usual, and the file reads.
func TestBackoutHeaderRebuilt(t *testing.T) {
	h := BackoutHeader{Command: "apply", Targets: BackoutTargets{VOSS: "https://voss.example"}, Journal: "j.journal"}
	for _, c := range []struct{ name, content string }{
		{"empty", ""},
		{"torn header", `{"type":"backout","version":1,"comm`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.backout.json")
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := AppendBackout(path, h)
			if err != nil {
				t.Fatalf("resume blocked: %v", err)
			}
			if err := b.Write(BackoutEntry{Type: "write", Op: "1", Kind: "cupi/user", Target: "cupi", Key: "a", Alias: "a", Action: plan.Create}); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			bf, err := ReadBackout(path)
			if err != nil {
				t.Fatal(err)
			}
			if bf.Header.Targets.VOSS != h.Targets.VOSS || bf.Header.Journal != "j.journal" || len(bf.Entries) != 1 {
				t.Errorf("rebuilt file: header %+v, %d entries", bf.Header, len(bf.Entries))
			}
		})
	}
}

// A back-out path holding something else, or a link, is never appended to.
func TestBackoutForeignRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("not ours\n"), 0o600)
	link := filepath.Join(dir, "link.backout.json")
	os.Symlink(victim, link)
	journalHead := filepath.Join(dir, "journal.backout.json")
	os.WriteFile(journalHead, []byte(`{"type":"run","binding":"x"}`+"\n"), 0o600)
	for _, p := range []string{victim, link, journalHead} {
		if _, err := AppendBackout(p, BackoutHeader{}); !errors.Is(err, ErrNotOurs) {
			t.Errorf("%s: %v, want refused", filepath.Base(p), err)
		}
		if err := CheckOwnPath(p, "backout"); !errors.Is(err, ErrNotOurs) {
			t.Errorf("check %s: %v, want refused", filepath.Base(p), err)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "not ours\n" {
		t.Errorf("victim now %q", b)
	}
}

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

// A checkpoint path holding another file, or a link, is refused and left
// as it is; an empty file or a journal cut at its first line is ours.
func TestJournalForeignRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("one line of someone's\n"), 0o600)
	link := filepath.Join(dir, "link.journal")
	os.Symlink(victim, link)
	for _, p := range []string{victim, link} {
		if _, err := OpenJournal(p, "b", true); !errors.Is(err, ErrNotOurs) {
			t.Errorf("%s: %v, want refused", filepath.Base(p), err)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "one line of someone's\n" {
		t.Errorf("victim now %q", b)
	}
	for _, content := range []string{"", `{"type":"ru`} {
		p := filepath.Join(dir, "ours.journal")
		os.WriteFile(p, []byte(content), 0o600)
		j, err := OpenJournal(p, "b", false)
		if err != nil {
			t.Fatalf("%q: %v", content, err)
		}
		j.Close(true)
		os.Remove(p)
	}
}
