package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

// A read that times out once is retried like any transient failure, at
// plan time and during apply: a server that is slow for one request is not
// "unreachable", and a row whose read stalled once does not fail. Every
// distinct GET here stalls past the client's timeout the first time it is
// asked.
func TestTimedOutReadIsRetried(t *testing.T) {
	r := startSim(t)
	upstream, _ := url.Parse(r.URL)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	var mu sync.Mutex
	seen := map[string]bool{}
	stalled := 0
	release := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet {
			mu.Lock()
			first := !seen[req.URL.String()]
			seen[req.URL.String()] = true
			if first {
				stalled++
			}
			mu.Unlock()
			if first {
				select { // stall past the client's timeout, answer nothing
				case <-time.After(time.Second):
				case <-release:
				}
				return
			}
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(func() { close(release); front.CloseClientConnections(); front.Close() })

	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 16, Timeout: 150 * time.Millisecond})
	cr := targets.Credentials{User: "u", Password: "p"}
	v, c := vossload.New(front.URL, hc, cr), cupi.New(front.URL, hc, cr)
	v.Nowait = false
	tg := &engine.Targets{VOSS: v, CUPI: c, VOSSLimiter: engine.NewLimiter("voss", 8), CUPILimiter: engine.NewLimiter("cupi", 5),
		ID: "test", VOSSName: front.URL, CUPIName: front.URL}
	v.Observe, c.Observe = tg.VOSSLimiter.Observe, tg.CUPILimiter.Observe
	o := engine.Options{RunState: engine.NewMemoryRunState(), Retry: engine.Retry{Attempts: 4, Base: time.Millisecond, Cap: 5 * time.Millisecond}}

	ctx := context.Background()
	p, err := engine.MakePlan(ctx, rowsWithPassword(4, "Long-Enough-1"), tg, o)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if err := engine.Apply(ctx, p, tg, o, engine.ApplyOptions{Workers: 4}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if f := failures(p); len(f) > 0 {
		t.Errorf("failed after a read timed out once: %v", f)
	}
	mu.Lock()
	defer mu.Unlock()
	if stalled == 0 {
		t.Fatal("no read stalled: the test proves nothing")
	}
	t.Logf("%d reads stalled once each", stalled)
}
