// Command bulkbench measures bulkprov side by side with its baselines in
// one run and prints the figures recorded in BENCHMARKS.md:
//
//	go run ./cmd/bulkbench loader   # records/s vs a bare excelize Rows loop; peak heap 100k vs 1M rows
//	go run ./cmd/bulkbench sim      # simulator capacity on loopback, zero service time
//	go run ./cmd/bulkbench plan     # requests per user and wall time vs one GET per row, 10,000 users
//	go run ./cmd/bulkbench apply    # 2,000 users, CUPI 5 slots: vs the ideal and a sequential client
//	go run ./cmd/bulkbench estimate # plan's estimate against the apply, over budget cells
//	go run ./cmd/bulkbench budget   # plan + apply under VOSS 20 req/s × CUPI 5 slots, share of the floor
//	go run ./cmd/bulkbench revert   # back-out file size and revert speed, 10,000 changed users
//	go run ./cmd/bulkbench json     # encoding/json vs goccy/go-json on a 50,000-user export
//	go run ./cmd/bulkbench cpu      # CPU per HTTP request of bulkprov apply vs a plain Go client sending the same requests; fsyncs per write
//	go run ./cmd/bulkbench memory   # peak RSS of bulkprov for plan and apply of 1,000, 10,000 and 100,000 users
//	go run ./cmd/bulkbench clusters # 1, 2, 4, 8 Unity Connection clusters at 5 slots × 40 ms: share of one cluster's floor, CPU and heap per cluster
//
// Nothing here is a test assertion: machines are noisy; the ratios are
// what matter.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/sync/errgroup"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/engine/dial"
	"github.com/bulkprov/bulkprov/internal/export"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	cupisim "github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
	"github.com/bulkprov/bulkprov/transform"
)

func main() {
	flag.Parse()
	which := flag.Arg(0)
	if which == "clusters-sim" { // the clusters benchmark's simulators, as a child process
		var k int
		fmt.Sscan(flag.Arg(1), &k)
		serveClusters(k)
		return
	}
	if which == "plain-client" { // the cpu benchmark's plain client, as a child process
		plainClient(flag.Arg(1), flag.Arg(2), flag.Arg(3))
		return
	}
	dir, _ := os.MkdirTemp("", "bulkbench")
	defer os.RemoveAll(dir)
	fmt.Printf("# %s, %s/%s, %d CPUs, %s\n", time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	switch which {
	case "loader":
		benchLoader(dir)
	case "sim":
		benchSim()
	case "plan":
		benchPlan(dir)
	case "apply":
		benchApply(dir)
	case "export":
		benchExport(dir)
	case "budget":
		benchBudget(dir)
	case "estimate":
		benchEstimate(dir)
	case "revert":
		benchRevert(dir)
	case "json":
		benchJSON(dir)
	case "clusters":
		benchClusters(dir)
	case "memory":
		benchMemory(dir)
	case "firstcontact":
		benchFirstContact(dir)
	case "cpu":
		benchCPU(dir)
	default:
		fmt.Fprintln(os.Stderr, "usage: bulkbench loader|sim|plan|apply|export|budget|revert|json|clusters|memory|firstcontact|cpu")
		os.Exit(2)
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// writeUsers streams an n-row data/User workbook.
func writeUsers(path string, n int, extra func(i int) []any, cols ...any) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	must(err)
	must(sw.SetRow("A1", []any{"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal"}))
	header := append([]any{"# Action", "username", "first_name", "last_name", "email", "role", "language", "account_information.locked"}, cols...)
	must(sw.SetRow("A2", header))
	for i := 0; i < n; i++ {
		row := []any{"add", fmt.Sprintf("user%07d", i), "First", fmt.Sprintf("Last %d", i), fmt.Sprintf("user%07d@example.com", i),
			"User Administrator", "en-us", i%2 == 0}
		if extra != nil {
			row = append(row, extra(i)...)
		}
		ref, _ := excelize.CoordinatesToCellName(1, i+5)
		must(sw.SetRow(ref, row))
	}
	must(sw.Flush())
	must(f.SaveAs(path))
}

// peakHeap runs fn and returns the largest live heap above what was live
// before it (as measured by each
// garbage collection, runtime/metrics /gc/heap/live:bytes) in MiB. The GC
// runs often during the measurement so the figure tracks live data, not
// garbage waiting for collection.
func peakHeap(fn func()) float64 {
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64() // what was live before fn (say, a simulator's data)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	runtime.GC()
	close(stop)
	wg.Wait()
	return float64(peak.Load()-min(base, peak.Load())) / (1 << 20)
}

var bigLimits = loader.Options{Limits: loader.Limits{MaxBytes: 4 << 30, MaxRows: 2000000}}

func readOnly(path string) int {
	n := 0
	must(loader.Read(path, bigLimits, func(r *loader.Record) error {
		n++
		return nil
	}, func(loader.Problem) {}))
	return n
}

func loadAll(path string) int {
	n := 0
	c := loader.NewChecker()
	must(loader.Read(path, bigLimits, func(r *loader.Record) error {
		c.Check(r)
		n++
		return nil
	}, func(loader.Problem) {}))
	return n
}

func bareExcelize(path string) int {
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: 4 << 30})
	must(err)
	defer f.Close()
	rows, err := f.Rows("Sheet1")
	must(err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		if _, err := rows.Columns(); err != nil {
			panic(err)
		}
		n++
	}
	return n - 4
}

func benchLoader(dir string) {
	small := filepath.Join(dir, "100k.xlsx")
	big := filepath.Join(dir, "1m.xlsx")
	writeUsers(small, 100000, nil)
	var nb, nl int
	var tb, tl time.Duration
	for i := 0; i < 3; i++ { // best of three, alternating
		s := time.Now()
		nb = bareExcelize(small)
		tb = best(tb, time.Since(s))
		s = time.Now()
		nl = loadAll(small)
		tl = best(tl, time.Since(s))
	}
	fmt.Printf("\n## loader, 100,000-row workbook (best of 3)\n\n| reader | rows | time | rows/s | ratio |\n|---|---|---|---|---|\n")
	fmt.Printf("| bare excelize Rows+Columns | %d | %v | %.0f | 1.00 |\n", nb, tb.Round(time.Millisecond), float64(nb)/tb.Seconds())
	fmt.Printf("| bulkprov loader (+ schema checks) | %d | %v | %.0f | %.2f |\n", nl, tl.Round(time.Millisecond), float64(nl)/tl.Seconds(), tb.Seconds()/tl.Seconds())
	if os.Getenv("BULKBENCH_SKIP_1M") != "" {
		return
	}
	writeUsers(big, 1000000, nil)
	peakHeap(func() { readOnly(small) }) // warm-up: let the writer's garbage go
	rs := peakHeap(func() { readOnly(small) })
	rb := peakHeap(func() { readOnly(big) })
	hs := peakHeap(func() { loadAll(small) })
	hb := peakHeap(func() { loadAll(big) })
	es := peakHeap(func() { bareExcelize(small) })
	eb := peakHeap(func() { bareExcelize(big) })
	fmt.Printf("\n## loader peak live heap (runtime/metrics /gc/heap/live:bytes, GOGC=10 during the measurement)\n\n| reader | 100,000 rows MiB | 1,000,000 rows MiB | ratio |\n|---|---|---|---|\n")
	fmt.Printf("| bulkprov loader (streaming read) | %.1f | %.1f | %.2f |\n", rs, rb, rb/rs)
	fmt.Printf("| loader + validation (duplicate-key index over all rows) | %.1f | %.1f | %.2f |\n", hs, hb, hb/hs)
	fmt.Printf("| bare excelize Rows | %.1f | %.1f | %.2f |\n", es, eb, eb/es)
}

func best(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}

func client(url string) (*voss.Client, *cupi.Client) {
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 64})
	cr := targets.Credentials{User: "admin", Password: "admin"}
	return vossload.New(url, hc, cr), cupi.New(url, hc, cr)
}

func benchSim() {
	r, err := simserve.Start(simserve.Options{User: "admin", Password: "admin", CUPI: cupisim.Options{Slots: 64}})
	must(err)
	defer r.Close()
	v, c := client(r.URL)
	ctx := context.Background()
	run := func(name string, workers int, fn func() error) {
		var n atomic.Int64
		deadline := time.Now().Add(3 * time.Second)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					must(fn())
					n.Add(1)
				}
			}()
		}
		s := time.Now()
		wg.Wait()
		fmt.Printf("| %s | %d | %.0f |\n", name, workers, float64(n.Load())/time.Since(s).Seconds())
	}
	_, err = c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "bench", "DtmfAccessId": "1"})
	must(err)
	_, err = v.Create(ctx, "data/User", "sys.hcs.CS-P.CS-NB.AAAGlobal", map[string]any{"username": "bench", "role": "User Administrator"}, nil)
	must(err)
	fmt.Printf("\n## simulator capacity on loopback, zero service time (3 s each)\n\n| request | client workers | requests/s |\n|---|---|---|\n")
	run("CUPI GET user by alias (64 slots)", 8, func() error { _, err := c.FindUser(ctx, "bench"); return err })
	run("CUPI GET roles", 8, func() error { _, err := c.Roles(ctx); return err })
	run("VOSS list data/User", 8, func() error {
		return v.List(ctx, "data/User", "sys.hcs.CS-P.CS-NB.AAAGlobal", [2]string{}, func(voss.Summary) error { return nil })
	})
	i := atomic.Int64{}
	v.Nowait = false
	run("VOSS create data/User (sync)", 8, func() error {
		_, err := v.Create(ctx, "data/User", "sys.hcs.CS-P.CS-NB.AAAGlobal", map[string]any{"username": fmt.Sprintf("b%d", i.Add(1)), "role": "User Administrator"}, nil)
		return err
	})
}

func targetsFor(url string, cupiMax, vossMax int) *engine.Targets {
	cr := targets.Credentials{User: "admin", Password: "admin"}
	t, _, err := dial.New(dial.Config{VOSSURL: url, CUPIURL: url, VOSSCreds: cr, CUPICreds: cr, HTTP: targets.HTTPOptions{Conns: 64},
		VOSSWorkers: vossMax, CUPIWorkers: cupiMax, ID: "bench"})
	must(err)
	return t
}

// users is BULKBENCH_USERS, else n: the users of a cell.
func users(n int) int {
	if v := os.Getenv("BULKBENCH_USERS"); v != "" {
		fmt.Sscan(v, &n)
	}
	return n
}

// writeCSV writes dir/name: the header's lines, then row(i), a line each,
// for i below n. It returns the file's path.
func writeCSV(dir, name, header string, n int, row func(i int) string) string {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	must(err)
	fmt.Fprintln(f, header)
	for i := 0; i < n; i++ {
		fmt.Fprintln(f, row(i))
	}
	must(f.Close())
	return path
}

func rowsOf(path string) []transform.Row {
	var rows []transform.Row
	cfg := &transform.Config{}
	c := loader.NewChecker()
	must(loader.Read(path, bigLimits, func(r *loader.Record) error {
		if ps := c.Check(r); len(ps) > 0 {
			panic(ps[0].String())
		}
		rows = append(rows, transform.Map(r, cfg, transform.Options{}))
		return nil
	}, func(p loader.Problem) { panic(p.String()) }))
	return rows
}

func benchPlan(dir string) {
	path := filepath.Join(dir, "users.xlsx")
	const n = 10000
	writeUsers(path, n, func(i int) []any { return []any{fmt.Sprintf("8%06d", i)} }, "DtmfAccessId")
	rows := rowsOf(path)
	for _, service := range []time.Duration{0, 2 * time.Millisecond} {
		benchPlanAt(rows, n, service)
	}
}

func benchPlanAt(rows []transform.Row, n int, service time.Duration) {
	r, err := simserve.Start(simserve.Options{User: "admin", Password: "admin"})
	must(err)
	defer r.Close()
	ctx := context.Background()
	t := targetsFor(r.URL, 5, 8)
	p, err := engine.MakePlan(ctx, rows, t, engine.Options{})
	must(err)
	s := time.Now()
	must(engine.Apply(ctx, p, t, engine.Options{}, engine.ApplyOptions{Workers: 16}))
	seedTime := time.Since(s)
	r.CUPI.SetServiceTime(service)
	r.VOSS.SetServiceTime(service)
	t = targetsFor(r.URL, 5, 8)
	s = time.Now()
	p, err = engine.MakePlan(ctx, rows, t, engine.Options{})
	must(err)
	planTime := time.Since(s)
	sum := p.Summary()
	// One GET per row: what a naive tool does — find each user on both
	// servers, then read its CUPI roles and password settings.
	v, c := client(r.URL)
	s = time.Now()
	parallel(n, 5, func(i int) {
		name := fmt.Sprintf("user%07d", i)
		var pk string
		must(v.List(ctx, "data/User", "sys.hcs.CS-P.CS-NB.AAAGlobal", [2]string{"username", name}, func(s voss.Summary) error { pk = s.Pkid; return nil }))
		_, err := v.Get(ctx, "data/User", pk)
		must(err)
		u, err := c.FindUser(ctx, name)
		must(err)
		_, err = c.UserRoles(ctx, u["ObjectId"])
		must(err)
		_, err = c.Credential(ctx, u["ObjectId"], cupi.Password)
		must(err)
	})
	naive := time.Since(s)
	fmt.Printf("\n## plan, %d users already applied (seeding took %v), service time %v, CUPI 5 slots\n\n", n, seedTime.Round(time.Millisecond), service)
	fmt.Printf("plan result: %d unchanged, %d to change\n\n| approach | VOSS requests/user | CUPI requests/user | wall time | ratio |\n|---|---|---|---|---|\n", sum.Noop, sum.Create+sum.Update+sum.Delete)
	fmt.Printf("| bulkprov plan (bulk reads) | %.4f | %.3f | %v | 1.00 |\n", float64(t.VOSSLimiter.Stats().Requests)/float64(n), float64(t.CUPILimiter.Stats().Requests)/float64(n), planTime.Round(time.Millisecond))
	fmt.Printf("| one GET per row (5 workers) | 2 | 3 | %v | %.2f× slower |\n", naive.Round(time.Millisecond), naive.Seconds()/planTime.Seconds())
}

func benchApply(dir string) {
	const n = 2000
	const service = 10 * time.Millisecond
	rows := rowsOf(writeCSV(dir, "cupi.csv", "\"entity: cupi/User\"\nAlias,DtmfAccessId,FirstName,Roles,Pin", n,
		func(i int) string {
			return fmt.Sprintf("vm%05d,7%05d,User,Help Desk Administrator,%06d", i, i, 135700+i)
		}))
	start := func() *simserve.Running {
		r, err := simserve.Start(simserve.Options{User: "admin", Password: "admin", CUPI: cupisim.Options{Slots: 5, ServiceTime: service, QueueTimeout: 20 * time.Second}})
		must(err)
		return r
	}
	ctx := context.Background()
	r := start()
	t := targetsFor(r.URL, engine.DefaultCUPIWorkers, engine.DefaultVOSSWorkers)
	s := time.Now()
	p, err := engine.MakePlan(ctx, rows, t, engine.Options{})
	must(err)
	must(engine.Apply(ctx, p, t, engine.Options{}, engine.ApplyOptions{Workers: 2 * engine.DefaultVOSSWorkers}))
	wall := time.Since(s)
	st := t.CUPILimiter.Stats()
	sum := p.Summary()
	rejected := r.CUPI.Rejected()
	r.Close()
	ideal := time.Duration(st.Requests) * service / 5

	r = start()
	_, c := client(r.URL)
	s = time.Now()
	roles, err := c.Roles(ctx)
	must(err)
	var help string
	for _, ro := range roles {
		if ro["RoleName"] == "Help Desk Administrator" {
			help = ro["ObjectId"]
		}
	}
	seqReqs := 1
	for i := 0; i < n; i++ {
		id, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": fmt.Sprintf("vm%05d", i), "DtmfAccessId": fmt.Sprintf("7%05d", i), "FirstName": "User"})
		must(err)
		_, err = c.AddUserRole(ctx, id, help)
		must(err)
		must(c.SetCredential(ctx, id, cupi.PIN, cupi.Object{"Credentials": fmt.Sprintf("%06d", 135700+i)}))
		seqReqs += 3
	}
	seq := time.Since(s)
	r.Close()
	fmt.Printf("\n## apply, %d CUPI users (create + role + PIN), CUPI 5 slots, %v service time, default flags\n\n", n, service)
	fmt.Printf("| run | requests | wall time | of the ideal | speed-up |\n|---|---|---|---|---|\n")
	fmt.Printf("| ideal: requests × service time ÷ 5 | %d | %v | 100%% | |\n", st.Requests, ideal.Round(time.Millisecond))
	fmt.Printf("| bulkprov apply (plan + apply) | %d | %v | %.0f%% | %.2f× the sequential client |\n", st.Requests, wall.Round(time.Millisecond), 100*ideal.Seconds()/wall.Seconds(), seq.Seconds()/wall.Seconds())
	fmt.Printf("| sequential client, same writes | %d | %v | %.0f%% | 1.00× |\n", seqReqs, seq.Round(time.Millisecond), 100*(time.Duration(seqReqs)*service/5).Seconds()/seq.Seconds())
	fmt.Printf("\nbulkprov: %d done, %d failed; 503 from the throttle: %d; p50 %v, p95 %v; final limit %.1f\n", sum.Done, sum.Failed, rejected, st.Percentile(50), st.Percentile(95), t.CUPILimiter.Limit())
}

func benchExport(dir string) {
	const n = 50000
	const h = "sys.hcs.CS-P.CS-NB.AAAGlobal"
	r, err := simserve.Start(simserve.Options{User: "admin", Password: "admin"})
	must(err)
	defer r.Close()
	v, _ := client(r.URL)
	v.Nowait = false
	ctx := context.Background()
	parallel(n, 8, func(i int) {
		_, err := v.Create(ctx, "data/User", h, map[string]any{"username": fmt.Sprintf("user%06d", i), "role": "User Administrator",
			"email": fmt.Sprintf("user%06d@example.com", i), "first_name": "First", "last_name": fmt.Sprintf("Last %d", i),
			"account_information": map[string]any{"locked": i%2 == 0, "security_questions": []any{map[string]any{"question": "q", "answer": "a"}}}}, nil)
		must(err)
	})
	var listed int
	s := time.Now()
	must(v.List(ctx, "data/User", h, [2]string{}, func(voss.Summary) error { listed++; return nil }))
	listTime := time.Since(s)
	fmt.Printf("\n## export, %d data/User instances from the VOSS simulator\n\n| run | time | peak live heap above the simulator's own data, MiB |\n|---|---|---|\n", n)
	fmt.Printf("| the simulator's own paged listing (summaries only, %d) | %v | |\n", listed, listTime.Round(time.Millisecond))
	for _, ext := range []string{".xlsx", ".zip"} {
		out := filepath.Join(dir, "export"+ext)
		var took time.Duration
		var count int
		heap := peakHeap(func() {
			s := time.Now()
			count, err = export.Write(ctx, out, "data/User", h, export.VOSS(v, "data/User", h))
			must(err)
			took = time.Since(s)
		})
		st, _ := os.Stat(out)
		fmt.Printf("| bulkprov export to %s (%d instances, %.1f MiB file) | %v (%.1f× the listing) | %.1f |\n", ext, count, float64(st.Size())/(1<<20), took.Round(time.Millisecond), took.Seconds()/listTime.Seconds(), heap)
	}
}

// parallel calls fn(0..n-1) with at most workers calls at once.
func parallel(n, workers int, fn func(i int)) {
	var g errgroup.Group
	g.SetLimit(workers)
	for i := 0; i < n; i++ {
		g.Go(func() error { fn(i); return nil })
	}
	_ = g.Wait()
}
