package kinds

import (
	"github.com/bulkprov/bulkprov/internal/engine/pace"
	"github.com/bulkprov/bulkprov/internal/engine/store"
)

// The names of the rooms below, as the kinds use them.
type (
	Limiter       = pace.Limiter
	Retry         = pace.Retry
	Entry         = store.Entry
	RunState      = store.RunState
	Backout       = store.Backout
	BackoutEntry  = store.BackoutEntry
	BackoutHeader = store.BackoutHeader
	BackoutRole   = store.BackoutRole
)

// NewLimiter returns a limiter for target name (pace.NewLimiter).
func NewLimiter(name string, max int) *Limiter { return pace.NewLimiter(name, max) }
