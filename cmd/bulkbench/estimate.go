package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/estimate"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/transform"
)

// benchEstimate compares plan's estimate of an apply with the apply, over
// budget cells: VOSS at 20 req/s × CUPI 5 slots at 10, 40 and 200 ms ×
// the budget workloads. Each cell plans as `bulkprov plan` does (for
// review, fresh limiters: the estimate reads the plan's own latency), then
// runs plan + apply as `bulkprov apply` does on fresh targets and times it.
func benchEstimate(dir string) {
	n := users(200)
	withCUPI := writeCSV(dir, "estimate-users.csv", "\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,role,password,DtmfAccessId", n,
		func(i int) string {
			return fmt.Sprintf("add,est%05d,Help Desk Administrator,Estimate-Pass-%05d,8%05d", i, i, i)
		})
	cupiOnly := writeCSV(dir, "estimate-cupi.csv", "\"entity: cupi/User\"\nAlias,DtmfAccessId,FirstName,Roles,Pin", n,
		func(i int) string {
			return fmt.Sprintf("evm%05d,7%05d,User,Help Desk Administrator,%06d", i, i, 246800+i)
		})
	userRows, cupiRows := rowsOf(withCUPI), rowsOf(cupiOnly)
	const vossRate = 20.0
	fmt.Printf("\n## estimate against the apply, %d users per cell, VOSS %.0f req/s, CUPI 5 slots\n\n", n, vossRate)
	fmt.Printf("| CUPI service | workload | estimate | bound by | plan + apply | estimate ÷ actual |\n|---|---|---|---|---|---|\n")
	var worst float64
	services := []time.Duration{10 * time.Millisecond, 40 * time.Millisecond, 200 * time.Millisecond}
	if v := os.Getenv("BULKBENCH_SERVICE"); v != "" {
		d, err := time.ParseDuration(v)
		must(err)
		services = []time.Duration{d}
	}
	for _, service := range services {
		cell := func(name string, rows []transform.Row, rs *engine.RunState, url string, nowait bool) {
			ctx := context.Background()
			pt := budgetTargets(url, vossRate, nowait, false)
			p, err := engine.MakePlan(ctx, append([]transform.Row(nil), rows...), pt, engine.Options{RunState: rs, ForReview: true})
			must(err)
			fc := estimate.Make(p, pt, estimate.Options{VOSSRate: vossRate, VOSSNowait: nowait})
			at := budgetTargets(url, vossRate, nowait, false)
			s := time.Now()
			run := &engine.Run{Targets: at, Options: engine.Options{RunState: rs}} // as bulkprov apply runs it
			ap, err := run.Execute(ctx, append([]transform.Row(nil), rows...), nil)
			must(err)
			must(run.Close())
			wall := time.Since(s)
			if s := ap.Summary(); s.Failed > 0 {
				fmt.Fprintf(os.Stderr, "%s: %d failed\n", name, s.Failed)
			}
			ratio := fc.Duration().Seconds() / wall.Seconds()
			cs := pt.CUPILimiter.Stats()
			busy := 0
			for _, tk := range cs.Timeline {
				if tk.Requests > 0 {
					busy++
				}
			}
			fmt.Fprintf(os.Stderr, "%v %s: %s (plan's CUPI reads %d, %d busy ticks, p50 %v)\n", service, name, fc.Line(), cs.Requests, busy, cs.Percentile(50))
			worst = math.Max(worst, math.Abs(ratio-1))
			bound := "—"
			if fc.Bound != nil {
				bound = fc.Bound.Name
			}
			fmt.Printf("| %v | %s | %v | %s | %v | **%.2f** |\n", service, name, fc.Duration().Round(100*time.Millisecond), bound, wall.Round(100*time.Millisecond), ratio)
		}
		// data/User with the CUPI users there already.
		r := budgetSim(service, vossRate)
		_, c := client(r.URL)
		parallel(n, 5, func(i int) {
			_, err := c.CreateUser(context.Background(), "voicemailusertemplate", cupi.Object{"Alias": fmt.Sprintf("est%05d", i), "DtmfAccessId": fmt.Sprintf("8%05d", i)})
			must(err)
		})
		cell("data/User, CUPI users exist", userRows, engine.NewMemoryRunState(), r.URL, false)
		cell("cupi/User only (create)", cupiRows, engine.NewMemoryRunState(), r.URL, false)
		r.Close()
		r = budgetSim(service, vossRate)
		cell("data/User, creating CUPI users", userRows, engine.NewMemoryRunState(), r.URL, false)
		r.Close()
		if service == 40*time.Millisecond {
			r = budgetSim(service, vossRate)
			cell("data/User, creating CUPI users, --voss-nowait", userRows, engine.NewMemoryRunState(), r.URL, true)
			r.Close()
		}
	}
	fmt.Printf("\nWorst cell: %.0f %% off.\n", 100*worst)
}
