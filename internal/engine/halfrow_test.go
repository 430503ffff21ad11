package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/transform"
)

// A row whose VOSS part fails at plan time (a mistyped hierarchy) gets no
// CUPI user, role or password: its CUPI operations are skipped, naming
// the VOSS failure (spec/inputs.md; issue 24: the CUPI part was created
// and the row left half-provisioned). The other rows are not touched by
// it, whether the plan is made whole (MakePlan) or while it is applied
// (PlanAndApply).
func TestVOSSPlanFailureHoldsBackTheRowsCUPIPart(t *testing.T) {
	for _, overlap := range []bool{false, true} {
		r := startSim(t)
		tg := newTargets(t, r.URL)
		rows := userRows(3, false)
		bad := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: "sys.hcs.CS-P.CS-NB.AAAGlobl",
			Loc:    loader.Location{File: "t.xlsx", Sheet: "s", Row: 99},
			Fields: map[string]any{"username": "typo", "role": "Help Desk Administrator", "password": "Long-Enough-1", "DtmfAccessId": "5999"}}
		rows = append(rows[:1], append([]transform.Row{transform.Map(bad, &transform.Config{}, transform.Options{})}, rows[1:]...)...)
		o := engine.Options{RunState: engine.NewMemoryRunState(), ReleaseRows: overlap}
		var p *engine.Plan
		var err error
		if overlap {
			p, err = engine.PlanAndApply(context.Background(), rows, tg, o, engine.ApplyOptions{}, func(*engine.Plan, *engine.Options) error { return nil })
		} else {
			if p, err = engine.MakePlan(context.Background(), rows, tg, o); err == nil {
				err = engine.Apply(context.Background(), p, tg, o, engine.ApplyOptions{})
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		cupiOps := 0
		for _, op := range p.Ops {
			typo := op.Src().Row == 99
			switch {
			case typo && op.Target == "voss":
				if op.Status != engine.Failed || !strings.Contains(op.Error, "hierarchy") {
					t.Errorf("overlap %v: VOSS part %s %s", overlap, op.Status, op.Error)
				}
			case typo:
				cupiOps++
				if op.Status != engine.Skipped || !strings.Contains(op.Error, "VOSS") || !strings.Contains(op.Error, "hierarchy sys.hcs.CS-P.CS-NB.AAAGlobl") {
					t.Errorf("overlap %v: CUPI part %s %s: %s %q, want skipped naming the VOSS failure", overlap, op.Kind, op.Key, op.Status, op.Error)
				}
			case op.Status != engine.Done:
				t.Errorf("overlap %v: another row's %s %s: %s %s", overlap, op.Kind, op.Key, op.Status, op.Error)
			}
		}
		if cupiOps == 0 {
			t.Errorf("overlap %v: the row has no CUPI operations", overlap)
		}
		for k, n := range r.Writes() {
			if strings.HasPrefix(k, "cupi") && strings.Contains(k, "typo") {
				t.Errorf("overlap %v: Unity Connection was written for the row whose VOSS part failed: %s ×%d", overlap, k, n)
			}
		}
	}
}
