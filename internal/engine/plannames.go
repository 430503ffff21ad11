package engine

import "github.com/bulkprov/bulkprov/internal/engine/plan"

// The vocabulary room's names (package plan), as cmd and the report know
// them.
type (
	// Secret is one write-only value an operation sends (plan.Secret).
	Secret = plan.Secret
	// Secrets holds an operation's write-only values (plan.Secrets).
	Secrets = plan.Secrets
)

// SecretsOf returns Secrets holding value at path (plan.SecretsOf).
func SecretsOf(path, value string) Secrets { return plan.SecretsOf(path, value) }

type (
	// Action is what an operation does (plan.Action).
	Action = plan.Action
	// Status is where an operation stands (plan.Status).
	Status = plan.Status
	// Change is one field's change (plan.Change).
	Change = plan.Change
	// Source is where a row came from (plan.Source).
	Source = plan.Source
	// Fingerprint identifies the state an operation was planned against
	// (plan.Fingerprint).
	Fingerprint = plan.Fingerprint
	// Warning is what a plan found about a row that is not a failure
	// (plan.Warning).
	Warning = plan.Warning
)

// Actions and statuses of an operation.
const (
	Create = plan.Create
	Update = plan.Update
	Delete = plan.Delete
	Noop   = plan.Noop

	Planned = plan.Planned
	Done    = plan.Done
	Failed  = plan.Failed
	Skipped = plan.Skipped
)

// SecretMarker stands for a write-only value in plans and reports.
const SecretMarker = plan.SecretMarker

// CopyTree returns a deep copy of a field tree (plan.CopyTree).
func CopyTree(m map[string]any) map[string]any { return plan.CopyTree(m) }

type (
	// Op is one operation of a plan (plan.Op).
	Op = plan.Op
	// Want is the desired state of one object (plan.Want).
	Want = plan.Want
	// VOSSWant is where a VOSS object is and how it is found (plan.VOSSWant).
	VOSSWant = plan.VOSSWant
	// CUPIWant holds the details of a CUPI want (plan.CUPIWant).
	CUPIWant = plan.CUPIWant
	// Row is one input row's wants (plan.Row).
	Row = plan.Row
	// Pair is one field's name and string value (plan.Pair).
	Pair = plan.Pair
	// Pairs holds a few fields' string values (plan.Pairs).
	Pairs = plan.Pairs
)
