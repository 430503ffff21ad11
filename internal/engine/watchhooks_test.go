package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/simkit"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

// Every request a client begins it ends exactly once — answered, refused,
// retried, dropped, or its answer's body read and closed — so a watchdog
// counting what a server still owes (bulkprov's "no answer for …") never
// drifts: after a run with injected 503s, 429s and dropped answers, sync
// and nowait, both counts are back at zero.
func TestClientHooksBalance(t *testing.T) {
	for _, nowait := range []bool{false, true} {
		r, err := simserve.Start(simserve.Options{User: "u", Password: "p",
			Faults: simkit.Faults{Rate503: 0.1, Rate429: 0.05, RetryAfter: time.Millisecond, DropAfterCommit: 0.1, Seed: 7}})
		if err != nil {
			t.Fatal(err)
		}
		hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 16})
		cr := targets.Credentials{User: "u", Password: "p"}
		v, c := vossload.New(r.URL, hc, cr), cupi.New(r.URL, hc, cr)
		v.Nowait = nowait
		tg := &engine.Targets{VOSS: v, CUPI: c, VOSSLimiter: engine.NewLimiter("voss", 8), CUPILimiter: engine.NewLimiter("cupi", 5), ID: "test"}
		v.Observe, c.Observe = tg.VOSSLimiter.Observe, tg.CUPILimiter.Observe
		var begun, ended, owed atomic.Int64
		for _, h := range []struct{ begin, end *func() }{{&v.Begin, &v.End}, {&c.Begin, &c.End}} {
			*h.begin = func() { begun.Add(1); owed.Add(1) }
			*h.end = func() {
				ended.Add(1)
				if owed.Add(-1) < 0 {
					t.Error("a request ended more often than it began")
				}
			}
		}
		o := engine.Options{RunState: engine.NewMemoryRunState(), Retry: engine.Retry{Attempts: 8, Base: time.Millisecond, Cap: 5 * time.Millisecond}}
		p, err := engine.MakePlan(context.Background(), userRows(30, false), tg, o)
		if err != nil {
			t.Fatal(err)
		}
		_ = engine.Apply(context.Background(), p, tg, o, engine.ApplyOptions{Workers: 8})
		r.Close()
		if begun.Load() == 0 || begun.Load() != ended.Load() {
			t.Errorf("nowait %v: %d requests begun, %d ended", nowait, begun.Load(), ended.Load())
		}
	}
}
