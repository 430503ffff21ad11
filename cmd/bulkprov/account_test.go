package main

import (
	"time"

	"golang.org/x/time/rate"

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

// The limit line names a budget only when the run was long enough to
// say, and never a rate above the budget it names (issue 24: "limit: the
// VOSS rate budget (87.3 of 20 req/s)" on a run of one request).
func TestLimitLineOnlyWhenLongEnough(t *testing.T) {
	tg := &engine.Targets{VOSSPace: rate.NewLimiter(20, 1)}
	cases := []struct {
		name    string
		m       report.TargetMetrics
		elapsed time.Duration
		want    string
	}{
		{"one request", report.TargetMetrics{Target: "voss", Requests: 1, PerSecond: 87.3}, 11 * time.Millisecond, ""},
		{"a second's worth", report.TargetMetrics{Target: "voss", Requests: 20, PerSecond: 19}, time.Second + 50*time.Millisecond, ""},
		{"a minute at the budget", report.TargetMetrics{Target: "voss", Requests: 1190, PerSecond: 19.8}, 60 * time.Second, "the VOSS rate budget (19.8 of 20 req/s)"},
		{"a burst over the budget", report.TargetMetrics{Target: "voss", Requests: 130, PerSecond: 21.7}, 6 * time.Second, "the VOSS rate budget (20.0 of 20 req/s)"},
		{"well under the budget", report.TargetMetrics{Target: "voss", Requests: 300, PerSecond: 5}, 60 * time.Second, ""},
		{"CUPI busy, a few requests", report.TargetMetrics{Target: "cupi", Requests: 3, P50Ms: 900}, 500 * time.Millisecond, ""},
		{"CUPI busy, a long run", report.TargetMetrics{Target: "cupi", Requests: 3000, P50Ms: 20}, 12 * time.Second, "the CUPI slots (5 busy 100% of the run)"},
	}
	for _, tc := range cases {
		if got := boundBy([]report.TargetMetrics{tc.m}, tg, tc.elapsed); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
