package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The core's checkpoint lines of operations resume as the journal reads
// them: done, pending with its transaction, failed forgotten.
func TestCheckpointLinesResume(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run.journal")
	j, err := OpenJournal(p, "bind-1", false)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := &Op{ID: "a", Kind: "k", Key: "ka"}, &Op{ID: "b", Kind: "k", Key: "kb"}, &Op{ID: "c"}
	_, _ = journalIntent(j, a, nil, nil)
	a.Status = Done
	_ = journalOutcome(j, a, map[string]string{"scope": "hash"})
	_, _ = journalIntent(j, b, nil, nil)
	_ = journalTx(j, b, "tx-1")
	_, _ = journalIntent(j, c, nil, nil)
	c.Status = Failed
	_ = journalOutcome(j, c, nil)
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
