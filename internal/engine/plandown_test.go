package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// A Unity Connection cluster found down at plan time (its lists fail as
// unreachable before any write) is said once, as a cluster going down
// mid-run is: its operations are not failed one by one with a copy of the
// list's error, but skipped "not run: Unity Connection bbb unreachable",
// so its rows are not run (issue 24). The other cluster's rows and every
// row's VOSS part are planned as usual, and the cluster is still recorded
// down (exit 3), whether the plan is made whole or while it is applied.
func TestClusterDownAtPlanTimeIsNotRun(t *testing.T) {
	for _, overlap := range []bool{false, true} {
		r := startSim(t)
		tg := newTargets(t, r.URL)
		hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 4})
		tg.AddCluster(&engine.Cluster{Name: "bbb", URL: "http://127.0.0.1:1",
			CUPI: cupi.New("http://127.0.0.1:1", hc, targets.Credentials{User: "u", Password: "p"}), Limiter: engine.NewLimiter("cupi[bbb]", 5)})
		rows := userRows(6, false)
		for i := 3; i < len(rows); i++ { // rows 3-5 live on cluster bbb
			for wi := range rows[i].Wants {
				if rows[i].Wants[wi].Target == "cupi" {
					rows[i].Wants[wi].Cluster = "bbb"
				}
			}
		}
		o := engine.Options{RunState: engine.NewMemoryRunState(), ReleaseRows: overlap,
			Retry: engine.Retry{Attempts: 2, Base: time.Millisecond, Cap: 2 * time.Millisecond}}
		var p *engine.Plan
		var err error
		if overlap {
			p, err = engine.PlanAndApply(context.Background(), rows, tg, o, engine.ApplyOptions{}, func(*engine.Plan, *engine.Options) error { return nil })
		} else {
			p, err = engine.MakePlan(context.Background(), rows, tg, o)
		}
		if p == nil {
			t.Fatalf("overlap %v: no plan: %v", overlap, err)
		}
		if p.Down["bbb"] == nil {
			t.Errorf("overlap %v: cluster bbb not recorded down: %v", overlap, p.Down)
		}
		want := engine.Planned
		if overlap {
			want = engine.Done
		}
		notRun := map[int]bool{}
		for _, op := range p.Ops {
			switch {
			case op.Cluster == "bbb":
				if op.Status != engine.Skipped || op.Error != "not run: Unity Connection bbb unreachable" {
					t.Errorf("overlap %v: %s %s on the cluster down: %s %q, want skipped, not run", overlap, op.Kind, op.Key, op.Status, op.Error)
				}
				if op.Action == engine.Noop {
					t.Errorf("overlap %v: %s %s not run counted a noop", overlap, op.Kind, op.Key)
				}
				notRun[op.Row] = true
			case op.Status != want:
				t.Errorf("overlap %v: %s %s: %s %s, want %s", overlap, op.Kind, op.Key, op.Status, op.Error, want)
			}
		}
		if len(notRun) != 3 {
			t.Errorf("overlap %v: %d rows with their CUPI part not run, want 3", overlap, len(notRun))
		}
	}
}
