package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/transform"
)

// benchFirstContact measures what apply --canary N and apply --verify
// cost (issue 25), side by side with a plain apply in one run: the same
// rows on a fresh server per cell, VOSS unlimited or at its 20 requests/s,
// CUPI at 5 slots and a service time, each cell as the share of the
// plain apply's floor (its writes and the plan's reads). The read-backs
// are not in the floor: they are what the cell costs.
func benchFirstContact(dir string) {
	n := users(100)
	rows := rowsOf(writeCSV(dir, "firstcontact-users.csv", "\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,first_name,email,role,password,DtmfAccessId", n,
		func(i int) string {
			return fmt.Sprintf("add,fc%05d,First,First.User%05d@Example.com,Help Desk Administrator,Budget-Pass-%05d,8%05d", i, i, i, i)
		}))
	fmt.Printf("\n## first contact: --canary and --verify against a plain apply, %d users (data/User creating the CUPI users), fresh server per cell\n\n", n)
	fmt.Printf("| VOSS | CUPI service | apply | VOSS req | CUPI req | read-back req | wall | floor (plain) | share of floor | cost over plain |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, vossRate := range []float64{0, 20} {
		for _, service := range []time.Duration{10 * time.Millisecond, 40 * time.Millisecond} {
			vossName := "unlimited"
			if vossRate > 0 {
				vossName = fmt.Sprintf("%.0f req/s", vossRate)
			}
			var floor, plainWall time.Duration
			var plainReq int
			for _, mode := range []string{"plain", "--canary 3", "--verify"} {
				r := budgetSim(service, vossRate)
				t := budgetTargets(r.URL, vossRate, false, false)
				o := engine.Options{RunState: engine.NewMemoryRunState()}
				in := append([]transform.Row(nil), rows...)
				s := time.Now()
				var p *engine.Plan
				var err error
				switch mode {
				case "--canary 3":
					// As the CLI runs it: the whole plan first.
					p, err = engine.MakePlan(context.Background(), in, t, o)
					must(err)
					err = engine.Apply(context.Background(), p, t, o, engine.ApplyOptions{Canary: 3})
				default:
					p, err = engine.PlanAndApply(context.Background(), in, t, o, engine.ApplyOptions{Verify: mode == "--verify"},
						func(*engine.Plan, *engine.Options) error { return nil })
				}
				must(err)
				wall := time.Since(s)
				r.Close()
				if sm := p.Summary(); sm.Failed > 0 {
					fmt.Fprintf(os.Stderr, "%s: %d failed\n", mode, sm.Failed)
				}
				vs, cs := t.VOSSLimiter.Stats(), t.CUPILimiter.Stats()
				req := vs.Requests + cs.Requests
				if mode == "plain" {
					floorV, floorC := p.Reads["voss"], p.Reads["cupi"]
					for _, op := range p.Ops {
						if !op.Writes() {
							continue
						}
						if op.Target == "voss" {
							floorV++
						} else {
							floorC++
							if op.Kind == transform.KindPassword || op.Kind == transform.KindPIN {
								floorC++ // TimeChanged before the set of a new user's credential
							}
						}
					}
					floor = time.Duration(float64(floorC) * float64(service) / 5)
					if vossRate > 0 {
						floor = max(floor, time.Duration(float64(floorV)/vossRate*float64(time.Second)))
					}
					plainWall, plainReq = wall, req
				}
				fmt.Printf("| %s | %v | %s | %d | %d | %d | %v | %v | **%.2f** | %+.1f %% |\n", vossName, service, mode, vs.Requests, cs.Requests, req-plainReq,
					wall.Round(10*time.Millisecond), floor.Round(10*time.Millisecond), floor.Seconds()/wall.Seconds(), 100*(wall.Seconds()/plainWall.Seconds()-1))
			}
		}
	}
}
