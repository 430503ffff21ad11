package kinds

import (
	"regexp"
	"strings"
	"sync"

	"golang.org/x/time/rate"

	"github.com/bulkprov/bulkprov/internal/engine/pace"
	"github.com/bulkprov/bulkprov/internal/engine/store"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// Targets are the clients of a run, each with its limiter.
type Targets struct {
	VOSS        VOSSAPI
	CUPI        CUPIAPI
	VOSSLimiter *Limiter
	CUPILimiter *Limiter
	// ID names the targets of a run (it binds a checkpoint to them).
	ID string
	// VOSSPace, when set, paces every VOSS request (a token bucket at
	// the server's requests-per-second budget); the summary reports the
	// time requests waited on it.
	VOSSPace *rate.Limiter
	// Clusters are the Unity Connection clusters besides the default one
	// (CUPI, CUPILimiter); see Cluster.
	Clusters        map[string]*Cluster
	clusterPrefixes string
	viewsMu         sync.Mutex
	views           map[string]*Targets
	// VOSSName and CUPIName key the run state: the normalised base URLs
	// (NormalizeURL), so any spelling of a server shares one memory.
	VOSSName, CUPIName string
}

// SecretScope is the run-state key of a secret: the normalised target,
// the kind, the object's server identity and the field path. It follows
// the object, not the input file that named it.
func (t *Targets) SecretScope(op *Op, path string) string {
	return t.scopeTarget(op) + "|" + op.Kind + "|" + ObjectID(op) + "|" + path
}

// scopeTarget names op's target in a secret's scope: its normalised name,
// else the targets' ID.
func (t *Targets) scopeTarget(op *Op) string {
	name := t.CUPIName
	if op.Target == "voss" {
		name = t.VOSSName
	}
	if name == "" {
		name = t.ID
	}
	return name
}

// CreateScope is the scope of a secret a create sends, before the object
// has a server id: by its key. A create's journal intent carries its
// secrets' keyed hashes under it, so a resumed run that finds the object
// made by a create whose answer was lost knows what that create set
// (Options.Landed).
func (t *Targets) CreateScope(op *Op, path string) string {
	return t.scopeTarget(op) + "|" + op.Kind + "|create:" + strings.ToLower(op.Key) + "|" + path
}

// LimiterOf returns the limiter of target name.
func (t *Targets) LimiterOf(name string) *Limiter {
	if name == "cupi" {
		return t.CUPILimiter
	}
	return t.VOSSLimiter
}

// Options tune planning and applying.
type Options struct {
	ForceSecrets bool
	RunState     *RunState
	Retry        Retry
	ReadWorkers  int // per-object reads in flight; 0: the target limiter's maximum
	ExactRoles   bool
	// OneTime, when set, gives VOSS users created without a password a
	// generated one-time password (and "change password on next login").
	OneTime *OneTimePasswords
	// ReusePatterns recognise, in a credential refusal's message, the
	// server saying the value was used recently. The wording differs by
	// version and locale and is only ever a hint in an error message:
	// whether a set landed is proven by TimeChanged.
	ReusePatterns []*regexp.Regexp
	// Backout, when set, receives before each write what undoes it.
	Backout *Backout
	// ReleaseRows lets MakePlan drop each row's wants once it is diffed,
	// for a caller that is done with the rows: the plan and the rows it
	// came from are not both held whole.
	ReleaseRows bool
	// ForReview plans only to show (the plan command): each operation lets
	// go of what only its write would need — the body, the secret values —
	// as it is planned. Its changes, and so every report and plan file,
	// are the same. Never for a plan that is applied.
	ForReview bool
	// SkipUnkept leaves alone the fields an earlier run wrote the same
	// value to and the server did not keep (--skip-unkept).
	SkipUnkept bool
	// NoElsewhere leaves out the lookup of the VOSS users a plan creates
	// under other hierarchies (elsewhere.go): a revert plan recreates
	// what the run deleted, and warns of nothing.
	NoElsewhere bool
	// Landed holds the keyed hashes, by CreateScope, of the secrets sent
	// by the creates an interrupted run left pending (intent, no outcome):
	// an object such a create made holds them, so they are not sent
	// again (Journal.Landed).
	Landed map[string]string
}

// DefaultReusePatterns are the reuse-refusal wordings bulkprov knows.
var DefaultReusePatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)used (recently|before|previously)|histor|reuse|re-use|previous|recent|last \d+`),
}

// Defaults fills what o leaves unset: the retry policy, a run state in
// memory, the reuse wordings.
func (o *Options) Defaults() {
	if o.Retry.Attempts == 0 {
		o.Retry = pace.DefaultRetry
	}
	if o.RunState == nil {
		o.RunState = store.NewMemoryRunState()
	}
	if o.ReusePatterns == nil {
		o.ReusePatterns = DefaultReusePatterns
	}
}

// State is the current state read from the targets: what the kinds
// diff against. Filled by ReadState; read-only once it returns.
type State struct {
	mu        sync.Mutex
	nodes     map[string]bool
	vossRoles map[string]map[string]bool // hierarchy -> role names
	voss      map[string]*voss.Instance  // model|hier|key (lower) -> instance
	byPkid    map[string]*voss.Instance
	// elsewhere holds, by model|lower key, where the instances of the
	// keys the rows create live under other hierarchies (elsewhere.go).
	elsewhere map[string][]placed
	// cupiState is the Unity Connection cluster a diff looks at (a view,
	// see view); clusters holds every cluster read.
	*cupiState
	clusters map[string]*cupiState
}

// cupiState is what was read from one Unity Connection cluster.
type cupiState struct {
	mu        sync.Mutex
	users     map[string]cupi.Object   // lower alias -> user
	roles     map[string]cupi.Object   // lower role name -> role
	policies  map[string]cupi.Object   // lower display name -> policy
	templates map[string]bool          // lower alias
	authz     map[string]cupi.Object   // lower display name
	userRoles map[string][]cupi.Object // user id -> user roles
	creds     map[string]cupi.Object   // user id|kind -> settings
	// down is why the cluster could not be read (unreachable, access
	// refused, no URL): its operations fail, the other clusters' go on.
	down error
}

func newCUPIState() *cupiState {
	return &cupiState{users: map[string]cupi.Object{}, roles: map[string]cupi.Object{}, policies: map[string]cupi.Object{},
		templates: map[string]bool{}, authz: map[string]cupi.Object{}, userRoles: map[string][]cupi.Object{}, creds: map[string]cupi.Object{}}
}

// ClusterViews returns each cluster's view of the state, and the
// clusters that could not be read, with why.
func (st *State) ClusterViews() (map[string]*State, map[string]error) {
	views := map[string]*State{}
	var down map[string]error
	for name, cs := range st.clusters {
		views[name] = st.View(name)
		if cs.down != nil {
			if down == nil {
				down = map[string]error{}
			}
			down[name] = cs.down
		}
	}
	return views, down
}

// View is the state as a diff of cluster's wants sees it: the shared VOSS
// state and that cluster's CUPI state.
func (st *State) View(cluster string) *State {
	cs := st.clusters[ClusterName(cluster)]
	if cs == nil {
		cs = newCUPIState()
	}
	return &State{nodes: st.nodes, vossRoles: st.vossRoles, voss: st.voss, byPkid: st.byPkid, elsewhere: st.elsewhere, cupiState: cs, clusters: st.clusters}
}

func vkey(model, hier, key string) string {
	return model + "|" + strings.ToLower(hier) + "|" + strings.ToLower(key)
}
