// Package simkit holds what the VOSS and CUPI simulators share: Basic
// authentication, fault injection (503, 429 with Retry-After, connections
// dropped after a write committed, writes committed and then answered with
// a proxy's 5xx, latency spikes, failing keys, routes refused with 403) and
// the per-key write counter that lets tests prove there were no duplicates.
//
// It imports nothing from bulkprov: the simulators stay independent of the
// clients they check.
package simkit

import (
	"crypto/subtle"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults configures injected failures. Rates are probabilities in 0..1.
type Faults struct {
	Rate503         float64       // answer 503 before doing anything
	Rate429         float64       // answer 429 with Retry-After before doing anything
	RetryAfter      time.Duration // Retry-After sent with 429 (default 1s)
	DropAfterCommit float64       // apply a write, then drop the connection without answering
	SpikeRate       float64       // requests that take SpikeFactor times the service time
	SpikeFactor     float64
	// FailAfterCommit is the share of writes that are applied and then
	// answered with FailAfterCommitStatus (default 502), as a proxy that
	// timed out on a server that went on to commit would answer.
	FailAfterCommit       float64
	FailAfterCommitStatus int
	FailKeys              map[string]int // business keys whose writes get this status, uncommitted
	// Forbid lists routes refused with 403 after authentication: each is a
	// path prefix ("/vmrest/credentialpolicies") or a method and a path
	// prefix ("POST /api/data/User").
	Forbid []string
	Seed   uint64
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

// Forbidden reports whether r's route is one of the Forbid entries.
func (in *Injector) Forbidden(r *http.Request) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return Forbidden(in.f.Forbid, r.Method, r.URL.Path)
}

// Forbidden reports whether method and path match one of rules, each a
// path prefix or "METHOD path-prefix".
func Forbidden(rules []string, method, path string) bool {
	for _, rule := range rules {
		rule = strings.TrimSpace(rule)
		m, p, ok := strings.Cut(rule, " ")
		if !ok {
			m, p = "", rule
		}
		if p != "" && (m == "" || strings.EqualFold(m, method)) && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// Serve runs h; for writes, with the drop-after-commit probability, it
// lets the write happen and then drops the connection unanswered, and
// with the fail-after-commit probability it lets the write happen and
// answers with a proxy's 5xx instead of the server's answer.
func (in *Injector) Serve(w http.ResponseWriter, r *http.Request, h http.Handler) {
	in.mu.Lock()
	drop, failRate, failStatus := in.f.DropAfterCommit, in.f.FailAfterCommit, in.f.FailAfterCommitStatus
	in.mu.Unlock()
	if r.Method == http.MethodGet {
		h.ServeHTTP(w, r)
		return
	}
	if !in.roll(drop) {
		if !in.roll(failRate) {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code >= 300 {
			copyRecorded(w, rec) // the server refused: the proxy passes that on
			return
		}
		if failStatus == 0 {
			failStatus = http.StatusBadGateway
		}
		ProxyError(w, failStatus)
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

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// ProxyError answers as a reverse proxy in front of the server would: an
// HTML page, not the API's error format.
func ProxyError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	text := strconv.Itoa(status) + " " + http.StatusText(status)
	_, _ = io.WriteString(w, "<html>\r\n<head><title>"+text+"</title></head>\r\n<body>\r\n<center><h1>"+text+"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
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
