package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"

	"github.com/bulkprov/bulkprov/engine"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	cupisim "github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/targets/simserve"
	vosssim "github.com/bulkprov/bulkprov/targets/voss/sim"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
	"github.com/bulkprov/bulkprov/transform"
)

// benchBudget measures plan + apply against both servers' budgets, side
// by side in one run: {VOSS unlimited, VOSS 20 req/s} × {CUPI 5 slots at
// 10, 40, 200 ms} × four workloads, each cell as the share of its floor:
// max(VOSS floor ÷ VOSS rate, CUPI floor × service time ÷ 5), where a
// floor counts one request per write plus the plan's state reads. Extra
// requests bulkprov sends (polls, TimeChanged reads before a set,
// verifications) do not raise the floor: they cost the share.
func benchBudget(dir string) {
	n := 200
	if v := os.Getenv("BULKBENCH_USERS"); v != "" {
		fmt.Sscan(v, &n)
	}
	withCUPI := filepath.Join(dir, "budget-users.csv")
	f, _ := os.Create(withCUPI)
	fmt.Fprintln(f, "\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,role,password,DtmfAccessId")
	for i := 0; i < n; i++ {
		fmt.Fprintf(f, "add,bud%05d,Help Desk Administrator,Budget-Pass-%05d,8%05d\n", i, i, i)
	}
	f.Close()
	cupiOnly := filepath.Join(dir, "budget-cupi.csv")
	f, _ = os.Create(cupiOnly)
	fmt.Fprintln(f, "\"entity: cupi/User\"\nAlias,DtmfAccessId,FirstName,Roles,Pin")
	for i := 0; i < n; i++ {
		fmt.Fprintf(f, "vmb%05d,7%05d,User,Help Desk Administrator,%06d\n", i, i, 246800+i)
	}
	f.Close()
	userRows, cupiRows := rowsOf(withCUPI), rowsOf(cupiOnly)

	fmt.Printf("\n## throughput under both budgets, %d users per cell, plan + apply, default flags\n\n", n)
	fmt.Printf("| VOSS | CUPI service | workload | VOSS req (floor) | CUPI req (floor) | 429/503 | plan | plan + apply | floor | share of floor |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, vossRate := range []float64{0, 20} {
		for _, service := range []time.Duration{10 * time.Millisecond, 40 * time.Millisecond, 200 * time.Millisecond} {
			r := budgetSim(service, vossRate)
			// data/User with existing CUPI users: the CUPI users are there
			// (created directly), the VOSS users and the rest are not.
			_, c := client(r.URL)
			parallel(n, 5, func(i int) {
				_, err := c.CreateUser(context.Background(), "voicemailusertemplate", cupi.Object{"Alias": fmt.Sprintf("bud%05d", i), "DtmfAccessId": fmt.Sprintf("8%05d", i)})
				must(err)
			})
			vossName := "unlimited"
			if vossRate > 0 {
				vossName = fmt.Sprintf("%.0f req/s", vossRate)
			}
			rs := engine.NewMemoryRunState() // what a nightly run remembers between runs
			cell := func(name string, rows []transform.Row, nowait bool) {
				t := budgetTargets(r.URL, vossRate, nowait)
				o := engine.Options{RunState: rs}
				s := time.Now()
				p, err := engine.MakePlan(context.Background(), rows, t, o)
				must(err)
				planned := time.Since(s)
				floorV, floorC := p.Reads["voss"], p.Reads["cupi"]
				created := map[int]bool{}
				for _, op := range p.Ops {
					if op.Kind == transform.KindCUPIUser && op.Action == engine.Create {
						created[op.Row] = true
					}
				}
				for _, op := range p.Ops {
					if op.Status != engine.Planned || !op.Writes() {
						continue
					}
					if op.Target == "voss" {
						floorV++
						continue
					}
					floorC++
					// A set's proof: TimeChanged read before it, at plan time
					// for an existing user, at apply time for a new one.
					if (op.Kind == transform.KindPassword || op.Kind == transform.KindPIN) && created[op.Row] {
						floorC++
					}
				}
				must(engine.Apply(context.Background(), p, t, o, engine.ApplyOptions{}))
				wall := time.Since(s)
				floor := time.Duration(float64(floorC) * float64(service) / 5)
				if vossRate > 0 {
					floor = max(floor, time.Duration(float64(floorV)/vossRate*float64(time.Second)))
				}
				vs, cs := t.VOSSLimiter.Stats(), t.CUPILimiter.Stats()
				if s := p.Summary(); s.Failed > 0 {
					fmt.Fprintf(os.Stderr, "%s: %d failed\n", name, s.Failed)
				}
				fmt.Printf("| %s | %v | %s | %d (%d) | %d (%d) | %d | %v | %v | %v | **%.2f** |\n", vossName, service, name,
					vs.Requests, floorV, cs.Requests, floorC, vs.Status429+vs.Status503+cs.Status429+cs.Status503,
					planned.Round(10*time.Millisecond), wall.Round(10*time.Millisecond), floor.Round(10*time.Millisecond), floor.Seconds()/wall.Seconds())
			}
			cell("data/User, CUPI users exist", userRows, false)
			cell("cupi/User only (create)", cupiRows, false)
			cell("re-run, nothing to do", userRows, false)
			r.Close()
			// data/User creating the CUPI users, on a fresh server.
			r = budgetSim(service, vossRate)
			rs = engine.NewMemoryRunState()
			cell("data/User, creating CUPI users", userRows, false)
			if vossRate > 0 && service == 40*time.Millisecond {
				r.Close()
				r = budgetSim(service, vossRate)
				rs = engine.NewMemoryRunState()
				cell("data/User, creating CUPI users, --voss-nowait", userRows, true)
			}
			r.Close()
		}
	}
}

// budgetSim starts the simulators of one cell: CUPI at 5 slots and
// service, VOSS throttled at vossRate (0: off).
func budgetSim(service time.Duration, vossRate float64) *simserve.Running {
	r, err := simserve.Start(simserve.Options{User: "admin", Password: "admin",
		CUPI: cupisim.Options{Slots: 5, ServiceTime: service, QueueTimeout: 20 * time.Second},
		VOSS: vosssim.Options{RateLimit: vossRate}})
	must(err)
	return r
}

// budgetTargets are targets as the CLI builds them: default caps, and the
// VOSS transport paced at rate (0: unpaced).
func budgetTargets(url string, vossRate float64, nowait bool) *engine.Targets {
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 64})
	vhc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 64})
	if vossRate > 0 {
		vhc.Transport = targets.Paced(vhc.Transport, rate.NewLimiter(rate.Limit(vossRate), 1))
	}
	cr := targets.Credentials{User: "admin", Password: "admin"}
	v, c := vossload.New(url, vhc, cr), cupi.New(url, hc, cr)
	t := &engine.Targets{VOSS: v, CUPI: c,
		VOSSLimiter: engine.NewLimiter("voss", engine.DefaultVOSSWorkers), CUPILimiter: engine.NewLimiter("cupi", engine.DefaultCUPIWorkers), ID: "bench"}
	v.Observe, c.Observe = t.VOSSLimiter.Observe, t.CUPILimiter.Observe
	v.Nowait = nowait
	return t
}
