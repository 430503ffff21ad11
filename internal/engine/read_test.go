package engine_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// The CUPI user list is read a page at a time, the pages after the first
// at once: a proxy holds each later page until two are in flight (page
// after page would wait out the hold), and every user on every page is
// found — the plan creates none of them again.
func TestCUPIUserPagesReadAtOnce(t *testing.T) {
	const n = 23
	var mu sync.Mutex
	inFlight, most := 0, 0
	both := make(chan struct{})
	var once sync.Once
	tg, rs, _, done := proxiedUsers(t, n, func(w http.ResponseWriter, req *http.Request, proxy http.Handler, _ <-chan struct{}) {
		later := req.URL.Path == "/vmrest/users" && req.URL.Query().Get("pageNumber") != "1"
		if later {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			if inFlight >= 2 {
				once.Do(func() { close(both) })
			}
			mu.Unlock()
			select {
			case <-both:
			case <-time.After(2 * time.Second):
			}
		}
		proxy.ServeHTTP(w, req)
		if later {
			mu.Lock()
			inFlight--
			mu.Unlock()
		}
	})
	defer done()
	tg.CUPI.(*cupi.Client).PageSize = 5
	p, err := engine.MakePlan(context.Background(), userRows(n, false), tg, engine.Options{RunState: rs})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		if op.Action == engine.Create || op.Status == engine.Failed {
			t.Errorf("%s %s: %s %s %s (a user on a later page was not found)", op.Kind, op.Key, op.Action, op.Status, op.Error)
		}
	}
	if most < 2 {
		t.Errorf("at most %d later pages in flight at once, want them read at once", most)
	}
	if len(p.Ops) < 3*n {
		t.Errorf("%d operations for %d users", len(p.Ops), n)
	}
}
