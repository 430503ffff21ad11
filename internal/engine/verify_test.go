package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
	csim "github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/targets/simserve"
	vsim "github.com/bulkprov/bulkprov/targets/voss/sim"
	"github.com/bulkprov/bulkprov/transform"
)

func startSimWith(t *testing.T, o simserve.Options) *simserve.Running {
	t.Helper()
	o.User, o.Password = "u", "p"
	r, err := simserve.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func emailRows(n int) []transform.Row {
	var rows []transform.Row
	for i := 0; i < n; i++ {
		rec := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: "sys.hcs.CS-P.CS-NB.AAAGlobal",
			Loc: loader.Location{File: "t.csv", Row: i + 3},
			Fields: map[string]any{"username": fmt.Sprintf("c%03d", i), "first_name": "Carla", "email": fmt.Sprintf("C.User%03d@Example.com", i),
				"role": "Help Desk Administrator", "DtmfAccessId": fmt.Sprintf("6%03d", i)}}
		rows = append(rows, transform.Map(rec, &transform.Config{}, transform.Options{}))
	}
	return rows
}

func statuses(p *engine.Plan) map[string]int {
	m := map[string]int{}
	for _, op := range p.Ops {
		m[op.Kind+" "+op.Status.String()]++
	}
	return m
}

// A journal that recorded the canary's pass is resumed without it: the
// rest of the rows are written even where a canary would stop (the
// server now drops email); one that did not record it runs the canary
// again, which stops before the rest is written.
func TestCanaryNotRepeatedOnResume(t *testing.T) {
	ctx := context.Background()
	for _, passed := range []bool{true, false} {
		t.Run(fmt.Sprint("passed=", passed), func(t *testing.T) {
			r := startSimWith(t, simserve.Options{VOSS: vsimDrop("data/User:email")})
			path := filepath.Join(t.TempDir(), "run.journal")
			j, err := engine.OpenJournal(path, "b", false)
			if err != nil {
				t.Fatal(err)
			}
			if passed {
				if err := j.RecordCanary(); err != nil {
					t.Fatal(err)
				}
			}
			if err := j.Close(false); err != nil { // killed
				t.Fatal(err)
			}
			if j, err = engine.OpenJournal(path, "b", false); err != nil {
				t.Fatal(err)
			}
			defer j.Close(true)
			if j.CanaryPassed() != passed {
				t.Fatalf("CanaryPassed %v after reopening, want %v", j.CanaryPassed(), passed)
			}
			tg := newTargets(t, r.URL)
			o := engine.Options{RunState: engine.NewMemoryRunState()}
			p, err := engine.MakePlan(ctx, emailRows(6), tg, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := engine.Apply(ctx, p, tg, o, engine.ApplyOptions{Journal: j, Canary: 2}); err != nil {
				t.Fatal(err)
			}
			got := statuses(p)
			if passed && (got["data/User done"] != 6 || got["data/User failed"] != 0) {
				t.Errorf("resumed after the canary passed: %v; want all 6 users done, no canary", got)
			}
			if !passed && (got["data/User failed"] != 2 || got["data/User skipped"] != 4) {
				t.Errorf("resumed before the canary passed: %v; want the canary's 2 failed, 4 not attempted", got)
			}
		})
	}
}

// apply --verify against a Unity Connection that keeps first names
// lower-cased: each CUPI user fails naming the normalisation; the VOSS
// users, kept as written, are done.
func TestVerifyCUPILowerCased(t *testing.T) {
	ctx := context.Background()
	r := startSimWith(t, simserve.Options{CUPI: csimLower("user:FirstName")})
	tg := newTargets(t, r.URL)
	o := engine.Options{RunState: engine.NewMemoryRunState()}
	p, err := engine.MakePlan(ctx, emailRows(3), tg, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(ctx, p, tg, o, engine.ApplyOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, op := range p.Ops {
		switch {
		case op.Kind == engine.KindCUPIUser:
			want := `value not kept: cupi cupi/user ` + op.Key + `: FirstName: wanted "Carla", server holds "carla" (kept lower-cased)`
			if op.Status != engine.Failed || op.Error != want {
				t.Errorf("%s: %s %q; want failed %q", op.Key, op.Status, op.Error, want)
			}
			n++
		case op.Status != engine.Done && op.Writes():
			t.Errorf("%s %s: %s %s", op.Kind, op.Key, op.Status, op.Error)
		}
	}
	if n != 3 {
		t.Errorf("%d CUPI users, want 3", n)
	}
	if !strings.Contains(fmt.Sprint(statuses(p)), "data/User done:3") {
		t.Errorf("statuses %v, want the 3 VOSS users done", statuses(p))
	}
}

func vsimDrop(fields ...string) vsim.Options  { return vsim.Options{DropFields: fields} }
func csimLower(fields ...string) csim.Options { return csim.Options{LowerFields: fields} }

// A run killed after its canary passed resumes without it and finishes
// the rest: every user written once, none failed.
func TestCanaryKilledAfterPassResumes(t *testing.T) {
	r := startSimWith(t, simserve.Options{})
	path := filepath.Join(t.TempDir(), "run.journal")
	j, err := engine.OpenJournal(path, "b", false)
	if err != nil {
		t.Fatal(err)
	}
	tg := newTargets(t, r.URL)
	o := engine.Options{RunState: engine.NewMemoryRunState()}
	ctx, kill := context.WithCancel(context.Background())
	defer kill()
	p, err := engine.MakePlan(ctx, emailRows(12), tg, o)
	if err != nil {
		t.Fatal(err)
	}
	// Killed once the canary's 2 rows and 2 more are done.
	ao := engine.ApplyOptions{Journal: j, Canary: 2, Workers: 1, Progress: func(done, _, total int) {
		if done >= 4 {
			kill()
		}
	}}
	if err := engine.Apply(ctx, p, tg, o, ao); err != engine.ErrInterrupted {
		t.Fatalf("first run: %v, want interrupted", err)
	}
	first := statuses(p)
	if first["data/User done"] < 4 || first["data/User done"] == 12 {
		t.Fatalf("first run: %v; want it stopped after the canary and a few rows", first)
	}
	if err := j.Close(false); err != nil {
		t.Fatal(err)
	}
	if j, err = engine.OpenJournal(path, "b", false); err != nil {
		t.Fatal(err)
	}
	defer j.Close(true)
	if !j.CanaryPassed() {
		t.Fatal("the journal does not say the canary passed")
	}
	tg = newTargets(t, r.URL)
	p, err = engine.MakePlan(context.Background(), emailRows(12), tg, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(context.Background(), p, tg, o, engine.ApplyOptions{Journal: j, Canary: 2}); err != nil {
		t.Fatal(err)
	}
	got := statuses(p)
	if got["data/User done"]+first["data/User done"] != 12 || got["data/User failed"] != 0 || got["data/User skipped"] != 0 {
		t.Errorf("resumed: %v after %v; want the other users done, none failed", got, first)
	}
}
