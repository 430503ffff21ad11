package main

import (
	"path/filepath"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/report"
)

// A resumed apply counts each operation once: what the interrupted part
// of the run did is done (as the create or update it was), never also
// unchanged; a noop nothing touched is unchanged. D + F + S + U is the
// number of operations (issue 24: a resumed apply printed "1500 done …
// 809 unchanged" for 1,500 operations).
func TestResumedRunCountsEachOperationOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.journal")
	j, err := engine.OpenJournal(path, "b", false)
	if err != nil {
		t.Fatal(err)
	}
	src := &engine.Source{File: "u.csv", Row: 2}
	earlier := []*engine.Op{
		{ID: "a", Source: src, Target: "voss", Kind: engine.KindUser, Key: "h/jdoe", Action: engine.Create, Status: engine.Done, CreatedID: "pk1"},
		{ID: "b", Source: src, Target: "cupi", Kind: engine.KindCUPIUser, Key: "jdoe", Action: engine.Create, Status: engine.Done, CreatedID: "u1"},
	}
	for _, op := range earlier {
		// The lines a run writes around a write (engine's journalIntent
		// and journalOutcome).
		if err := j.Append(engine.Entry{Type: "intent", Op: op.ID, Kind: op.Kind, Key: op.Key, Action: op.Action}, true); err != nil {
			t.Fatal(err)
		}
		if err := j.Append(engine.Entry{Type: "outcome", Op: op.ID, Kind: op.Kind, Key: op.Key, Action: op.Action, Status: engine.Done, ID: op.CreatedID}, true); err != nil {
			t.Fatal(err)
		}
	}
	_ = j.Close(false) // killed: not complete
	j, err = engine.OpenJournal(path, "b", false)
	if err != nil || !j.Resumed {
		t.Fatalf("resume: %v", err)
	}
	defer j.Close(true)
	// The fresh plan sees the earlier work as unchanged; one more noop
	// nothing touched, and one update this run does.
	p := &engine.Plan{Ops: []*engine.Op{
		{ID: "a", Source: src, Target: "voss", Kind: engine.KindUser, Key: "h/jdoe", Action: engine.Noop, Status: engine.Planned},
		{ID: "b", Source: src, Target: "cupi", Kind: engine.KindCUPIUser, Key: "jdoe", Action: engine.Noop, Status: engine.Planned},
		{ID: "c", Source: src, Target: "cupi", Kind: engine.KindUserRole, Key: "jdoe", Action: engine.Noop, Status: engine.Planned},
		{ID: "d", Source: src, Target: "cupi", Kind: engine.KindPIN, Key: "jdoe", Action: engine.Update, Status: engine.Done},
	}}
	markEarlierWork(p, j)
	acct := report.Tally(p.Ops)
	if acct.ByStatus.Done != 3 || acct.Unchanged != 1 || acct.ByAction.Create != 2 || acct.ByAction.Noop != 1 {
		t.Errorf("account %+v: want 3 done (2 creates of the earlier part), 1 unchanged noop", acct)
	}
	doc := report.New("apply", p)
	if got, want := report.SummaryLine(doc), "Apply: 1 row: 1 ok, 0 failed. Operations: 3 done, 0 failed, 0 skipped, 1 unchanged."; got != want {
		t.Errorf("summary line\n got %q\nwant %q", got, want)
	}
	if s := doc.Summary; s.Done+s.Failed+s.Skip+s.Noop != len(p.Ops) {
		t.Errorf("summary %+v does not add up to %d operations", s, len(p.Ops))
	}
}
