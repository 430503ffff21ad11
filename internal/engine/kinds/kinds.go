package kinds

import (
	"context"
	"fmt"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// Kinds of object an operation acts on (the report's "kind").
const (
	KindUser     = "data/User"
	KindAdminREL = "relation/HcsAdminUserREL"
	KindCUPIUser = "cupi/user"
	KindUserRole = "cupi/userrole"
	KindPassword = "cupi/credential/password"
	KindPIN      = "cupi/credential/pin"
	KindAuthz    = "cupi/authz-server"
)

// Kind is everything bulkprov does with one kind of operation, in one
// place (one file per kind): what to read, diff what a row wants against
// the state read, send one write and its write-time extras, verify a
// write whose outcome was lost by reading (never by resending), read the
// before-image a back-out needs, and plan the undo of a write and its
// place in the undo order. Plan, apply, resume and revert look a kind up
// in kinds instead of switching on it; adding a kind is one file and one
// line. noExtras gives the defaults a kind need not spell out.
//
// Contracts. Pure methods (name, diff, objectID, the predicates, wrote,
// readWant, owner, revertDeletes, revert, undoRank) touch nothing but
// their arguments (diff may read and, for a credential proven set, update
// o.RunState, which is safe for concurrent use) and are safe for
// concurrent use. Methods that talk to a target (perUser's read, prepare,
// write, verify, settle, beforeImage) are safe for concurrent use on
// different operations; each makes requests, not retries — the caller
// runs them under the target's limiter with pace.Retry, which retries
// throttled and transient errors. Their errors are classified by
// targets.Classify: Permanent (the server refused: never retried),
// Throttled and Transient (retried, then fatal), Fatal (access refused:
// stops the run or the cluster), Unknown (the write may have landed:
// verify decides, never a resend) and Canceled.
type Kind interface {
	// Name records in n what a want of this kind needs read: the objects
	// it names and the lists it needs (so only those are read).
	Name(w *Want, n *named)
	// PerUser returns the read an existing CUPI user's want needs beyond
	// the lists (roles held, credential settings, the whole user): a key
	// (equal keys are read once) and the read, which stores what it
	// read in cs. "" for none. The read is idempotent.
	PerUser(w *Want, u cupi.Object, cs *cupiState, t *Targets, o Options) (key string, read func(ctx context.Context) error)
	// Diff is pure: what w wants against st, as operations based on op.
	Diff(st *State, w Want, op *Op, t *Targets, o Options) []*Op
	// Warn is pure: what the plan says of w's operations ops, as
	// planned, that is not a failure (a user created while it exists
	// under another hierarchy): each warning's Message, a sentence, and
	// Object; row is w's row.
	Warn(st *State, row *Row, w Want, ops []*Op) []Warning
	// ObjectID is the server's identity of the object op writes, before
	// it is created ("" then): it keys the run state of its secrets and
	// the journal's proof.
	ObjectID(op *Op) string
	// NeedsUser reports whether op writes under a CUPI user its row may
	// create first (it takes that user's id); givesUser whether a done
	// op is that user.
	NeedsUser() bool
	GivesUser() bool
	// TimeProof reports whether a set of a write-only value is proven by
	// a timestamp read before it (a credential's TimeChanged): a value
	// whose outcome is lost is remembered as "maybe set", and a refusal
	// is worded as the password history's.
	TimeProof() bool
	// Prepare does the write-time extras before the first attempt (a
	// credential's TimeChanged read). Idempotent (a read).
	Prepare(ctx context.Context, op *Op, t *Targets, o Options) error
	// Write sends one attempt of op's write. Not idempotent in general (a
	// create twice makes two, or a duplicate refusal): an Unknown error is
	// resolved by verify before anything is sent again. onTx receives a
	// VOSS transaction id as soon as it is known.
	Write(ctx context.Context, op *Op, t *Targets, onTx func(string)) error
	// Verify reads whether op's write took effect (and, for a create,
	// records the id it got). Idempotent.
	Verify(ctx context.Context, op *Op, t *Targets) (bool, error)
	// Settle resolves, before a resumed run plans, a write an interrupted
	// run journaled without an outcome: whether it is settled (and, for a
	// set proven landed, records its hashes in o.RunState). Idempotent.
	Settle(ctx context.Context, e Entry, t *Targets, o Options) (bool, error)
	// Wrote is what a create sent, for the back-out (nil: nothing to
	// compare before an undo).
	Wrote(op *Op) map[string]any
	// BeforeImage reads, into e, what a revert needs to recreate the
	// object op deletes; read runs one request with retries.
	BeforeImage(ctx context.Context, op *Op, e *BackoutEntry, t *Targets, read ReadFunc) error
	// ReadWant names a back-out entry's object as a want, so a revert
	// reads the state in bulk as a plan does.
	ReadWant(e *BackoutEntry) Want
	// Owner is the key of the object e's object is deleted with (a CUPI
	// user for itself, its roles and credentials), or ""; revertDeletes
	// the key of the object a revert of e deletes with all under it, or "".
	Owner(e *BackoutEntry) string
	RevertDeletes(e *BackoutEntry) string
	// Revert plans what undoes e against the current state.
	Revert(st *State, e *BackoutEntry, h BackoutHeader, force bool) []*Op
	// UndoRank is op's place in the undo order of a row: objects
	// recreated first, parents before children; objects deleted last,
	// children before parents.
	UndoRank(op *Op) int
	// ReadBack reads back the objects ws wrote (done operations of this
	// kind on one target, readback.go) and returns, per operation, the
	// fields whose value the server did not keep — bulk where the API
	// allows. A secret is never read back: its proof is TimeChanged
	// moving. read runs one request with retries. Idempotent.
	ReadBack(ctx context.Context, ws []WrittenOp, t *Targets, read ReadFunc) (map[*Op][]NotKept, error)
}

// Undo order (undoRank): recreated parents, recreated children, updates,
// children's undo, deleted children, deleted parents.
const (
	rankRecreateParent = iota
	rankRecreateChild
	rankUpdate
	rankChild
	rankDeleteChild
	rankDeleteParent
)

// ReadFunc runs one read against target ("voss" or "cupi") with retries.
type ReadFunc func(target string, fn func(ctx context.Context) error) error

// kinds are the operation kinds by name.
var kinds = map[string]Kind{
	KindUser:     vossKind{},
	KindAdminREL: vossKind{},
	KindCUPIUser: cupiUserKind{},
	KindUserRole: userRoleKind{},
	KindPassword: credentialKind{},
	KindPIN:      credentialKind{},
	KindAuthz:    authzKind{},
}

// Of returns the kind named name; an unknown name gets one that plans
// a failure and writes nothing.
func Of(name string) Kind {
	if k := kinds[name]; k != nil {
		return k
	}
	return unknownKind{}
}

func errNoWriter(op *Op) error { return fmt.Errorf("no writer for %s %s", op.Kind, op.Action) }

// noExtras is the default of the kind methods most kinds need not spell
// out: no per-user read, no write-time extras, nothing to settle, no
// before-image, no owner.
type noExtras struct{}

func (noExtras) PerUser(*Want, cupi.Object, *cupiState, *Targets, Options) (string, func(context.Context) error) {
	return "", nil
}
func (noExtras) NeedsUser() bool                                                { return false }
func (noExtras) GivesUser() bool                                                { return false }
func (noExtras) TimeProof() bool                                                { return false }
func (noExtras) Prepare(context.Context, *Op, *Targets, Options) error          { return nil }
func (noExtras) Settle(context.Context, Entry, *Targets, Options) (bool, error) { return false, nil }
func (noExtras) BeforeImage(context.Context, *Op, *BackoutEntry, *Targets, ReadFunc) error {
	return nil
}
func (noExtras) Owner(*BackoutEntry) string               { return "" }
func (noExtras) Warn(*State, *Row, Want, []*Op) []Warning { return nil }
func (noExtras) ReadBack(context.Context, []WrittenOp, *Targets, ReadFunc) (map[*Op][]NotKept, error) {
	return nil, nil
}
func (noExtras) RevertDeletes(*BackoutEntry) string { return "" }

// unknownKind is a kind bulkprov does not know: planned as failed, never
// written or undone.
type unknownKind struct{ noExtras }

func (unknownKind) Name(*Want, *named) {}
func (unknownKind) Diff(_ *State, w Want, op *Op, _ *Targets, _ Options) []*Op {
	op.Action, op.Status, op.Error = Noop, Failed, "unknown kind "+w.Kind
	return []*Op{op}
}
func (unknownKind) ObjectID(op *Op) string { return op.UserID }
func (unknownKind) Write(_ context.Context, op *Op, _ *Targets, _ func(string)) error {
	return errNoWriter(op)
}
func (unknownKind) Verify(context.Context, *Op, *Targets) (bool, error) { return false, nil }
func (unknownKind) Wrote(op *Op) map[string]any                         { return op.SendBody() }
func (unknownKind) ReadWant(e *BackoutEntry) Want {
	return Want{Target: e.Target, Cluster: e.Cluster, Kind: e.Kind, Key: e.Key, Alias: e.Alias}
}
func (unknownKind) Revert(_ *State, e *BackoutEntry, _ BackoutHeader, _ bool) []*Op {
	op := &Op{Target: e.Target, Kind: e.Kind, Key: e.Key}
	return []*Op{failOp(op, "the back-out does not know how to undo a %s", e.Kind)}
}
func (unknownKind) UndoRank(*Op) int { return rankUpdate }

// ObjectID is the server's identity of the object op writes: the VOSS
// pkid, the CUPI user's ObjectId (for the user and its credentials), or
// the authorization server's ObjectId; for a create, the id it got.
func ObjectID(o *Op) string {
	id := Of(o.Kind).ObjectID(o)
	if id == "" {
		id = o.CreatedID
	}
	return id
}
