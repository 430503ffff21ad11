package engine

import "github.com/bulkprov/bulkprov/internal/engine/pace"

// The pacing room's names, as cmd and the benchmarks know them.
type (
	// Limiter bounds the requests in flight to one target (pace.Limiter).
	Limiter = pace.Limiter
	// Stats are request statistics for one target (pace.Stats).
	Stats = pace.Stats
	// Tick is one bucket of a target's timeline (pace.Tick).
	Tick = pace.Tick
	// Retry is a retry policy (pace.Retry).
	Retry = pace.Retry
)

// Concurrency caps, rate and retry policy of a run (see package pace).
const (
	DefaultCUPIWorkers = pace.DefaultCUPIWorkers
	DefaultVOSSWorkers = pace.DefaultVOSSWorkers
	DefaultVOSSRate    = pace.DefaultVOSSRate
	StartLimit         = pace.StartLimit
	TickWidth          = pace.TickWidth
)

// DefaultRetry is the retry policy of a run.
var DefaultRetry = pace.DefaultRetry

// CUPIMax is the cap on requests in flight to one Unity Connection
// cluster for a share of its slots (pace.CUPIMax).
func CUPIMax(share float64) int { return pace.CUPIMax(share) }

// CUPIShareSlots is ⌈5 × share⌉ (pace.CUPIShareSlots).
func CUPIShareSlots(share float64) int { return pace.CUPIShareSlots(share) }

// NewLimiter returns a limiter for target name allowing at most max
// requests at once (pace.NewLimiter).
func NewLimiter(name string, max int) *Limiter { return pace.NewLimiter(name, max) }
