package engine

import "github.com/bulkprov/bulkprov/internal/engine/kinds"

// The kinds room's names (package kinds), as cmd, transform and the
// report know them.
type (
	Targets          = kinds.Targets
	Cluster          = kinds.Cluster
	Options          = kinds.Options
	VOSSAPI          = kinds.VOSSAPI
	CUPIAPI          = kinds.CUPIAPI
	FatalError       = kinds.FatalError
	ClustersDown     = kinds.ClustersDown
	OneTimePasswords = kinds.OneTimePasswords
)

// Kinds of object an operation acts on (the report's "kind").
const (
	KindUser     = kinds.KindUser
	KindAdminREL = kinds.KindAdminREL
	KindCUPIUser = kinds.KindCUPIUser
	KindUserRole = kinds.KindUserRole
	KindPassword = kinds.KindPassword
	KindPIN      = kinds.KindPIN
	KindAuthz    = kinds.KindAuthz
)

// DefaultCluster names the Unity Connection of --cupi; DefaultTemplate
// is CUPI's default user template alias.
const (
	DefaultCluster  = kinds.DefaultCluster
	DefaultTemplate = kinds.DefaultTemplate
)

// DefaultReusePatterns are the reuse-refusal wordings bulkprov knows.
var DefaultReusePatterns = kinds.DefaultReusePatterns

// LimiterName names the limiter of cluster name (kinds.LimiterName).
func LimiterName(name string) string { return kinds.LimiterName(name) }

// NewOneTimePasswords returns an empty generator (kinds.NewOneTimePasswords).
func NewOneTimePasswords() *OneTimePasswords { return kinds.NewOneTimePasswords() }
