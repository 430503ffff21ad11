package engine

// Want is the desired state of one object (or, for KindUserRole, of a
// user's set of roles).
//
// A row holds its wants until it is planned, four or five for a data/User
// row, so Want keeps inline only what most kinds set; the rest is behind
// VOSS and CUPI (issue 14). TestWantSize pins its size.
type Want struct {
	Target string // "voss" or "cupi"
	Kind   string
	Key    string // business key shown in reports

	// Alias is the CUPI user's alias. Cluster names the Unity Connection
	// cluster of a CUPI want (DefaultCluster for --cupi).
	Alias   string
	Cluster string

	Err string // this part of the row cannot be done

	// Fields are the fields the row names: a nested tree for VOSS, flat
	// CUPI field names to string values for CUPI. Secrets hold the
	// write-only values by path (most wants hold none or one); they never
	// appear in Fields.
	Fields  map[string]any
	Secrets Secrets

	Roles []string // KindUserRole: CUPI role names

	Delete     bool // the object must be absent (roles: must not be held)
	MustExist  bool // modify: an absent object is an error, not a create
	ExactRoles bool // KindUserRole: remove roles not listed

	// VOSS is where a VOSS object is and how it is found: set on every
	// VOSS want, and on a role delete that reads the VOSS user's role
	// (CUPIWant.RolesOf). Nil otherwise.
	VOSS *VOSSWant
	// CUPI holds the CUPI details only some wants set; nil when none is.
	CUPI *CUPIWant
}

// VOSSWant is where a VOSS object is and how it is found.
type VOSSWant struct {
	Model     string
	Hierarchy string
	KeyValue  string // the business key field's value
	SearchKey string // the key to find the current instance by, when renaming
	Pkid      string // # Unique Identifier
}

// CUPIWant holds the details of a CUPI want that only some kinds, or few
// rows, set.
type CUPIWant struct {
	// KindCUPIUser
	Template     string // user template for a create
	CreateFields Pairs  // body of a CUPI user create, sent in name order
	NoCreate     string // why the CUPI user cannot be created when missing

	// RolesOf maps the VOSS user's current role to CUPI role names, for a
	// role delete that does not name the role: the VOSS user is the
	// want's Alias at VOSS.Hierarchy.
	RolesOf func(vossRole string) []string

	PolicyName string // credentials: the policy display name to resolve

	// ClusterHierarchy is the hierarchy that matched no configured
	// cluster, for the error when there is no --cupi.
	ClusterHierarchy string
}

// cupi returns w's CUPI details, all empty when it has none.
func (w *Want) cupi() CUPIWant {
	if w.CUPI == nil {
		return CUPIWant{}
	}
	return *w.CUPI
}

// DefaultTemplate is CUPI's default user template alias.
const DefaultTemplate = "voicemailusertemplate"

// Row is one input row's wants, with where it came from.
type Row struct {
	Source Source
	Model  string // the row's model, e.g. "data/User"
	Wants  []Want
}
