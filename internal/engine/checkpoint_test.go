package engine

import (
	"path/filepath"
	"testing"
)

// The core's checkpoint lines of operations resume as the journal reads
// them: done, pending with its transaction, failed forgotten. (What the
// journal does with a torn line, another binding, a second opener or a
// completed run is store's TestJournalResumeTornLineAndBinding.)
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
	if err := j.Close(false); err != nil {
		t.Fatal(err)
	}
	j, err = OpenJournal(p, "bind-1", false)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close(false)
	if !j.Resumed || len(j.Done) != 1 || j.Done["a"].Status != Done || j.Pending["b"].Tx != "tx-1" || len(j.Pending) != 1 {
		t.Fatalf("resumed: done %v pending %v", j.Done, j.Pending)
	}
}
