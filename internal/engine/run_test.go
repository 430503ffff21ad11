package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// A Run's life cycle: a run refused before its first write writes nothing
// and leaves no journal it created to resume; a run that went to its end
// (Complete) closes its journal as finished; one stopped short leaves it
// to resume — overlapped (no makePlan) or with the whole plan first.
func TestRunLifeCycle(t *testing.T) {
	refuse := errors.New("refused by BeforeWrites")
	for _, tc := range []struct {
		name       string
		wholePlan  bool
		refuse     bool
		complete   bool
		wantFile   bool // the journal file is there after Close
		wantResume bool // reopened, it resumes
	}{
		{name: "refused, overlapped", refuse: true},
		{name: "refused, whole plan first", wholePlan: true, refuse: true},
		{name: "complete, overlapped", complete: true, wantFile: true},
		{name: "complete, whole plan first", wholePlan: true, complete: true, wantFile: true},
		{name: "stopped short", wantFile: true, wantResume: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startSim(t)
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "run.journal")
			j, err := engine.OpenJournal(path, "b", false)
			if err != nil {
				t.Fatal(err)
			}
			rs := engine.NewMemoryRunState()
			run := &engine.Run{Targets: newTargets(t, r.URL), Options: engine.Options{RunState: rs}, Journal: j, JournalCreated: true, State: rs}
			called := 0
			run.BeforeWrites = func(p *engine.Plan, o *engine.Options) error {
				called++
				if tc.refuse {
					return refuse
				}
				return nil
			}
			if err := run.Open(); err != nil {
				t.Fatal(err)
			}
			if err := run.Settle(ctx); err != nil {
				t.Fatal(err)
			}
			var makePlan func(context.Context, engine.Options) (*engine.Plan, error)
			rows := userRows(3, false)
			if tc.wholePlan {
				all := rows
				makePlan = func(ctx context.Context, o engine.Options) (*engine.Plan, error) {
					return engine.MakePlan(ctx, all, run.Targets, o)
				}
				rows = nil
			}
			p, err := run.Execute(ctx, rows, makePlan)
			if called != 1 {
				t.Errorf("BeforeWrites called %d times, want once", called)
			}
			if tc.refuse {
				if p != nil || !errors.Is(err, refuse) || !run.Refused() {
					t.Fatalf("refused run: plan %v, err %v, Refused %v", p != nil, err, run.Refused())
				}
				if w := r.VOSS.Writes.Total() + r.CUPI.Writes.Total(); w != 0 {
					t.Errorf("a refused run wrote %d times", w)
				}
			} else if p == nil || err != nil {
				t.Fatalf("run: plan %v, err %v", p != nil, err)
			} else if s := p.Summary(); s.Failed != 0 || s.Done == 0 || s.Done != s.Create+s.Update {
				t.Fatalf("run: summary %+v, want every write done", s)
			}
			if tc.complete {
				run.Complete()
			}
			if err := run.Close(); err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Stat(path)
			if gotFile := statErr == nil; gotFile != tc.wantFile {
				t.Fatalf("journal file there after Close: %v, want %v", gotFile, tc.wantFile)
			}
			if !tc.wantFile {
				return
			}
			j2, err := engine.OpenJournal(path, "b", false)
			if err != nil {
				t.Fatal(err)
			}
			defer j2.Close(true)
			if j2.Resumed != tc.wantResume {
				t.Errorf("reopened journal resumes: %v, want %v", j2.Resumed, tc.wantResume)
			}
		})
	}
}
