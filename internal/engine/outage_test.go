package engine_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// A Unity Connection cluster that goes down mid-apply is said once: the
// operation that found it down fails with its own request's error, and
// every operation of the cluster not yet run is skipped "not run: Unity
// Connection default unreachable" — not failed one by one with a copy of
// the first one's error, which quoted another user's request (issue 24:
// about 900 lines, "blk30134: … PUT /users/1acba54d…/credential/pin").
func TestClusterDownMidApplyIsSaidOnce(t *testing.T) {
	const n = 12
	var cupiWrites atomic.Int32
	tg, rs, _, done := proxiedUsers(t, n, func(w http.ResponseWriter, req *http.Request, proxy http.Handler, wrote <-chan struct{}) {
		if strings.HasPrefix(req.URL.Path, "/vmrest/") && req.Method != http.MethodGet && cupiWrites.Add(1) > 3 {
			w.WriteHeader(http.StatusServiceUnavailable) // down from the fourth write on
			return
		}
		proxy.ServeHTTP(w, req)
	})
	defer done()
	o := engine.Options{RunState: rs, Retry: engine.Retry{Attempts: 2, Base: time.Millisecond, Cap: 2 * time.Millisecond}}
	p, err := engine.MakePlan(context.Background(), changedRows(n), tg, o)
	if err != nil {
		t.Fatal(err)
	}
	// One chain at a time: the fourth CUPI write finds the cluster down,
	// and no other is in flight then.
	err = engine.Apply(context.Background(), p, tg, o, engine.ApplyOptions{Workers: 1})
	if _, ok := err.(*engine.ClustersDown); !ok {
		t.Fatalf("Apply: %v, want the cluster down", err)
	}
	failed, notRun := 0, 0
	for _, op := range p.Ops {
		if op.Target != "cupi" || op.Action == engine.Noop {
			continue
		}
		switch {
		case op.Status == engine.Failed:
			failed++
			if !strings.Contains(op.Error, op.UserID) {
				t.Errorf("%s %s: its error does not quote its own request (user %s): %s", op.Kind, op.Key, op.UserID, op.Error)
			}
		case op.Status == engine.Skipped:
			notRun++
			if op.Error != "not run: Unity Connection default unreachable" {
				t.Errorf("%s %s skipped: %q", op.Kind, op.Key, op.Error)
			}
		}
	}
	if failed != 1 || notRun != n-4 {
		t.Errorf("%d CUPI operations failed, %d not run; want 1 failed (the one that found it down) and %d not run", failed, notRun, n-4)
		for _, op := range p.Ops {
			t.Log(op.Target, op.Kind, op.Key, op.Status, op.Error)
		}
	}
}
