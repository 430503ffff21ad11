package store

import "github.com/bulkprov/bulkprov/internal/engine/plan"

// The vocabulary the run's files are written in (package plan).
type (
	Action = plan.Action
	Status = plan.Status
	Change = plan.Change
	Source = plan.Source
)

const (
	Create = plan.Create
	Done   = plan.Done
	Failed = plan.Failed
)
