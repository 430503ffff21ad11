package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/engine/dial"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	cupisim "github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/targets/simserve"
	vosssim "github.com/bulkprov/bulkprov/targets/voss/sim"
	"github.com/bulkprov/bulkprov/transform"
)

// benchBudget measures plan + apply against both servers' budgets, side
// by side in one run: {VOSS unlimited, VOSS 20 req/s} × {CUPI 5 slots at
// 10, 40, 200 ms} × four workloads, each cell as the share of its floor:
// max(VOSS floor ÷ VOSS rate, CUPI floor × service time ÷ 5), where a
// floor counts one request per write plus the plan's state reads. Extra
// requests bulkprov sends (polls, TimeChanged reads before a set,
// verifications) do not raise the floor: they cost the share.
//
// BULKBENCH_CUPI_SHARE=F runs bulkprov as --cupi-share F does (at most
// ⌈5 × F⌉ CUPI requests in service), and the CUPI floor is then the
// requests × service time ÷ ⌈5 × F⌉.
func benchBudget(dir string) {
	if v := os.Getenv("BULKBENCH_CUPI_SHARE"); v != "" {
		fmt.Sscan(v, &cupiShare)
	}
	n := users(200)
	// A real tenant's row (issue 28): names, email, password, role,
	// language, locked, credential policy, extension and PIN.
	withCUPI := writeCSV(dir, "budget-users.csv", "\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,first_name,last_name,email,password,role,language,account_information.locked,account_information.credential_policy,DtmfAccessId,pin", n,
		func(i int) string {
			return fmt.Sprintf("add,bud%05d,First%d,Last %d,bud%05d@tenant.example.com,Budget-Pass-%05d!,Help Desk Administrator,en-us,%v,Default Credential Policy,8%05d,%06d",
				i, i%97, i, i, i, i%5 == 0, i, (135790+i*7)%1000000)
		})
	cupiOnly := writeCSV(dir, "budget-cupi.csv", "\"entity: cupi/User\"\nAlias,DtmfAccessId,FirstName,Roles,Pin", n,
		func(i int) string {
			return fmt.Sprintf("vmb%05d,7%05d,User,Help Desk Administrator,%06d", i, i, 246800+i)
		})
	userRows, cupiRows := rowsOf(withCUPI), rowsOf(cupiOnly)

	seqN := max(1, n/4)
	if v := os.Getenv("BULKBENCH_SEQ_USERS"); v != "" {
		fmt.Sscan(v, &seqN)
	}
	fmt.Printf("\n## throughput under both budgets, %d users per cell, plan + apply as `bulkprov apply` runs them (default flags)\n\n", n)
	fmt.Printf("The sequential client sends the same requests one at a time (one slot shared by both targets, VOSS paced alike), measured on %d users and scaled to %d (its time is linear in the users).\n\n", seqN, n)
	fmt.Printf("| VOSS | CUPI service | workload | VOSS req (floor) | CUPI req (floor) | 429/503 | first write | plan + apply | floor | share of floor | sequential client | speed-up |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	ceilings := map[time.Duration]float64{}
	for _, vossRate := range []float64{0, 20} {
		for _, service := range []time.Duration{10 * time.Millisecond, 40 * time.Millisecond, 200 * time.Millisecond} {
			workloads := func(n int, sequential bool) map[string]budgetResult {
				return budgetWorkloads(budgetCellSpec{vossRate: vossRate, service: service, sequential: sequential}, n, userRows, cupiRows)
			}
			if ceilings[service] == 0 {
				ceilings[service] = simCeiling(service)
			}
			ours, seq := workloads(n, false), workloads(seqN, true)
			for _, name := range []string{"data/User, CUPI users exist", "cupi/User only (create)", "re-run, nothing to do", "data/User, creating CUPI users", "data/User, creating CUPI users, --voss-nowait"} {
				res, ok := ours[name]
				if !ok {
					continue
				}
				seqWall := time.Duration(float64(seq[name].wall) * float64(n) / float64(seqN))
				fmt.Printf("%s %v | %.1f× |\n", res.line, seqWall.Round(100*time.Millisecond), seqWall.Seconds()/res.wall.Seconds())
			}
		}
	}
	fmt.Printf("\nThe simulator's own ceiling (10 raw clients sending GETs back to back, no bulkprov): ")
	for _, service := range []time.Duration{10 * time.Millisecond, 40 * time.Millisecond, 200 * time.Millisecond} {
		fmt.Printf("%v **%.2f**, ", service, ceilings[service])
	}
	fmt.Printf("of 5 requests per service time.\n")
}

// budgetResult is one cell's table line (without the sequential client's
// columns) and its wall time.
type budgetResult struct {
	line string
	wall time.Duration
}

// budgetCellSpec is what the cells of a run share: VOSS's rate, CUPI's
// service time, and whether the sequential client runs them.
type budgetCellSpec struct {
	vossRate   float64
	service    time.Duration
	sequential bool
}

// budgetWorkloads runs the four workloads (five at 20 req/s × 40 ms) with
// n users, by bulkprov or by the sequential client.
func budgetWorkloads(spec budgetCellSpec, n int, userRows, cupiRows []transform.Row) map[string]budgetResult {
	out := map[string]budgetResult{}
	var r *simserve.Running
	var rs *engine.RunState
	cell := func(name string, rows []transform.Row, nowait bool) {
		out[name] = budgetCell(spec, r.URL, rs, name, rows[:n], nowait)
	}
	service, vossRate := spec.service, spec.vossRate
	r = budgetSim(service, vossRate)
	// data/User with existing CUPI users: the CUPI users are there
	// (created directly), the VOSS users and the rest are not.
	_, c := client(r.URL)
	parallel(n, 5, func(i int) {
		_, err := c.CreateUser(context.Background(), "voicemailusertemplate", cupi.Object{"Alias": fmt.Sprintf("bud%05d", i), "DtmfAccessId": fmt.Sprintf("8%05d", i)})
		must(err)
	})
	rs = engine.NewMemoryRunState() // what a nightly run remembers between runs
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
	return out
}

// budgetCell runs plan + apply of rows against the simulators at url, as
// bulkprov apply does (an engine.Run, overlapped), and measures it against
// its floor.
func budgetCell(spec budgetCellSpec, url string, rs *engine.RunState, name string, rows []transform.Row, nowait bool) budgetResult {
	service, vossRate := spec.service, spec.vossRate
	vossName := "unlimited"
	if vossRate > 0 {
		vossName = fmt.Sprintf("%.0f req/s", vossRate)
	}
	rows = append([]transform.Row(nil), rows...) // a run spends its rows
	t := budgetTargets(url, vossRate, nowait, spec.sequential)
	o := engine.Options{RunState: rs}
	s := time.Now()
	var firstWrite time.Duration
	run := &engine.Run{Targets: t, Options: o, BeforeWrites: func(*engine.Plan, *engine.Options) error {
		firstWrite = time.Since(s)
		return nil
	}}
	p, err := run.Execute(context.Background(), rows, nil)
	must(err)
	must(run.Close())
	wall := time.Since(s)
	floorV, floorC := budgetFloors(p)
	floor := time.Duration(float64(floorC) * float64(service) / float64(engine.CUPIShareSlots(cupiShare)))
	if vossRate > 0 {
		floor = max(floor, time.Duration(float64(floorV)/vossRate*float64(time.Second)))
	}
	vs, cs := t.VOSSLimiter.Stats(), t.CUPILimiter.Stats()
	if s := p.Summary(); s.Failed > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d failed\n", name, s.Failed)
	}
	first := "—"
	if firstWrite > 0 && p.Summary().Done > 0 {
		first = firstWrite.Round(10 * time.Millisecond).String()
	}
	return budgetResult{wall: wall, line: fmt.Sprintf("| %s | %v | %s | %d (%d) | %d (%d) | %d | %s | %v | %v | **%.2f** |", vossName, service, name,
		vs.Requests, floorV, cs.Requests, floorC, vs.Status429+vs.Status503+cs.Status429+cs.Status503,
		first, wall.Round(10*time.Millisecond), floor.Round(10*time.Millisecond), floor.Seconds()/wall.Seconds())}
}

// budgetFloors counts the requests a plan needs at least, per target: its
// state reads and one request per write, plus a set's TimeChanged read for
// a user the run creates.
func budgetFloors(p *engine.Plan) (floorV, floorC int) {
	floorV, floorC = p.Reads["voss"], p.Reads["cupi"]
	created := map[int]bool{}
	for _, op := range p.Ops {
		if op.Kind == transform.KindCUPIUser && op.Action == engine.Create {
			created[op.Row] = true
		}
	}
	for _, op := range p.Ops {
		if !op.Writes() {
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
	return floorV, floorC
}

// simCeiling measures the share of 5 requests per service time the CUPI
// simulator itself delivers to 10 clients sending GETs back to back: the
// most any client can reach at that service time on this machine.
func simCeiling(service time.Duration) float64 {
	r := budgetSim(service, 0)
	defer r.Close()
	_, c := client(r.URL)
	n := int(2 * time.Second / (service / 5))
	s := time.Now()
	parallel(n, 10, func(int) {
		_, err := c.Roles(context.Background())
		must(err)
	})
	return float64(n) * float64(service) / 5 / float64(time.Since(s))
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
//
// The sequential client is the same requests one at a time: one limiter
// of a single slot shared by both targets.
func budgetTargets(url string, vossRate float64, nowait, sequential bool) *engine.Targets {
	cr := targets.Credentials{User: "admin", Password: "admin"}
	t, _, err := dial.New(dial.Config{VOSSURL: url, CUPIURL: url, VOSSCreds: cr, CUPICreds: cr, HTTP: targets.HTTPOptions{Conns: 64},
		VOSSRate: vossRate, VOSSNowait: nowait, Sequential: sequential, ID: "bench", CUPIWorkers: engine.CUPIMax(cupiShare)})
	must(err)
	return t
}

// cupiShare is the share of each Unity Connection cluster's 5 slots the
// budget benchmark runs bulkprov at (--cupi-share).
var cupiShare = 1.0
