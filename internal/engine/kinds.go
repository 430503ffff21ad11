package engine

import (
	"context"
	"fmt"
)

// kind is everything bulkprov does with one kind of operation, in one
// place (one file per kind): diff what a row wants against the state read,
// send one write, verify a write whose outcome was lost by reading (never
// by resending), read the before-image a back-out needs, and plan the
// undo of a write. Plan, apply, resume and revert look a kind up in kinds
// instead of switching on it; adding a kind is one file and one line.
type kind interface {
	diff(st *state, w Want, op *Op, t *Targets, o Options) []*Op
	write(ctx context.Context, op *Op, t *Targets, onTx func(string)) error
	verify(ctx context.Context, op *Op, t *Targets) (bool, error)
	beforeImage(ctx context.Context, op *Op, e *BackoutEntry, t *Targets, read readFunc) error
	revert(st *state, e *BackoutEntry, h BackoutHeader, force bool) []*Op
}

// readFunc runs one read against target ("voss" or "cupi") with retries.
type readFunc func(target string, fn func(ctx context.Context) error) error

// kinds are the operation kinds by name.
var kinds = map[string]kind{
	KindUser:     vossKind{},
	KindAdminREL: vossKind{},
	KindCUPIUser: cupiUserKind{},
	KindUserRole: userRoleKind{},
	KindPassword: credentialKind{},
	KindPIN:      credentialKind{},
	KindAuthz:    authzKind{},
}

func errNoWriter(op *Op) error { return fmt.Errorf("no writer for %s %s", op.Kind, op.Action) }
