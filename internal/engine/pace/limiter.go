package pace

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/bulkprov/bulkprov/targets"
)

// Default concurrency caps. CUPI serves 5 requests at once and queues the
// rest (up to 255, each for up to its queue timeout) before answering 503.
// Keeping two requests waiting beyond the 5 in service means no slot idles
// while a client turns a response around, so throughput reaches the
// server's ceiling; the adaptive limit halves at the first 503 anyway.
// VOSS throttles per user (20 requests/s by default): a token bucket
// (targets.Paced) holds that budget, and the cap only bounds the requests
// waiting on slow answers (VOSS runs 30 queue workers).
const (
	DefaultCUPIWorkers = 7
	DefaultVOSSWorkers = 16
)

// CUPISlots is Unity Connection's documented number of requests in
// service at once, shared by every client of the cluster (its own
// administration pages too).
const CUPISlots = 5

// CUPIMax is the cap on requests in flight to one Unity Connection cluster
// for a share (0 < share ≤ 1) of its slots: with the whole of them,
// DefaultCUPIWorkers (the slots, and 2 queued so none idles); with less,
// ⌈CUPISlots × share⌉ and none queued — the other slots are free, so every
// request in flight is in service.
func CUPIMax(share float64) int {
	if share >= 1 {
		return DefaultCUPIWorkers
	}
	return CUPIShareSlots(share)
}

// CUPIShareSlots is ⌈CUPISlots × share⌉: the slots of one cluster a run
// with that share keeps busy at most (0 < share ≤ 1).
func CUPIShareSlots(share float64) int {
	n := int(math.Ceil(CUPISlots*share - 1e-9)) // 5 × 0.6 is 3.0000000000000004
	return max(1, min(CUPISlots, n))
}

// DefaultVOSSRate is VOSS's documented API budget: 20 requests per second
// per user per node, every request counted (lists, GETs, polls).
const DefaultVOSSRate = 20.0

// Limiter bounds the requests in flight to one target and finds the
// server's limit by itself (AIMD): it starts at the documented service
// limit (CUPI: 5), adds about one slot per window of successes while each
// request kind's latency holds, and halves on 503/429, never going above
// Max. Latency is that of single requests as the client measures them
// (Observe), per kind (read or write) — never a chain of requests such as
// a write and its polls.
type Limiter struct {
	Name string
	Max  int

	mu       sync.Mutex
	cond     *sync.Cond
	limit    float64
	inflight int
	minLat   map[string]time.Duration // request kind -> best latency seen
	lastCut  time.Time
	maxSeen  int

	stats *Stats
}

// StartLimit is where a limiter starts: CUPI's documented 5 requests in
// service at once.
const StartLimit = 5

// NewLimiter returns a limiter for target name allowing at most max
// requests at once.
func NewLimiter(name string, max int) *Limiter {
	l := &Limiter{Name: name, Max: max, limit: math.Min(StartLimit, float64(max)), minLat: map[string]time.Duration{}, stats: newStats()}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Acquire waits for a slot. A cancelled context gets none, even when a
// slot is free: an interrupted run sends nothing more.
func (l *Limiter) Acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.inflight >= int(l.limit) {
		if err := ctx.Err(); err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() {
			l.mu.Lock()
			l.cond.Broadcast()
			l.mu.Unlock()
		})
		l.cond.Wait()
		stop()
	}
	l.inflight++
	l.maxSeen = max(l.maxSeen, l.inflight)
	return nil
}

// Release frees a slot; a throttled answer (503, 429) halves the limit,
// at most once per window so one burst of refusals counts once.
func (l *Limiter) Release(throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	if throttled {
		now := time.Now()
		best := time.Duration(0)
		for _, d := range l.minLat {
			best = max(best, d)
		}
		if now.Sub(l.lastCut) > max(best, 50*time.Millisecond) {
			l.limit = math.Max(1, l.limit/2)
			l.lastCut = now
		}
	}
	l.cond.Broadcast()
}

// adapt grows the limit after a successful request of kind whose latency
// holds: one much slower than the best of its kind means the server
// queues, so more concurrency buys nothing.
func (l *Limiter) adapt(kind string, lat time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	best, seen := l.minLat[kind]
	if !seen || lat < best {
		l.minLat[kind], best = lat, lat
	}
	if lat <= 3*best+5*time.Millisecond && l.limit < float64(l.Max) {
		l.limit = math.Min(float64(l.Max), l.limit+1/l.limit)
		l.cond.Broadcast()
	}
}

// Limit returns the current concurrency limit.
func (l *Limiter) Limit() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// Stats returns the target's request statistics.
func (l *Limiter) Stats() *Stats { return l.stats }

// Stats are request statistics for one target.
type Stats struct {
	mu        sync.Mutex
	start     time.Time
	Requests  int
	Errors    int
	Status503 int
	Status429 int
	Retries   int
	Backoff   time.Duration
	// PaceWait is the time requests waited for the target's
	// requests-per-second budget before being sent: not latency (the
	// clients take it off what they observe), reported apart.
	PaceWait  time.Duration
	latencies [latencyBuckets]uint32 // a histogram: fixed size however long the run (issue 14)
	latCount  int
	Timeline  []Tick
}

// TickWidth is the width of one timeline bucket.
const TickWidth = 250 * time.Millisecond

// Tick is one bucket (TickWidth) of a target's timeline.
type Tick struct {
	Second   int     `json:"bucket"`
	Requests int     `json:"requests"`
	LatMs    float64 `json:"latency_ms"` // mean
	Backoff  float64 `json:"backoff_s"`
	Limit    float64 `json:"limit"`
}

func newStats() *Stats { return &Stats{start: time.Now()} }

func (s *Stats) tick(now time.Time) *Tick {
	if s.start.IsZero() {
		s.start = now // a Stats not made by newStats starts at its first request
	}
	sec := int(now.Sub(s.start) / TickWidth)
	for len(s.Timeline) <= sec {
		s.Timeline = append(s.Timeline, Tick{Second: len(s.Timeline)})
	}
	return &s.Timeline[sec]
}

// Observe records one HTTP request; the clients call it through their
// Observe hooks, so every request is counted, polls included.
func (l *Limiter) Observe(method string, status int, seconds float64) {
	lat := time.Duration(seconds * float64(time.Second))
	l.stats.request(lat, status, l.Limit())
	if status > 0 && status < 400 {
		kind := "write"
		if method == "GET" {
			kind = "read"
		}
		l.adapt(kind, lat)
	}
}

func (s *Stats) request(lat time.Duration, status int, limit float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Requests++
	switch {
	case status == 503:
		s.Status503++
	case status == 429:
		s.Status429++
	case status == 0 || status >= 400:
		s.Errors++
	}
	s.latencies[latencyBucket(lat)]++
	s.latCount++
	t := s.tick(time.Now())
	t.LatMs = (t.LatMs*float64(t.Requests) + float64(lat.Microseconds())/1000) / float64(t.Requests+1)
	t.Requests++
	t.Limit = limit
}

// Waited records that a request waited d for the target's
// requests-per-second budget (targets.PacedObserved calls it).
func (l *Limiter) Waited(d time.Duration) {
	l.stats.mu.Lock()
	defer l.stats.mu.Unlock()
	l.stats.PaceWait += d
}

func (s *Stats) backoff(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Retries++
	s.Backoff += d
	s.tick(time.Now()).Backoff += d.Seconds()
}

// Percentile returns the p-th percentile latency (0..100), within 2 %:
// latencies are counted in buckets 2 % wide, not kept one by one.
func (s *Stats) Percentile(p float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latCount == 0 {
		return 0
	}
	rank := min(s.latCount-1, int(float64(s.latCount)*p/100))
	seen := 0
	for b, n := range s.latencies {
		seen += int(n)
		if seen > rank {
			return latencyOf(b)
		}
	}
	return latencyOf(latencyBuckets - 1)
}

// Latency buckets: 0 for under a microsecond, then each 2 % wider than
// the one before, up to about 48 minutes (the last holds everything
// longer).
const (
	latencyBuckets = 1100
	latencyGrowth  = 1.02
)

func latencyBucket(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	return min(latencyBuckets-1, 1+int(math.Log(us)/math.Log(latencyGrowth)))
}

// latencyOf is the middle of bucket b (geometrically).
func latencyOf(b int) time.Duration {
	if b == 0 {
		return 0
	}
	return time.Duration(math.Pow(latencyGrowth, float64(b-1)+0.5) * float64(time.Microsecond))
}

// Elapsed returns the time since the statistics started.
func (s *Stats) Elapsed() time.Duration { return time.Since(s.start) }

// Retry runs fn under the limiter with retries: throttling (503, 429) and
// transient errors are retried with capped exponential back-off and full
// jitter, honouring Retry-After; other errors are returned at once.
// Unknown-outcome errors are returned for the caller to verify.
type Retry struct {
	Attempts int           // total attempts for retryable errors
	Base     time.Duration // first back-off
	Cap      time.Duration // longest back-off
}

// DefaultRetry is the retry policy of a run.
var DefaultRetry = Retry{Attempts: 10, Base: 100 * time.Millisecond, Cap: 15 * time.Second}

// timeoutAttempts bounds the attempts of a request that times out: a
// server slow once is asked again, one that lets three requests in a row
// run out their --timeout is not answering, and waiting ten timeouts to
// say so would hold a run for minutes.
const timeoutAttempts = 3

// Do calls fn until it succeeds, fails for good, or attempts run out.
func (r Retry) Do(ctx context.Context, l *Limiter, fn func(ctx context.Context) (int, error)) error {
	var err error
	timeouts := 0
	for attempt := 0; attempt < r.Attempts; attempt++ {
		if err := l.Acquire(ctx); err != nil {
			return err
		}
		_, err = fn(ctx)
		class := targets.Classify(err)
		l.Release(err != nil && class == targets.Throttled)
		if err == nil {
			return nil
		}
		if class != targets.Throttled && class != targets.Transient {
			return err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if timeouts++; timeouts >= timeoutAttempts {
				return err
			}
		}
		ceiling := min(r.Cap, r.Base<<min(attempt, 16))
		wait := time.Duration(rand.Int64N(int64(ceiling) + 1)) // full jitter
		if ae := apiErr(err); ae != nil && ae.RetryAfter > 0 {
			// Retry-After is a floor, spread by jitter: requests throttled
			// together must not all come back at the same instant.
			wait = ae.RetryAfter + time.Duration(rand.Int64N(int64(max(ae.RetryAfter/2, r.Base))+1))
		}
		l.stats.backoff(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}
