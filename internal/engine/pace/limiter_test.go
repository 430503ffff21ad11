package pace

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/targets"
)

func TestLimiterAIMD(t *testing.T) {
	l := NewLimiter("cupi", 7)
	if l.Limit() != 5 {
		t.Fatalf("start limit %v, want CUPI's documented 5", l.Limit())
	}
	for i := 0; i < 50; i++ {
		_ = l.Acquire(context.Background())
		l.Observe("GET", 200, 0.010)
		l.Release(false)
	}
	if l.Limit() != 7 {
		t.Fatalf("after successes limit %v, want the cap 7", l.Limit())
	}
	_ = l.Acquire(context.Background())
	l.Release(true)
	if l.Limit() != 3.5 {
		t.Fatalf("after a 503 limit %v, want halved to 3.5", l.Limit())
	}
	_ = l.Acquire(context.Background())
	l.Release(true)
	if l.Limit() != 3.5 {
		t.Fatalf("a second 503 in the same window halved again: %v", l.Limit())
	}
	// Latency far above the best seen for its kind means the server
	// queues: no growth. A write slower than reads is not queueing.
	before := l.Limit()
	l.Observe("GET", 200, 0.500)
	if l.Limit() != before {
		t.Fatalf("grew on a slow read: %v → %v", before, l.Limit())
	}
	l.Observe("PUT", 204, 0.200)
	if l.Limit() <= before {
		t.Fatalf("a write's first latency held back growth: %v", l.Limit())
	}
}

func TestLimiterBoundsInFlight(t *testing.T) {
	l := NewLimiter("x", 1)
	_ = l.Acquire(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second acquire at limit 1: %v, want to wait until the context ends", err)
	}
}

func TestRetryHonoursRetryAfterAndStopsOnPermanent(t *testing.T) {
	l := NewLimiter("x", 2)
	r := Retry{Attempts: 3, Base: time.Millisecond, Cap: 5 * time.Millisecond}
	calls := 0
	start := time.Now()
	err := r.Do(context.Background(), l, func(context.Context) (int, error) {
		calls++
		if calls == 1 {
			return 429, &targets.APIError{Status: 429, RetryAfter: 50 * time.Millisecond}
		}
		return 200, nil
	})
	if err != nil || calls != 2 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("err %v calls %d after %v: want one retry after Retry-After", err, calls, time.Since(start))
	}
	calls = 0
	err = r.Do(context.Background(), l, func(context.Context) (int, error) {
		calls++
		return 400, &targets.APIError{Status: 400, Message: "bad"}
	})
	if err == nil || calls != 1 {
		t.Fatalf("a 400 was retried: calls %d", calls)
	}
	calls = 0
	err = r.Do(context.Background(), l, func(context.Context) (int, error) {
		calls++
		return 503, &targets.APIError{Status: 503}
	})
	if err == nil || calls != 3 || l.Stats().Retries == 0 {
		t.Fatalf("503s: calls %d err %v", calls, err)
	}
}

// TestPercentileWithinTwoPercent checks the latency histogram against the
// exact percentiles of the same samples.
func TestPercentileWithinTwoPercent(t *testing.T) {
	s := newStats()
	var all []time.Duration
	for i := 1; i <= 5000; i++ {
		d := time.Duration(i*i) * time.Microsecond // 1 µs .. 25 s, skewed
		all = append(all, d)
		s.request(d, 200, 5)
	}
	for _, p := range []float64{0, 50, 95, 99, 100} {
		exact := all[min(len(all)-1, int(float64(len(all))*p/100))]
		got := s.Percentile(p)
		if diff := math.Abs(float64(got-exact)) / float64(exact); diff > 0.02 {
			t.Errorf("p%v = %v, exact %v (%.1f%% off)", p, got, exact, 100*diff)
		}
	}
	if got := newStats().Percentile(50); got != 0 {
		t.Errorf("no requests: p50 = %v", got)
	}
}

// A request that times out is retried, but a server that lets three in a
// row run out their timeout is given up on, however many attempts
// throttling would get; the run's own cancellation is never retried.
func TestRetryBoundsTimeouts(t *testing.T) {
	r := Retry{Attempts: 10, Base: time.Millisecond, Cap: time.Millisecond}
	timeout := fmt.Errorf("GET /x: %w", context.DeadlineExceeded)
	tests := []struct {
		name      string
		fails     int // calls that fail before one succeeds
		err       error
		wantCalls int
		wantErr   bool
	}{
		{"one timeout, then an answer", 1, timeout, 2, false},
		{"two timeouts, then an answer", 2, timeout, 3, false},
		{"a server that never answers", 100, timeout, timeoutAttempts, true},
		{"the run cancelled", 100, context.Canceled, 1, true},
		{"throttled, more than three times", 5, &targets.APIError{Status: 503}, 6, false},
	}
	for _, tc := range tests {
		calls := 0
		err := r.Do(context.Background(), NewLimiter("x", 2), func(context.Context) (int, error) {
			calls++
			if calls <= tc.fails {
				return 0, tc.err // Do decides by the error alone
			}
			return 200, nil
		})
		if calls != tc.wantCalls || (err != nil) != tc.wantErr {
			t.Errorf("%s: %d calls, err %v; want %d calls, error %v", tc.name, calls, err, tc.wantCalls, tc.wantErr)
		}
	}
}

// A Stats made as a zero value (not by newStats) starts its timeline at
// its first request, not at year 1: one bucket, not billions.
func TestZeroStatsTimeline(t *testing.T) {
	var s Stats
	s.tick(time.Now())
	if len(s.Timeline) != 1 {
		t.Fatalf("timeline of %d buckets after one request", len(s.Timeline))
	}
}
