package plan

// An operation of a plan, and the wants it comes from: values every room
// passes, with the methods that need nothing but themselves.

// Op is one operation of a plan.
//
// A plan holds about four operations per input row for the whole run, so
// Op is kept small (issue 14, TestOpSize): Action and Status are bytes side
// by side, which sets the plan file's field order.
type Op struct {
	ID          string      `json:"id"`
	Row         int         `json:"row_index"`
	Action      Action      `json:"action"`
	Status      Status      `json:"status"`
	WantIndex   uint16      `json:"-"`      // the want's index in its row: the plan's order
	flatBody    bool        `json:"-"`      // an update whose body its changes say (DeriveBody): built at write time
	Source      *Source     `json:"source"` // shared by the row's operations
	Target      string      `json:"target"`
	Cluster     string      `json:"cluster,omitempty"` // Unity Connection cluster of a CUPI operation
	Kind        string      `json:"kind"`
	Key         string      `json:"key"`
	Changes     []Change    `json:"changes,omitempty"`
	Error       string      `json:"error,omitempty"`
	Fingerprint Fingerprint `json:"fingerprint"`

	Model     string `json:"model,omitempty"`
	Hierarchy string `json:"hierarchy,omitempty"`
	Pkid      string `json:"pkid,omitempty"`
	UserID    string `json:"user_id,omitempty"`   // CUPI user ObjectId, when it exists
	ObjectID  string `json:"object_id,omitempty"` // CUPI user-role or authorization server id
	RoleID    string `json:"role_id,omitempty"`
	Template  string `json:"template,omitempty"`
	Alias     string `json:"alias,omitempty"`

	// Body holds the fields to send (never secrets); Secrets the write-only
	// values by path, filled from the inputs and never serialised. A
	// create whose changes describe its body exactly holds none: sendBody
	// derives it at write time (issue 14: the tree was held twice).
	Body    map[string]any `json:"-"`
	Secrets Secrets        `json:"-"`
	// Result of execution.
	CreatedID string `json:"created_id,omitempty"`

	// proof is what shows whether a write whose answer was lost landed;
	// nil for most operations (issue 14: Op stays in its size class).
	proof *writeProof
}

// writeProof is what shows whether an operation's write landed when its
// answer was lost.
type writeProof struct {
	// before is a credential's TimeChanged as read before its set (seed
	// 000): a set whose answer was lost landed exactly when TimeChanged
	// has moved since. nil when it was not read.
	before *string
	// tx is the VOSS transaction an asynchronous write started
	// (--voss-nowait): once it has ended, it decides.
	tx string
}

// TimeBefore returns a credential's TimeChanged read before its set, and
// whether it was read.
func (o *Op) TimeBefore() (string, bool) {
	if o.proof == nil || o.proof.before == nil {
		return "", false
	}
	return *o.proof.before, true
}

// SetTimeBefore records a credential's TimeChanged before its set.
func (o *Op) SetTimeBefore(t string) {
	if o.proof == nil {
		o.proof = &writeProof{}
	}
	o.proof.before = &t
}

// HasTimeBefore reports whether a credential's TimeChanged was read
// before its set.
func (o *Op) HasTimeBefore() bool { _, ok := o.TimeBefore(); return ok }

// TxID returns the VOSS transaction the op's write started, if any.
func (o *Op) TxID() string {
	if o.proof == nil {
		return ""
	}
	return o.proof.tx
}

// SetTxID records (or, with "", forgets) the VOSS transaction of the
// op's write.
func (o *Op) SetTxID(id string) {
	if o.proof == nil {
		if id == "" {
			return
		}
		o.proof = &writeProof{}
	}
	o.proof.tx = id
}

// Release lets go of what only the write needed, once op has run: the
// body, the secret values and the proof of its outcome. A plan holds its
// operations to the end of the run, for the report; it need not hold
// these, and no secret stays in memory longer than its write (issue 14).
func (o *Op) Release() {
	o.Body, o.flatBody = nil, false
	o.Secrets.Clear()
	o.proof = nil
}

// DeriveBody makes op an update whose body is not held: each field its
// non-secret changes set, by name (no dotted path, no index), is what it
// sends (SendBody).
func (o *Op) DeriveBody() {
	o.Action, o.Body, o.flatBody = Update, nil, true
}

// Src returns the input row the op comes from (the zero Source if it has
// none). Source is a pointer shared by a row's operations (issue 14).
func (o *Op) Src() Source {
	if o.Source == nil {
		return Source{}
	}
	return *o.Source
}

// Writes reports whether the op changes anything on a server.
func (o *Op) Writes() bool { return o.Action != Noop && o.Error == "" }

// SendBody returns the fields op sends, secrets left out: its Body, or
// for a create planned without one (its changes describe it exactly:
// derivable) or an update planned with DeriveBody, the tree its changes
// build. The caller may change what it
// gets only when op.Body is nil.
func (o *Op) SendBody() map[string]any {
	if o.Body != nil || o.Action != Create && !o.flatBody {
		return o.Body
	}
	body := make(map[string]any, len(o.Changes))
	for _, c := range o.Changes {
		if !c.Secret {
			SetDotted(body, c.Field, c.New)
		}
	}
	return body
}

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

// CUPIDetails returns w's CUPI details, all empty when it has none.
func (w *Want) CUPIDetails() CUPIWant {
	if w.CUPI == nil {
		return CUPIWant{}
	}
	return *w.CUPI
}

// Row is one input row's wants, with where it came from.
type Row struct {
	Source Source
	Model  string // the row's model, e.g. "data/User"
	Wants  []Want
}
