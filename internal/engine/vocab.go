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
