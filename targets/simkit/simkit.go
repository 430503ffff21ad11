// Package simkit holds what the VOSS and CUPI simulators share: Basic
// authentication, fault injection (503, 429 with Retry-After, connections
// dropped after a write committed, latency spikes, failing keys) and the
// per-key write counter that lets tests prove there were no duplicates.
package simkit

import (
	"crypto/subtle"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Faults configures injected failures. Rates are probabilities in 0..1.
type Faults struct {
	Rate503         float64       // answer 503 before doing anything
	Rate429         float64       // answer 429 with Retry-After before doing anything
	RetryAfter      time.Duration // Retry-After sent with 429 (default 1s)
	DropAfterCommit float64       // apply a write, then drop the connection without answering
	// FailAfterCommit is the share of writes applied and then answered
	// with FailAfterCommitStatus (default 502), as a proxy that timed out
	// on the server does.
	FailAfterCommit       float64
	FailAfterCommitStatus int
	SpikeRate             float64 // requests that take SpikeFactor times the service time
	SpikeFactor           float64
	FailKeys              map[string]int // business keys whose writes get this status
	Seed                  uint64
}

// Injector decides, per request, which fault to inject.
type Injector struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
}

// NewInjector returns an injector for f.
func NewInjector(f Faults) *Injector {
	return &Injector{f: f, rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))}
}

// Set replaces the fault configuration.
func (in *Injector) Set(f Faults) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.f = f
}

func (in *Injector) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.Float64() < p
}

// Before injects 503 or 429 answers; it reports whether it answered.
func (in *Injector) Before(w http.ResponseWriter, write503 func(w http.ResponseWriter)) bool {
	in.mu.Lock()
	f := in.f
	in.mu.Unlock()
	if in.roll(f.Rate503) {
		write503(w)
		return true
	}
	if in.roll(f.Rate429) {
		ra := f.RetryAfter
		if ra == 0 {
			ra = time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
		http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
		return true
	}
	return false
}

// Spike returns how long a request's service time is multiplied by.
func (in *Injector) Spike() float64 {
	in.mu.Lock()
	f := in.f
	in.mu.Unlock()
	if f.SpikeFactor > 1 && in.roll(f.SpikeRate) {
		return f.SpikeFactor
	}
	return 1
}

// FailKey returns the status to answer for a write to key, or 0.
func (in *Injector) FailKey(key string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.f.FailKeys[key]
}

// Serve runs h; for writes, with the drop-after-commit probability, it
// lets the write happen and then drops the connection unanswered.
func (in *Injector) Serve(w http.ResponseWriter, r *http.Request, h http.Handler) {
	in.mu.Lock()
	rate, failRate, failStatus := in.f.DropAfterCommit, in.f.FailAfterCommit, in.f.FailAfterCommitStatus
	in.mu.Unlock()
	if r.Method == http.MethodGet {
		h.ServeHTTP(w, r)
		return
	}
	if in.roll(failRate) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if failStatus == 0 {
			failStatus = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(failStatus)
		_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(failStatus) + "</title></head><body>upstream timed out</body></html>"))
		return
	}
	if !in.roll(rate) {
		h.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // drops the connection in net/http
}

// BasicAuth checks Basic credentials, answering 401 with deny when wrong.
func BasicAuth(r *http.Request, user, pass string) bool {
	u, p, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(u), []byte(user)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(pass)) == 1
}

// Writes counts committed writes per business key.
type Writes struct {
	mu sync.Mutex
	m  map[string]int
}

// Add counts one committed write to key.
func (w *Writes) Add(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]int{}
	}
	w.m[key]++
}

// Snapshot returns a copy of the counts.
func (w *Writes) Snapshot() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.m))
	for k, v := range w.m {
		out[k] = v
	}
	return out
}

// Total returns the number of committed writes.
func (w *Writes) Total() int {
	n := 0
	for _, v := range w.Snapshot() {
		n += v
	}
	return n
}

// Sleep waits d scaled by factor, or until the request is cancelled.
func Sleep(r *http.Request, d time.Duration, factor float64) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(time.Duration(float64(d) * factor))
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}
