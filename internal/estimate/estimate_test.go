package estimate

import (
	"math"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// observe records n requests of latency ms on l, as the plan's reads do.
func observe(l *engine.Limiter, n int, ms float64) {
	for i := 0; i < n; i++ {
		l.Observe("GET", 200, ms/1000)
	}
}

func ops(n int, target, cluster, kind string, action engine.Action, status engine.Status, secret bool) []*engine.Op {
	var out []*engine.Op
	for i := 0; i < n; i++ {
		op := &engine.Op{Row: i, Target: target, Cluster: cluster, Kind: kind, Action: action, Status: status}
		if secret {
			op.Changes = []engine.Change{{Field: "Credentials", Secret: true}}
		}
		out = append(out, op)
	}
	return out
}

// fromRow numbers ops' rows from base on.
func fromRow(base int, ops []*engine.Op) []*engine.Op {
	for i, op := range ops {
		op.Row = base + i
	}
	return ops
}

func TestMake(t *testing.T) {
	type want struct {
		seconds float64
		bound   string
		line    []string
	}
	tests := []struct {
		name  string
		setup func(t *engine.Targets) []*engine.Op
		o     Options
		want  want
	}{
		{"VOSS paced at 20 req/s, polls and all: 3 reads + 197 writes", func(t *engine.Targets) []*engine.Op {
			observe(t.VOSSLimiter, 3, 10)
			observe(t.CUPILimiter, 10, 20)
			return append(ops(197, "voss", "", engine.KindUser, engine.Create, engine.Planned, false),
				ops(40, "cupi", "", engine.KindCUPIUser, engine.Update, engine.Planned, false)...)
		}, Options{VOSSRate: 20}, want{10, "voss", []string{"Estimate: apply about 10s, bound by voss (200 requests at 20 req/s; cupi 200ms)"}}},
		{"a nowait write costs a POST, polls and a GET", func(t *engine.Targets) []*engine.Op {
			observe(t.VOSSLimiter, 1, 10)
			return ops(133, "voss", "", engine.KindUser, engine.Update, engine.Planned, false)
		}, Options{VOSSRate: 20, VOSSNowait: true}, want{20, "voss", []string{"400 requests at 20 req/s"}}},
		{"CUPI's 5 slots at the reads' latency; a secret set reads TimeChanged first", func(t *engine.Targets) []*engine.Op {
			t.CUPILimiter = engine.NewLimiter("cupi", 5) // no more in flight than slots: no queueing in the latency
			observe(t.VOSSLimiter, 2, 10)
			observe(t.CUPILimiter, 100, 100)
			return append(append(ops(200, "cupi", "", engine.KindCUPIUser, engine.Create, engine.Planned, false),
				ops(100, "cupi", "", engine.KindPIN, engine.Update, engine.Planned, true)...),
				ops(50, "voss", "", engine.KindUser, engine.Update, engine.Planned, false)...)
		}, Options{VOSSRate: 20}, want{10, "cupi", []string{"bound by cupi (500 requests at", "5 slots", "voss 2.6s"}}},
		{"a secret set of a user that exists: the plan read its TimeChanged already", func(t *engine.Targets) []*engine.Op {
			t.CUPILimiter = engine.NewLimiter("cupi", 5)
			observe(t.CUPILimiter, 100, 100)
			return append(ops(100, "cupi", "", engine.KindCUPIUser, engine.Create, engine.Planned, false),
				fromRow(1000, ops(300, "cupi", "", engine.KindPassword, engine.Update, engine.Planned, true))...)
		}, Options{}, want{10, "cupi", []string{"(500 requests at"}}},
		{"a cluster is its own target; done, failed and noop operations send nothing", func(t *engine.Targets) []*engine.Op {
			east := &engine.Cluster{Name: "east", Limiter: engine.NewLimiter(engine.LimiterName("east"), 5)}
			t.AddCluster(east)
			observe(t.CUPILimiter, 10, 50)
			observe(east.Limiter, 50, 50)
			all := ops(10, "cupi", "", engine.KindCUPIUser, engine.Create, engine.Planned, false)
			all = append(all, ops(150, "cupi", "east", engine.KindCUPIUser, engine.Create, engine.Planned, false)...)
			all = append(all, ops(500, "cupi", "east", engine.KindCUPIUser, engine.Create, engine.Done, false)...)
			all = append(all, ops(500, "cupi", "east", engine.KindUserRole, engine.Noop, engine.Planned, false)...)
			failed := ops(500, "cupi", "east", engine.KindUserRole, engine.Create, engine.Planned, false)
			for _, op := range failed {
				op.Error = "no such role"
			}
			return append(all, failed...)
		}, Options{}, want{2, "cupi[east]", []string{"bound by cupi[east] (200 requests", "cupi 200ms"}}},
		{"reads queued behind the 5 slots (7 in flight): their latency is at most 7/5 of a slot's time", func(t *engine.Targets) []*engine.Op {
			// 140 ms each, all answered within one 250 ms tick: faster
			// than 5 slots allow, so the bound 140 × 5/7 = 100 ms holds.
			observe(t.CUPILimiter, 100, 140)
			return ops(400, "cupi", "", engine.KindCUPIUser, engine.Update, engine.Planned, false)
		}, Options{}, want{10, "cupi", []string{"500 requests at 100"}}},
		{"nothing to send", func(t *engine.Targets) []*engine.Op { return nil }, Options{VOSSRate: 20},
			want{0, "", []string{"Estimate: apply about 0s, bound by nothing"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := &engine.Targets{VOSSLimiter: engine.NewLimiter("voss", engine.DefaultVOSSWorkers), CUPILimiter: engine.NewLimiter("cupi", engine.DefaultCUPIWorkers)}
			p := &engine.Plan{Ops: tc.setup(tg)}
			f := Make(p, tg, tc.o)
			r := f.Report()
			// Latencies are read from a histogram of 2 % buckets.
			if math.Abs(r.Seconds-tc.want.seconds) > 0.03*tc.want.seconds+0.05 || r.BoundBy != tc.want.bound {
				t.Errorf("estimate %.2fs bound by %q, want %.2fs by %q (%s)", r.Seconds, r.BoundBy, tc.want.seconds, tc.want.bound, f.Line())
			}
			for _, w := range tc.want.line {
				if !strings.Contains(f.Line(), w) {
					t.Errorf("line %q lacks %q", f.Line(), w)
				}
			}
		})
	}
}
