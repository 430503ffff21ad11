package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine/kinds"
	"github.com/bulkprov/bulkprov/internal/engine/store"
	"github.com/bulkprov/bulkprov/targets"
)

// backoutIntent appends to b what undoes op, before op is sent; the
// returned mark, synced with the journal's intent (store.SyncCarried),
// makes it durable. For a delete it first reads the full object (and a
// CUPI user's roles), so the revert can recreate it; an object it cannot
// read is not deleted.
func backoutIntent(ctx context.Context, b *Backout, op *Op, t *Targets, o Options) (store.Mark, error) {
	if b == nil {
		return store.Mark{}, nil
	}
	e := BackoutEntry{Type: "write", Op: op.ID, Source: op.Src(), Target: op.Target, Cluster: op.Cluster, Kind: op.Kind, Key: op.Key, Action: op.Action,
		Model: op.Model, Hierarchy: op.Hierarchy, Pkid: op.Pkid, UserID: op.UserID, ObjectID: op.ObjectID, RoleID: op.RoleID,
		Template: op.Template, Alias: op.Alias, Time: time.Now().UTC()}
	for _, c := range op.Changes {
		if c.Secret {
			e.NotRestorable = append(e.NotRestorable, c.Field)
			continue
		}
		if op.Action != Create {
			e.Changes = append(e.Changes, c)
		}
	}
	if op.Action == Create {
		e.Wrote = kinds.Of(op.Kind).Wrote(op) // encoded right here, not kept: no copy
	}
	if op.Action == Delete {
		if err := readBeforeImage(ctx, op, &e, t, o); err != nil {
			if errors.Is(err, context.Canceled) {
				return store.Mark{}, err
			}
			var fe *FatalError
			if errors.As(kinds.Fatal(err), &fe) {
				return store.Mark{}, fe
			}
			return store.Mark{}, fmt.Errorf("not deleted: reading it for the back-out failed: %w", err)
		}
	}
	m, err := b.Buffer(e)
	if err != nil {
		return store.Mark{}, &FatalError{Err: err}
	}
	return m, nil
}

// backoutOutcome records in b how op ended: a failed write needs no undo; a create's
// outcome carries the id it got. Failures are written durably (a revert
// must not take a failed create's object for the run's own).
func backoutOutcome(b *Backout, op *Op) error {
	if b == nil || (op.Status != Done && op.Status != Failed) {
		return nil
	}
	if err := b.Outcome(op.ID, op.Status, op.CreatedID); err != nil {
		return &FatalError{Err: err}
	}
	return nil
}

// readBeforeImage fills e.Before with the full object op deletes.
func readBeforeImage(ctx context.Context, op *Op, e *BackoutEntry, t *Targets, o Options) error {
	read := func(target string, fn func(ctx context.Context) error) error {
		return o.Retry.Do(ctx, t.LimiterOf(target), func(ctx context.Context) (int, error) {
			err := fn(ctx)
			if errors.Is(err, targets.ErrNotFound) {
				return 200, nil // already gone: the delete will tell
			}
			return kinds.HTTPStatus(err), err
		})
	}
	return kinds.Of(op.Kind).BeforeImage(ctx, op, e, t, read)
}

// backoutRefused fails op when what undoes it could not be recorded: a
// write the back-out cannot undo is not sent. It returns the errors that
// stop the run.
func backoutRefused(op *Op, rc *rowCtx, err error) error {
	rc.failed[op.Target] = true
	if errors.Is(err, context.Canceled) {
		op.Status, op.Error = Skipped, "not run: interrupted"
		return err
	}
	op.Status, op.Error = Failed, err.Error()
	var fe *FatalError
	if errors.As(err, &fe) {
		return err
	}
	return nil
}
