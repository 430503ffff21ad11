package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
	"github.com/bulkprov/bulkprov/transform"
)

// fault is what a faultyProxy does to one request.
type fault int

const (
	pass       fault = iota
	after502         // forward (the server commits), then answer 502 as a proxy would
	dropAnswer       // forward, then lose the answer
	refuse500        // answer 500 without forwarding
)

// faultyProxy sits between the clients and documented servers (the
// simulators) the way a reverse proxy or a lossy network does. It counts
// the writes the server committed (2xx answers), and words credential
// refusals as a real Unity Connection of another locale might, so nothing
// can key on the simulator's wording.
type faultyProxy struct {
	base   http.RoundTripper
	decide func(*http.Request, []byte) fault
	before func(*http.Request) // called before each request is forwarded

	mu      sync.Mutex
	commits map[string]int // METHOD path -> committed writes
}

func (p *faultyProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if p.before != nil {
		p.before(req)
	}
	f := pass
	if p.decide != nil {
		f = p.decide(req, body)
	}
	if f == refuse500 {
		return answer(req, 500, `<html><body>Internal Server Error</body></html>`), nil
	}
	resp, err := p.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if req.Method != http.MethodGet && resp.StatusCode < 300 {
		p.mu.Lock()
		p.commits[req.Method+" "+req.URL.Path]++
		p.mu.Unlock()
	}
	if resp.StatusCode == 400 && strings.Contains(req.URL.Path, "/credential/") {
		resp.Body.Close()
		return answer(req, 400, `{"errors":{"code":"INVALID_PARAMETER","message":"Die Anmeldeinformationen entsprechen nicht den Richtlinien"}}`), nil
	}
	switch f {
	case after502:
		resp.Body.Close()
		return answer(req, 502, `<html><body>Bad Gateway</body></html>`), nil
	case dropAnswer:
		resp.Body.Close()
		return nil, io.ErrUnexpectedEOF
	}
	return resp, nil
}

func answer(req *http.Request, code int, body string) *http.Response {
	return &http.Response{StatusCode: code, Status: fmt.Sprint(code), Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req, ProtoMajor: 1, ProtoMinor: 1}
}

func (p *faultyProxy) committed(method, pathPart string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, v := range p.commits {
		if strings.HasPrefix(k, method+" ") && strings.HasSuffix(k, pathPart) {
			n += v
		}
	}
	return n
}

// proxied returns targets whose requests go through a faultyProxy.
func proxied(t *testing.T, url string, sync bool) (*engine.Targets, *faultyProxy) {
	t.Helper()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 16})
	p := &faultyProxy{base: hc.Transport, commits: map[string]int{}}
	hc.Transport = p
	cr := targets.Credentials{User: "u", Password: "p"}
	v, c := vossload.New(url, hc, cr), cupi.New(url, hc, cr)
	tg := &engine.Targets{VOSS: v, CUPI: c,
		VOSSLimiter: engine.NewLimiter("voss", 8), CUPILimiter: engine.NewLimiter("cupi", 5),
		ID: "test", VOSSName: url, CUPIName: url}
	v.Nowait = !sync
	v.Observe, c.Observe = tg.VOSSLimiter.Observe, tg.CUPILimiter.Observe
	return tg, p
}

// startSim starts both simulators (user u, password p) for the test.
func startSim(t *testing.T) *simserve.Running {
	t.Helper()
	r, err := simserve.Start(simserve.Options{User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func rowsWithPassword(n int, password string) []transform.Row {
	var rows []transform.Row
	for i := 0; i < n; i++ {
		rec := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: "sys.hcs.CS-P.CS-NB.AAAGlobal",
			Loc: loader.Location{File: "t.xlsx", Sheet: "s", Row: i + 5},
			Fields: map[string]any{"username": fmt.Sprintf("u%03d", i), "role": "Help Desk Administrator", "password": password,
				"DtmfAccessId": fmt.Sprintf("5%03d", i)}}
		rows = append(rows, transform.Map(rec, &transform.Config{}, transform.Options{}))
	}
	return rows
}

func planApply(t *testing.T, rows []transform.Row, tg *engine.Targets, o engine.Options) *engine.Plan {
	t.Helper()
	ctx := context.Background()
	p, err := engine.MakePlan(ctx, rows, tg, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(ctx, p, tg, o, engine.ApplyOptions{Workers: 8}); err != nil {
		t.Fatal(err)
	}
	return p
}

func failures(p *engine.Plan) []string {
	var out []string
	for _, op := range p.Ops {
		if op.Status == engine.Failed || op.Status == engine.Skipped {
			out = append(out, op.Kind+" "+op.Key+": "+op.Error)
		}
	}
	return out
}

// An interrupt while plan reads state is no plan: a read that was cut
// short never makes an object look absent.
func TestInterruptedPlanIsNoPlan(t *testing.T) {
	r := startSim(t)
	tg, _ := proxied(t, r.URL, false)
	rs := engine.NewMemoryRunState()
	planApply(t, rowsWithPassword(20, "Long-Enough-1"), tg, engine.Options{RunState: rs})

	ctx, cancel := context.WithCancel(context.Background())
	tg, proxy := proxied(t, r.URL, false)
	var once sync.Once
	proxy.before = func(req *http.Request) {
		if strings.Contains(req.URL.Path, "/userroles") {
			once.Do(cancel)
		}
	}
	p, err := engine.MakePlan(ctx, rowsWithPassword(20, "Long-Enough-1"), tg, engine.Options{RunState: rs})
	if !errors.Is(err, engine.ErrInterrupted) {
		s := engine.Summary{}
		if p != nil {
			s = p.Summary()
		}
		t.Fatalf("interrupted plan: err = %v, summary %+v; want ErrInterrupted and no plan", err, s)
	}
}

func TestAcquireRefusesACancelledRun(t *testing.T) {
	l := engine.NewLimiter("cupi", 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Acquire(ctx); err == nil {
		t.Fatal("a cancelled run got a slot")
	}
}

// A password set whose answer is lost — dropped, or a proxy's 502 after
// the server committed it — is proven by TimeChanged, not resent: a real
// Unity Connection refuses a recently used value (in wording nobody can
// key on), which would fail the row every night.
func TestLostCredentialAnswerProvenByTimeChanged(t *testing.T) {
	for name, f := range map[string]fault{"502 after commit": after502, "answer lost": dropAnswer} {
		t.Run(name, func(t *testing.T) {
			r := startSim(t)
			rs := engine.NewMemoryRunState()
			tg, _ := proxied(t, r.URL, false)
			const n = 6
			if p := planApply(t, rowsWithPassword(n, "Long-Enough-1"), tg, engine.Options{RunState: rs}); len(failures(p)) > 0 {
				t.Fatalf("setup: %v", failures(p))
			}
			tg, proxy := proxied(t, r.URL, false)
			proxy.decide = func(req *http.Request, _ []byte) fault {
				if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/credential/password") {
					return f
				}
				return pass
			}
			p := planApply(t, rowsWithPassword(n, "Other-Value-22"), tg, engine.Options{RunState: rs})
			if fs := failures(p); len(fs) > 0 {
				t.Errorf("false failures: %v", fs)
			}
			if got := proxy.committed("PUT", "/credential/password"); got != n {
				t.Errorf("credential sets committed = %d, want %d (one per user)", got, n)
			}
			// The run state knows the value landed: nothing to send again.
			tg, _ = proxied(t, r.URL, false)
			p, err := engine.MakePlan(context.Background(), rowsWithPassword(n, "Other-Value-22"), tg, engine.Options{RunState: rs})
			if err != nil {
				t.Fatal(err)
			}
			if s := p.Summary(); s.Create+s.Update+s.Delete != 0 {
				t.Errorf("re-plan after lost answers: %+v, want nothing to do", s)
			}
		})
	}
}

// Creates answered 502 by a proxy after the server committed them are
// verified by their key and not sent twice.
func TestWrite502AfterCommitIsVerified(t *testing.T) {
	for _, syncWrites := range []bool{true, false} {
		t.Run(fmt.Sprintf("voss sync=%v", syncWrites), func(t *testing.T) {
			r := startSim(t)
			tg, proxy := proxied(t, r.URL, syncWrites)
			proxy.decide = func(req *http.Request, _ []byte) fault {
				if req.Method == http.MethodPost && !strings.Contains(req.URL.Path, "/export") {
					return after502
				}
				return pass
			}
			const n = 5
			p := planApply(t, rowsWithPassword(n, "Long-Enough-1"), tg, engine.Options{})
			if fs := failures(p); len(fs) > 0 {
				t.Errorf("false failures: %v", fs)
			}
			for _, path := range []string{"/api/data/User/", "/vmrest/users", "/userroles"} {
				if got := proxy.committed("POST", path); got != n {
					t.Errorf("POST %s committed %d times, want %d", path, got, n)
				}
			}
		})
	}
}

// One object whose writes always get HTTP 500 fails its own row; the
// others are done, and the run is not "unreachable".
func TestAlwaysFailingKeyFailsOnlyItsRow(t *testing.T) {
	r := startSim(t)
	tg, proxy := proxied(t, r.URL, true)
	proxy.decide = func(req *http.Request, body []byte) fault {
		if req.Method != http.MethodGet && bytes.Contains(body, []byte(`"u002"`)) {
			return refuse500
		}
		return pass
	}
	ctx := context.Background()
	o := engine.Options{Retry: engine.Retry{Attempts: 3, Base: 1, Cap: 1}}
	p, err := engine.MakePlan(ctx, rowsWithPassword(5, "Long-Enough-1"), tg, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(ctx, p, tg, o, engine.ApplyOptions{Workers: 4}); err != nil {
		t.Fatalf("Apply = %v, want the run to finish", err)
	}
	for _, op := range p.Ops {
		onBadRow := strings.HasSuffix(op.Key, "/u002") || strings.HasPrefix(op.Key, "u002")
		switch {
		case onBadRow && op.Kind == "data/User" && (op.Status != engine.Failed || !strings.Contains(op.Error, "500")):
			t.Errorf("%s %s: %s %q, want failed with the 500", op.Kind, op.Key, op.Status, op.Error)
		case !onBadRow && op.Status != engine.Done:
			t.Errorf("%s %s: %s %q, want done", op.Kind, op.Key, op.Status, op.Error)
		}
	}
	if got := proxy.committed("POST", "/api/data/User/"); got != 4 {
		t.Errorf("VOSS creates committed = %d, want 4", got)
	}
}
