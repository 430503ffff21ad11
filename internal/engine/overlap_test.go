package engine_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/transform"
)

// PlanAndApply starts VOSS's writes while Unity Connection's per-user
// reads are still going: a proxy holds every CUPI per-user read (roles
// held, credential settings) until a
// VOSS write has gone through. Planning the whole plan first (MakePlan)
// would wait forever here; the overlap finishes, with every operation done.
func TestPlanAndApplyOverlapsCUPIReadsWithVOSSWrites(t *testing.T) {
	const n = 12
	tg, rs, _, done := proxiedUsers(t, n, func(w http.ResponseWriter, req *http.Request, proxy http.Handler, wrote <-chan struct{}) {
		if perUserRead(req) {
			select {
			case <-wrote:
			case <-req.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, req)
	})
	defer done()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rows := changedRows(n)
	started := false
	p, err := engine.PlanAndApply(ctx, rows, tg, engine.Options{RunState: rs, ReleaseRows: true}, engine.ApplyOptions{},
		func(first *engine.Plan, o *engine.Options) error { started = true; return nil })
	if err != nil || p == nil {
		t.Fatalf("PlanAndApply: plan %v, %v (the VOSS writes did not start while the CUPI reads waited)", p != nil, err)
	}
	if !started {
		t.Error("start was not called")
	}
	s := p.Summary()
	if s.Done != s.Update+s.Create || s.Done < n || s.Failed != 0 || s.Skip != 0 {
		t.Errorf("summary %+v, want every write done, %d VOSS updates among them", s, n)
		for _, op := range p.Ops {
			if op.Error != "" {
				t.Log(op.Kind, op.Key, op.Error)
			}
		}
	}
	if got := p.Reads["cupi"]; got < n {
		t.Errorf("CUPI reads %d, want the per-user reads of %d users counted", got, n)
	}
}

// PlanAndApply writes what MakePlan followed by Apply writes: the same
// operations, in the same order, with the same outcomes.
func TestPlanAndApplyEqualsPlanThenApply(t *testing.T) {
	run := func(overlap bool) []string {
		r := startSim(t)
		ctx := context.Background()
		rs := engine.NewMemoryRunState()
		var out []string
		for _, locked := range []bool{false, true, true} {
			tg := newTargets(t, r.URL)
			var p *engine.Plan
			var err error
			if overlap {
				p, err = engine.PlanAndApply(ctx, userRows(20, locked), tg, engine.Options{RunState: rs, ReleaseRows: true}, engine.ApplyOptions{},
					func(*engine.Plan, *engine.Options) error { return nil })
			} else {
				p, err = engine.MakePlan(ctx, userRows(20, locked), tg, engine.Options{RunState: rs})
				if err == nil {
					err = engine.Apply(ctx, p, tg, engine.Options{RunState: rs, ReleaseRows: true}, engine.ApplyOptions{})
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range p.Ops {
				out = append(out, strings.Join([]string{op.ID, op.Kind, op.Key, op.Action.String(), op.Status.String(), op.Error}, " "))
			}
			out = append(out, "--")
		}
		return out
	}
	want, got := run(false), run(true)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("PlanAndApply differs from MakePlan + Apply:\n got %q\nwant %q", got, want)
	}
	if len(want) < 3*20 {
		t.Errorf("only %d operations", len(want))
	}
}

// perUserRead reports whether req reads something of one CUPI user (its
// roles, its credential settings), which no list returns.
func perUserRead(req *http.Request) bool {
	rest, ok := strings.CutPrefix(req.URL.Path, "/vmrest/users/")
	return ok && req.Method == http.MethodGet && strings.Contains(rest, "/")
}

// A start that refuses (the back-out file cannot be opened, say) ends the
// run before any write: the Unity Connection per-user reads already going
// stop with it, not read on against the server after PlanAndApply has
// returned.
func TestPlanAndApplyRefusedStartStopsTheReads(t *testing.T) {
	const n = 6
	r, rs := appliedUsers(t, n)
	ctx := context.Background()
	upstream, _ := url.Parse(r.URL)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	var held sync.WaitGroup
	var mu sync.Mutex
	holding := 0
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if perUserRead(req) {
			held.Add(1)
			defer held.Done()
			mu.Lock()
			holding++
			mu.Unlock()
			<-req.Context().Done() // until the client gives up
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	defer front.Close()
	defer front.CloseClientConnections()
	tg := newTargets(t, front.URL)
	rows := changedRows(n)
	refused := errors.New("refused")
	p, err := engine.PlanAndApply(ctx, rows, tg, engine.Options{RunState: rs, ReleaseRows: true}, engine.ApplyOptions{},
		func(*engine.Plan, *engine.Options) error {
			// The per-user reads are under way.
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				mu.Lock()
				h := holding
				mu.Unlock()
				if h > 0 {
					break
				}
			}
			return refused
		})
	if p != nil || !errors.Is(err, refused) {
		t.Fatalf("PlanAndApply: plan %v, %v; want no plan and the start's error", p != nil, err)
	}
	stopped := make(chan struct{})
	go func() { held.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(3 * time.Second):
		t.Fatal("the CUPI per-user reads went on after PlanAndApply returned")
	}
}

// Progress is told rows done in order: the last call is the whole run
// (apply's final progress line is the last call), never an earlier count
// that came late.
func TestProgressIsInOrder(t *testing.T) {
	r := startSim(t)
	const n = 24
	var mu sync.Mutex
	var calls [][3]int
	progress := func(done, failed, total int) {
		if done%2 == 1 {
			time.Sleep(5 * time.Millisecond) // a slow terminal
		}
		mu.Lock()
		calls = append(calls, [3]int{done, failed, total})
		mu.Unlock()
	}
	p, err := engine.PlanAndApply(context.Background(), userRows(n, false), newTargets(t, r.URL), engine.Options{ReleaseRows: true}, engine.ApplyOptions{Progress: progress},
		func(*engine.Plan, *engine.Options) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Done == 0 || s.Failed != 0 {
		t.Fatalf("summary %+v", s)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] || calls[i][2] < calls[i-1][2] {
			t.Errorf("progress went back: %v after %v", calls[i], calls[i-1])
		}
	}
	if len(calls) == 0 || calls[len(calls)-1] != [3]int{n, 0, n} {
		t.Errorf("last progress %v, want [%d 0 %d]", calls[len(calls)-1:], n, n)
	}
}

// A Unity Connection cluster that answers 503 to every per-user read
// while VOSS's writes go on is found down once: the reads not yet sent
// are not each retried to the end (with many users that is hours of
// backing off before the run can end). Its operations fail, VOSS's are
// done.
func TestPlanAndApplyClusterDownDuringPerUserReads(t *testing.T) {
	const n = 30
	var mu sync.Mutex
	perUser := 0
	tg, rs, _, done := proxiedUsers(t, n, func(w http.ResponseWriter, req *http.Request, proxy http.Handler, wrote <-chan struct{}) {
		if perUserRead(req) {
			mu.Lock()
			perUser++
			mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, req)
	})
	defer done()
	o := engine.Options{RunState: rs, ReleaseRows: true, Retry: engine.Retry{Attempts: 3, Base: 5 * time.Millisecond, Cap: 20 * time.Millisecond}}
	p, err := engine.PlanAndApply(context.Background(), userRows(n, true), tg, o, engine.ApplyOptions{},
		func(*engine.Plan, *engine.Options) error { return nil })
	if err != nil || p == nil {
		t.Fatalf("PlanAndApply: plan %v, %v", p != nil, err)
	}
	checkClusterDown(t, p)
	// 2n reads (roles, password settings) of 3 attempts each, were each
	// tried to the end; the reads in flight when the first gave up may.
	if limit := 3 * (engine.StartLimit + 2); perUser > limit {
		t.Errorf("%d per-user reads sent to a cluster already found down, want at most %d", perUser, limit)
	}
}

// proxiedUsers applies n users through a simulator, then fronts it with
// handler, which answers each request (proxy passes one on; wrote is
// closed once a VOSS write went through — a write, not a bulk export,
// which is a POST that reads), and returns targets to the front, its URL
// and what closes it.
func proxiedUsers(t *testing.T, n int, handler func(w http.ResponseWriter, req *http.Request, proxy http.Handler, wrote <-chan struct{})) (*engine.Targets, *engine.RunState, string, func()) {
	r, rs := appliedUsers(t, n)
	upstream, _ := url.Parse(r.URL)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	wrote := make(chan struct{})
	var once sync.Once
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		handler(w, req, proxy, wrote)
		if req.Method != http.MethodGet && strings.HasPrefix(req.URL.Path, "/api/") && !strings.HasSuffix(req.URL.Path, "/export/") {
			once.Do(func() { close(wrote) })
		}
	}))
	return newTargets(t, front.URL), rs, front.URL, func() { front.CloseClientConnections(); front.Close() }
}

// checkClusterDown checks a run whose Unity Connection went down during
// the per-user reads: the cluster is recorded down, VOSS's operations are
// done and the cluster's not run — said once, not failed one by one
// (issue 24).
func checkClusterDown(t *testing.T, p *engine.Plan) {
	t.Helper()
	if p.Down[engine.DefaultCluster] == nil {
		t.Errorf("the cluster is not down: %v", p.Down)
	}
	for _, op := range p.Ops {
		if op.Target == "voss" && op.Status != engine.Done ||
			op.Target == "cupi" && (op.Status != engine.Skipped || op.Error != "not run: Unity Connection default unreachable") {
			t.Errorf("%s %s: %s %s", op.Kind, op.Key, op.Status, op.Error)
		}
	}
}

// An interrupt while Unity Connection's part is still being planned (VOSS
// writes done) leaves those rows not done: their CUPI part is in the plan
// as not run, so no report counts such a row ok (its CUPI user, roles and
// credentials were never looked at).
func TestPlanAndApplyInterruptedCUPIPartIsNotRun(t *testing.T) {
	const n = 8
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tg, rs, _, done := proxiedUsers(t, n, func(w http.ResponseWriter, req *http.Request, proxy http.Handler, wrote <-chan struct{}) {
		if perUserRead(req) {
			<-wrote
			time.Sleep(200 * time.Millisecond) // VOSS's writes land
			cancel()
			<-req.Context().Done()
			return
		}
		proxy.ServeHTTP(w, req)
	})
	defer done()
	p, err := engine.PlanAndApply(ctx, userRows(n, true), tg, engine.Options{RunState: rs, ReleaseRows: true}, engine.ApplyOptions{},
		func(*engine.Plan, *engine.Options) error { return nil })
	if p == nil || !errors.Is(err, engine.ErrInterrupted) {
		t.Fatalf("PlanAndApply: plan %v, %v; want the plan and interrupted", p != nil, err)
	}
	notRun := map[int]int{}
	for i, op := range p.Ops {
		if i > 0 && op.Row < p.Ops[i-1].Row {
			t.Errorf("operation %d of row %d after row %d", i, op.Row, p.Ops[i-1].Row)
		}
		switch {
		case op.Status == engine.Planned:
			t.Errorf("%s %s left planned", op.Kind, op.Key)
		case op.Target == "cupi" && op.Status == engine.Skipped && op.Error != "":
			notRun[op.Row]++
			if op.Action == engine.Noop {
				// Its action is not known (never diffed): the one a
				// want asks for when the target was not read, as a
				// cluster found down at plan time — never a noop,
				// which every report counts unchanged (issue 24).
				t.Errorf("%s %s not run, counted a noop", op.Kind, op.Key)
			}
		}
	}
	if s := p.Summary(); s.Skip != len(notRun)*3 || s.Noop != 0 || s.Done != n {
		t.Errorf("summary %+v: want %d done, the CUPI part skipped and not counted unchanged", s, n)
	}
	if len(notRun) != n {
		t.Errorf("rows with their Unity Connection part not run: %d, want %d", len(notRun), n)
		for _, op := range p.Ops {
			t.Log(op.Row, op.Kind, op.Key, op.Status, op.Error)
		}
	}
}

// A Unity Connection cluster that stops answering (its requests time out)
// during the per-user reads is down like one that refuses or throttles:
// its operations fail, and VOSS's writes, already going, go on to the end
// instead of the whole run stopping half-way.
func TestPlanAndApplyHungClusterDuringPerUserReads(t *testing.T) {
	const n = 8
	tg, rs, front, done := proxiedUsers(t, n, func(w http.ResponseWriter, req *http.Request, proxy http.Handler, wrote <-chan struct{}) {
		if perUserRead(req) {
			<-req.Context().Done() // never answered
			return
		}
		proxy.ServeHTTP(w, req)
	})
	defer done()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 16, Timeout: 300 * time.Millisecond})
	c := cupi.New(front, hc, targets.Credentials{User: "u", Password: "p"})
	c.Observe = tg.CUPILimiter.Observe
	tg.CUPI = c
	p, err := engine.PlanAndApply(context.Background(), userRows(n, true), tg, engine.Options{RunState: rs, ReleaseRows: true}, engine.ApplyOptions{},
		func(*engine.Plan, *engine.Options) error { return nil })
	if err != nil || p == nil {
		t.Fatalf("PlanAndApply: plan %v, %v; want the run to end with the cluster down", p != nil, err)
	}
	checkClusterDown(t, p)
}

// appliedUsers starts the simulators and applies n users (userRows) to
// them: the state the overlap tests change, with the run state that
// applied it.
func appliedUsers(t *testing.T, n int) (*simserve.Running, *engine.RunState) {
	t.Helper()
	r := startSim(t)
	rs := engine.NewMemoryRunState()
	ctx := context.Background()
	tg := newTargets(t, r.URL)
	p, err := engine.MakePlan(ctx, userRows(n, false), tg, engine.Options{RunState: rs})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(ctx, p, tg, engine.Options{RunState: rs, ReleaseRows: true}, engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	return r, rs
}

// changedRows are userRows locked, with new passwords: the VOSS users
// change, and the credentials' settings are read per user.
func changedRows(n int) []transform.Row {
	rows := userRows(n, true)
	for _, row := range rows {
		for _, w := range row.Wants {
			for p := range w.Secrets.All() { // a handle: the row's want sees the new value
				w.Secrets.Set(p, "Another-Long-One-2")
			}
		}
	}
	return rows
}
