package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJournalResumeTornLineAndBinding(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run.journal")
	j, err := OpenJournal(p, "bind-1", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Entry{
		{Type: "intent", Op: "a", Kind: "k", Key: "ka"},
		{Type: "outcome", Op: "a", Kind: "k", Key: "ka", Status: Done, Hashes: map[string]string{"scope": "hash"}},
		{Type: "intent", Op: "b", Kind: "k", Key: "kb"},
		{Type: "tx", Op: "b", Tx: "tx-1"},
		{Type: "intent", Op: "c"},
		{Type: "outcome", Op: "c", Status: Failed},
	} {
		_ = j.Append(e, e.Type != "outcome")
	}
	if _, err := OpenJournal(p, "bind-1", false); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if err := j.Close(false); err != nil {
		t.Fatal(err)
	}
	// A crash mid-write leaves a torn last line.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"type":"outcome","op":"b","sta`)
	f.Close()
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	if _, err := OpenJournal(p, "bind-2", false); !errors.As(err, new(*BindingError)) {
		t.Fatalf("other inputs: %v, want BindingError", err)
	}
	j, err = OpenJournal(p, "bind-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if !j.Resumed || len(j.Done) != 1 || j.Done["a"].Status != Done || j.Pending["b"].Tx != "tx-1" || len(j.Pending) != 1 {
		t.Fatalf("resumed: done %v pending %v", j.Done, j.Pending)
	}
	_ = j.Close(true)
	// A completed journal starts a new run.
	j, err = OpenJournal(p, "bind-1", false)
	if err != nil || j.Resumed || len(j.Done) != 0 {
		t.Fatalf("after complete: %v %v", err, j.Done)
	}
	_ = j.Close(false)
	b2, _ := os.ReadFile(p)
	if strings.Count(string(b2), "\n") != 1 {
		t.Fatalf("new run should hold only its header:\n%s", b2)
	}
}

func FuzzJournal(f *testing.F) {
	f.Add([]byte(`{"type":"run","binding":"x"}` + "\n" + `{"type":"intent","op":"a"}` + "\n" + `{"type":"outc`))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ReadEntries(bytes.NewReader(data))
		if err == nil {
			for _, e := range entries {
				if e.Type == "" {
					t.Fatal("entry without type accepted")
				}
			}
		}
	})
}
