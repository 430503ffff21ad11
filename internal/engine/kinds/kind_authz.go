package kinds

import (
	"context"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// authzKind is a Unity Connection authorization server.
type authzKind struct{ noExtras }

// name: the authorization servers are listed, once per cluster.
func (authzKind) Name(_ *Want, n *named) {
	n.lists["authz"] = func(ctx context.Context, tc *Targets, cs *cupiState) error {
		return index(tc.CUPI.AuthzServers, ctx, "DisplayName", cs.authz)
	}
}

func (authzKind) ObjectID(op *Op) string { return op.ObjectID }

func (authzKind) Wrote(op *Op) map[string]any { return op.SendBody() }

func (authzKind) ReadWant(e *BackoutEntry) Want { return entryWant(e) }

func (authzKind) UndoRank(*Op) int { return rankUpdate }

func (authzKind) Diff(st *State, w Want, op *Op, t *Targets, o Options) []*Op {
	return []*Op{diffAuthz(st, w, op, t, o)}
}

func (authzKind) Write(ctx context.Context, op *Op, t *Targets, _ func(string)) error {
	switch op.Action {
	case Create:
		id, err := t.CUPI.CreateAuthzServer(ctx, flat(withSecrets(op)))
		op.CreatedID = id
		return err
	case Update:
		return t.CUPI.UpdateAuthzServer(ctx, op.ObjectID, flat(withSecrets(op)))
	case Delete:
		return t.CUPI.DeleteAuthzServer(ctx, op.ObjectID)
	}
	return errNoWriter(op)
}

func (authzKind) Verify(ctx context.Context, op *Op, t *Targets) (bool, error) {
	list, err := t.CUPI.AuthzServers(ctx)
	if err != nil {
		return false, err
	}
	var found cupi.Object
	for _, a := range list {
		if strings.EqualFold(a["DisplayName"], op.Key) {
			found = a
		}
	}
	switch op.Action {
	case Create:
		if found != nil {
			op.CreatedID = found["ObjectId"]
		}
		return found != nil, nil
	case Delete:
		return found == nil, nil
	}
	return false, nil
}

func (authzKind) BeforeImage(ctx context.Context, op *Op, e *BackoutEntry, t *Targets, read ReadFunc) error {
	e.NotRestorable = append(e.NotRestorable, "ServerPassword")
	return read("cupi", func(ctx context.Context) error {
		list, err := t.CUPI.AuthzServers(ctx)
		for _, a := range list {
			if a["ObjectId"] == op.ObjectID {
				e.Before = objectMap(a, map[string]bool{"ServerPassword": true})
			}
		}
		return err
	})
}

func (authzKind) Revert(st *State, e *BackoutEntry, _ BackoutHeader, force bool) []*Op {
	return []*Op{revertAuthz(st, e, force)}
}

func diffAuthz(st *State, w Want, op *Op, t *Targets, o Options) *Op {
	cur := st.authz[strings.ToLower(w.Key)]
	op.Fingerprint = fingerprint(cur)
	if cur != nil {
		op.ObjectID = cur["ObjectId"]
	}
	switch {
	case w.Delete && cur == nil:
		op.Action = Noop
		return op
	case w.Delete:
		op.Action = Delete
		op.Changes = []Change{{Field: "DisplayName", Old: w.Key, New: nil}}
		return op
	case cur == nil && w.MustExist:
		op.Action = Update
		return failOp(op, "authorization server %s does not exist (the row says modify)", w.Key)
	case cur == nil:
		op.Action = Create
		body := map[string]any{"DisplayName": w.Key}
		for k, v := range w.Fields {
			body[k] = plan.Norm(v)
		}
		op.Body = body
		plan.Flatten("", body, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		secretChanges(op, w.Secrets, false, t, o)
		return op
	}
	body := map[string]any{}
	for _, k := range plan.SortedKeys(w.Fields) {
		wv := plan.Norm(w.Fields[k])
		if strings.EqualFold(cur[k], wv) {
			continue
		}
		op.Changes = append(op.Changes, Change{Field: k, Old: cur[k], New: wv})
		body[k] = wv
	}
	secretChanges(op, w.Secrets, true, t, o)
	if len(op.Changes) == 0 {
		op.Action = Noop
		return op
	}
	op.Action, op.Body = Update, body
	return op
}

func revertAuthz(st *State, e *BackoutEntry, force bool) *Op {
	op := &Op{Target: "cupi", Kind: e.Kind, Key: e.Key}
	cur := st.authz[strings.ToLower(e.Key)]
	op.Fingerprint = fingerprint(cur)
	if cur != nil {
		op.ObjectID = cur["ObjectId"]
	}
	switch e.Action {
	case Create:
		op.Action = Delete
		if cur == nil {
			op.Action = Noop
			return op
		}
		op.Changes = []Change{{Field: "DisplayName", Old: e.Key}}
		if e.CreatedID != "" && cur["ObjectId"] != e.CreatedID {
			return failOp(op, "authorization server %s is not the one the run created; not deleted", e.Key)
		}
		if drift := flatDrift(e.Wrote, cur, "the run wrote"); len(drift) > 0 && !force {
			return driftError(op, "authorization server "+e.Key, drift)
		}
		return op
	case Update:
		op.Action = Update
		if cur == nil {
			return failOp(op, "authorization server %s no longer exists; nothing to restore", e.Key)
		}
		body, drift := restoreFlat(op, cur, e.Changes, false, force)
		if len(drift) > 0 && !force {
			return driftError(op, "authorization server "+e.Key, drift)
		}
		if len(body) == 0 {
			op.Action, op.Changes = Noop, nil
			return op
		}
		op.Body = body
		return op
	case Delete:
		if e.Before == nil || cur != nil {
			op.Action = Noop
			return op
		}
		body := writable(e.Before, authzWritable)
		op.Action, op.Body = Create, body
		plan.Flatten("", body, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		return op
	}
	return failOp(op, "cannot undo a %s", e.Action)
}
