package targets

import (
	"net/http"

	"golang.org/x/time/rate"
)

// Paced returns a transport that waits for a token of lim before sending
// each request, so every request to a target — lists, GETs, writes,
// transaction polls — keeps within a requests-per-second budget such as
// VOSS's 20 per second per user. A cap on concurrency cannot hold such a
// budget: fast answers would let any number through per second. The
// waiting honours the request's context.
func Paced(rt http.RoundTripper, lim *rate.Limiter) http.RoundTripper {
	if lim == nil {
		return rt
	}
	return &paced{rt: rt, lim: lim}
}

type paced struct {
	rt  http.RoundTripper
	lim *rate.Limiter
}

func (p *paced) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := p.lim.Wait(req.Context()); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return p.rt.RoundTrip(req)
}
