package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/engine/dial"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	cupisim "github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/transform"
)

// clusterService is the CUPI service time of the clusters benchmark.
const clusterService = 40 * time.Millisecond

// tenantName is the name of cluster i, and tenantHierarchy its tenant's
// hierarchy on VOSS.
func tenantName(i int) string      { return fmt.Sprintf("t%02d", i) }
func tenantHierarchy(i int) string { return "sys.hcs.CS-P.CS-NB.Tenant" + tenantName(i) }

// benchClusters measures plan + apply of the same rows per cluster against
// 1, 2, 4 and 8 Unity Connection clusters (5 slots × 40 ms each, own
// limiter each), VOSS unpaced and shared, side by side in one run: wall
// time as a share of the per-cluster floor (one cluster's requests × 40 ms
// ÷ 5, the time one cluster alone needs at best), and this process's CPU
// time and peak live heap per cluster. The apply journals as bulkprov
// apply does. The simulators run in a child process, so the CPU and heap
// are bulkprov's alone.
func benchClusters(dir string) {
	n := users(100)
	sizes := []int{1, 2, 4, 8}
	if v := os.Getenv("BULKBENCH_CLUSTERS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			var k int
			fmt.Sscan(f, &k)
			sizes = append(sizes, k)
		}
	}
	fmt.Printf("\n## clusters: %d data/User rows per cluster (VOSS user, CUPI user, CUPI role), CUPI 5 slots × %v per cluster, VOSS unpaced; plan + apply\n\n", n, clusterService)
	fmt.Printf("| clusters | rows | CUPI req per cluster (floor) | VOSS req | CUPI p50 | per-cluster floor | plan (its floor) | plan + apply | share of floor | bare client's share | CPU | CPU per cluster | CPU per request | peak heap | heap per cluster |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, k := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("clusters-%d.csv", k))
		f, err := os.Create(path)
		must(err)
		for c := 0; c < k; c++ {
			fmt.Fprintf(f, "\"entity: data/User; hierarchy: %s\"\n# Action,username,role,password,DtmfAccessId\n", tenantHierarchy(c))
			for i := 0; i < n; i++ {
				fmt.Fprintf(f, "add,%s-%04d,Help Desk Administrator,Cluster-Pass-%04d,%d%04d\n", tenantName(c), i, i, 10+c, i)
			}
		}
		must(f.Close())
		// Once for the wall and CPU time at the normal GC pace, once more on
		// fresh servers for the peak heap (measured with the GC at 10%).
		var m clusterRun
		runtime.GC()
		m = clusterCell(path, k, nil)
		if prof := os.Getenv("BULKBENCH_CPUPROFILE"); prof != "" && k == sizes[len(sizes)-1] {
			// The largest size once more under the CPU profiler.
			f, err := os.Create(prof)
			must(err)
			clusterCell(path, k, func(fn func()) { must(pprof.StartCPUProfile(f)); fn(); pprof.StopCPUProfile() })
			must(f.Close())
		}
		heap := 0.0
		clusterCell(path, k, func(fn func()) { heap = peakHeap(fn) })
		bare := bareClusters(k, m.floorReq/k)
		fmt.Printf("| %d | %d | %d (%d) | %d | %v | %v | %v (%v) | %v | **%.2f** | %.2f | %v | %v | %.3f ms | %.1f MiB | %.2f MiB |\n", k, k*n,
			m.cupiReq/k, m.floorReq/k, m.vossReq, m.p50.Round(100*time.Microsecond), m.floor.Round(10*time.Millisecond), m.plan.Round(10*time.Millisecond), m.planFloor.Round(10*time.Millisecond), m.wall.Round(10*time.Millisecond),
			m.floor.Seconds()/m.wall.Seconds(), m.floor.Seconds()/bare.Seconds(), m.cpu.Round(10*time.Millisecond), (m.cpu / time.Duration(k)).Round(time.Millisecond),
			m.cpu.Seconds()*1000/float64(m.cupiReq+m.vossReq), heap, heap/float64(k))
		if m.failed > 0 {
			fmt.Fprintf(os.Stderr, "%d clusters: %d operations failed\n", k, m.failed)
		}
	}
}

// clusterRun is what one cell measured.
type clusterRun struct {
	wall, cpu, floor           time.Duration
	plan, planFloor            time.Duration // the plan's part and its floor
	cupiReq, floorReq, vossReq int
	failed                     int
	p50                        time.Duration // CUPI latency a client sees, mean over the clusters of their median
}

// clusterCell runs plan + apply of path against k fresh clusters, wrapped
// by measure when given.
func clusterCell(path string, k int, measure func(func())) clusterRun {
	sim := startClusterChild(k)
	defer sim.stop()
	cfg := &transform.Config{CUPIClusters: map[string]transform.ClusterConfig{}}
	for c := 0; c < k; c++ {
		cfg.CUPIClusters[tenantName(c)] = transform.ClusterConfig{URL: sim.clusters[tenantName(c)], Hierarchies: []string{tenantHierarchy(c)}}
	}
	var rows []transform.Row
	chk := loader.NewChecker()
	must(loader.Read(path, bigLimits, func(r *loader.Record) error {
		if ps := chk.Check(r); len(ps) > 0 {
			panic(ps[0].String())
		}
		rows = append(rows, transform.Map(r, cfg, transform.Options{}))
		return nil
	}, func(p loader.Problem) { panic(p.String()) }))
	t := clusterTargets(sim.voss, cfg)
	var m clusterRun
	run := func() {
		ctx := context.Background()
		rs := engine.NewMemoryRunState()
		// As bulkprov apply runs it (engine.Run, plan and apply overlapped:
		// a cluster's writes start once its part of the plan is made), with
		// a checkpoint journal, an intent synced before every write (group
		// commits shared by every cluster). BULKBENCH_NOJOURNAL=1 leaves
		// the journal out, to see what it costs.
		var j *engine.Journal
		var err error
		if os.Getenv("BULKBENCH_NOJOURNAL") == "" {
			j, err = engine.OpenJournal(fmt.Sprintf("%s-%d.journal", path, time.Now().UnixNano()), "bench", true)
			must(err)
		}
		s, cpu0 := time.Now(), cpuTime()
		r := &engine.Run{Targets: t, Options: engine.Options{RunState: rs}, Journal: j, JournalCreated: j != nil, BeforeWrites: func(*engine.Plan, *engine.Options) error {
			m.plan = time.Since(s) // the plan's part before the first write
			return nil
		}}
		must(r.Open())
		must(r.Settle(ctx))
		p, err := r.Execute(ctx, append([]transform.Row(nil), rows...), nil)
		must(err)
		r.Complete()
		must(r.Close())
		m.planFloor = time.Duration(float64(p.Reads["cupi"]) / float64(k) * float64(clusterService) / 5)
		floor := p.Reads["cupi"]
		created := map[int]bool{}
		for _, op := range p.Ops {
			if op.Kind == transform.KindCUPIUser && op.Action == engine.Create {
				created[op.Row] = true
			}
		}
		for _, op := range p.Ops {
			if op.Status == engine.Skipped || !op.Writes() || op.Target != "cupi" { // each write the plan asked for, now done
				continue
			}
			floor++
			if (op.Kind == transform.KindPassword || op.Kind == transform.KindPIN) && created[op.Row] {
				floor++ // the TimeChanged read that proves a set
			}
		}
		m.wall, m.cpu = time.Since(s), cpuTime()-cpu0
		m.floorReq = floor
		m.floor = time.Duration(float64(floor) / float64(k) * float64(clusterService) / 5)
		m.failed = p.Summary().Failed
	}
	if measure != nil {
		measure(run)
	} else {
		run()
	}
	m.vossReq = t.VOSSLimiter.Stats().Requests
	for _, c := range t.Clusters {
		m.cupiReq += c.Limiter.Stats().Requests
		m.p50 += c.Limiter.Stats().Percentile(50) / time.Duration(k)
	}
	return m
}

// bareClusters is the baseline of this machine and these simulators: a
// bare client keeping 7 GETs in flight on each of k fresh clusters (as
// bulkprov's limiter does), perCluster requests each, no planning,
// journaling or chains. Its wall time is what the clusters can give here.
func bareClusters(k, perCluster int) time.Duration {
	sim := startClusterChild(k)
	defer sim.stop()
	s := time.Now()
	parallel(k, k, func(c int) {
		_, cc := client(sim.clusters[tenantName(c)])
		parallel(perCluster, engine.DefaultCUPIWorkers, func(i int) {
			_, err := cc.FindUser(context.Background(), fmt.Sprintf("nobody%d", i))
			if err != nil && !errors.Is(err, targets.ErrNotFound) {
				must(err)
			}
		})
	})
	return time.Since(s)
}

// clusterTargets are targets as `bulkprov apply --voss URL --voss-rate 0
// --config` with cupiClusters builds them: VOSS unpaced at its default
// workers, each cluster its own client and limiter.
func clusterTargets(vossURL string, cfg *transform.Config) *engine.Targets {
	cr := targets.Credentials{User: "admin", Password: "admin"}
	c := dial.Config{VOSSURL: vossURL, VOSSCreds: cr, ID: "bench", VOSSName: vossURL, ClusterPrefixes: cfg.ClusterPrefixes()}
	for name, cl := range cfg.CUPIClusters {
		c.Clusters = append(c.Clusters, dial.Cluster{Name: name, URL: cl.URL, Creds: cr})
	}
	t, _, err := dial.New(c)
	must(err)
	return t
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clusterChild is the simulators' child process.
type clusterChild struct {
	cmd      *exec.Cmd
	voss     string
	clusters map[string]string
}

func (c *clusterChild) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	_ = c.cmd.Wait()
}

// startClusterChild runs `bulkbench clusters-sim K` (this binary) and
// reads the URLs it prints.
func startClusterChild(k int) *clusterChild {
	self, err := os.Executable()
	must(err)
	cmd := exec.Command(self, "clusters-sim", fmt.Sprint(k))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(err)
	must(cmd.Start())
	c := &clusterChild{cmd: cmd, clusters: map[string]string{}}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
		name, u, _ := strings.Cut(sc.Text(), "=")
		if name == "voss" {
			c.voss = u
		} else {
			c.clusters[name] = u
		}
	}
	if c.voss == "" || len(c.clusters) != k {
		panic(fmt.Sprintf("clusters-sim printed voss=%q and %d clusters", c.voss, len(c.clusters)))
	}
	return c
}

// serveClusters is the child: VOSS with the tenants' hierarchies, and k
// Unity Connection clusters of 5 slots × 40 ms, until SIGTERM.
func serveClusters(k int) {
	var names []string
	for c := 0; c < k; c++ {
		names = append(names, tenantName(c))
	}
	r, err := simserve.Start(simserve.Options{User: "admin", Password: "admin", Clusters: names,
		CUPI: cupisim.Options{Slots: 5, ServiceTime: clusterService, QueueTimeout: 20 * time.Second}})
	must(err)
	defer r.Close()
	for c := 0; c < k; c++ {
		r.VOSS.AddHierarchy(tenantHierarchy(c))
	}
	fmt.Printf("voss=%s\n", r.URL)
	for _, c := range r.Clusters {
		fmt.Printf("%s=%s\n", c.Name, c.URL)
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
}
