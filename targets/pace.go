package targets

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Paced returns a transport that waits for a token of lim before sending
// each request, so every request to a target — lists, GETs, writes,
// transaction polls — keeps within a requests-per-second budget such as
// VOSS's 20 per second per user. A cap on concurrency cannot hold such a
// budget: fast answers would let any number through per second. The
// waiting honours the request's context.
func Paced(rt http.RoundTripper, lim *rate.Limiter) http.RoundTripper {
	return PacedObserved(rt, lim, nil)
}

// PacedObserved is Paced that also tells waited how long each request
// waited for its token (the run's time spent keeping the budget), and
// the request's wait slot (WithPaceWait), so a client measures the
// server's latency without it.
func PacedObserved(rt http.RoundTripper, lim *rate.Limiter, waited func(time.Duration)) http.RoundTripper {
	if lim == nil {
		return rt
	}
	return &paced{rt: rt, lim: lim, waited: waited}
}

type paced struct {
	rt     http.RoundTripper
	lim    *rate.Limiter
	waited func(time.Duration)
}

func (p *paced) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	err := p.lim.Wait(req.Context())
	d := time.Since(start)
	if slot, ok := req.Context().Value(paceWaitKey{}).(*atomic.Int64); ok {
		slot.Add(int64(d))
	}
	if p.waited != nil {
		p.waited(d)
	}
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return p.rt.RoundTrip(req)
}

type paceWaitKey struct{}

// WithPaceWait returns ctx with a slot a paced transport adds each wait
// for the budget of a request made with it to, and what reads the sum: a
// client subtracts it from the time it measures, so latency is the
// server's, not the budget's.
func WithPaceWait(ctx context.Context) (context.Context, func() time.Duration) {
	slot := new(atomic.Int64)
	return context.WithValue(ctx, paceWaitKey{}, slot), func() time.Duration { return time.Duration(slot.Load()) }
}
