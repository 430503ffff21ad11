package kinds

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// cupiUserKind is a Unity Connection user.
type cupiUserKind struct{ noExtras }

// name: a create needs its template to exist, so the templates are listed.
func (cupiUserKind) Name(_ *Want, n *named) {
	n.lists["templates"] = func(ctx context.Context, tc *Targets, cs *cupiState) error {
		m := map[string]cupi.Object{}
		err := index(tc.CUPI.UserTemplates, ctx, "Alias", m)
		for k := range m {
			cs.templates[k] = true
		}
		return err
	}
}

// perUser reads the whole user where a row sets a field its list item
// does not carry: the list need not carry every field of a user (the
// documents do not say it does; GET by id is the whole user).
func (cupiUserKind) PerUser(w *Want, u cupi.Object, cs *cupiState, t *Targets, _ Options) (string, func(context.Context) error) {
	if w.Delete || holdsAll(u, w.Fields) {
		return "", nil
	}
	id, alias := u["ObjectId"], strings.ToLower(w.Alias)
	return "user|" + id + "|" + alias, func(ctx context.Context) error {
		full, err := t.CUPI.GetUser(ctx, id)
		if err == nil && full != nil {
			cs.mu.Lock()
			merged := cupi.Object{}
			for k, v := range cs.users[alias] {
				merged[k] = v
			}
			for k, v := range full {
				merged[k] = v
			}
			cs.users[alias] = merged
			cs.mu.Unlock()
		}
		return optional(err)
	}
}

func (cupiUserKind) ObjectID(op *Op) string { return op.UserID }

func (cupiUserKind) GivesUser() bool { return true }

func (cupiUserKind) Wrote(op *Op) map[string]any { return op.SendBody() }

func (cupiUserKind) ReadWant(e *BackoutEntry) Want { return entryWant(e) }

func (cupiUserKind) Owner(e *BackoutEntry) string { return userOwner(e.Alias) }

func (cupiUserKind) RevertDeletes(e *BackoutEntry) string {
	if e.Action == Create {
		return userOwner(e.Alias)
	}
	return ""
}

// undoRank: a CUPI user is recreated before its roles and credentials,
// and deleted after them (and before its VOSS user).
func (cupiUserKind) UndoRank(op *Op) int {
	switch op.Action {
	case Create:
		return rankRecreateChild
	case Delete:
		return rankDeleteChild
	}
	return rankUpdate
}

func (cupiUserKind) Diff(st *State, w Want, op *Op, t *Targets, o Options) []*Op {
	return []*Op{diffCUPIUser(st, w, op, t, o)}
}

func (cupiUserKind) Write(ctx context.Context, op *Op, t *Targets, _ func(string)) error {
	switch op.Action {
	case Create:
		id, err := t.CUPI.CreateUser(ctx, op.Template, flat(op.SendBody()))
		op.CreatedID = id
		return err
	case Update:
		return t.CUPI.UpdateUser(ctx, op.UserID, flat(op.Body))
	case Delete:
		return t.CUPI.DeleteUser(ctx, op.UserID)
	}
	return errNoWriter(op)
}

func (cupiUserKind) Verify(ctx context.Context, op *Op, t *Targets) (bool, error) {
	u, err := t.CUPI.FindUser(ctx, op.Alias)
	if errors.Is(err, targets.ErrNotFound) {
		return op.Action == Delete, nil
	}
	if err != nil {
		return false, err
	}
	if op.Action == Create && strings.EqualFold(u["Alias"], op.Alias) {
		op.CreatedID = u["ObjectId"]
		return true, nil
	}
	return false, nil
}

func (cupiUserKind) BeforeImage(ctx context.Context, op *Op, e *BackoutEntry, t *Targets, read ReadFunc) error {
	err := read("cupi", func(ctx context.Context) error {
		u, err := t.CUPI.GetUser(ctx, op.UserID)
		if err == nil {
			e.Before = objectMap(u, nil)
		}
		return err
	})
	if err != nil {
		return err
	}
	e.NotRestorable = append(e.NotRestorable, "password", "pin")
	return read("cupi", func(ctx context.Context) error {
		urs, err := t.CUPI.UserRoles(ctx, op.UserID)
		e.BeforeRoles = nil
		for _, ur := range urs {
			e.BeforeRoles = append(e.BeforeRoles, BackoutRole{RoleID: ur["RoleObjectId"], Name: ur["RoleName"]})
		}
		return err
	})
}

func (cupiUserKind) Revert(st *State, e *BackoutEntry, h BackoutHeader, force bool) []*Op {
	return revertCUPIUser(st, e, h, force)
}

func diffCUPIUser(st *State, w Want, op *Op, t *Targets, o Options) *Op {
	c := w.CUPIDetails()
	op.Alias, op.Template = w.Alias, c.Template
	u := st.user(w.Alias)
	op.Fingerprint = fingerprint(u)
	if u != nil {
		op.UserID = u["ObjectId"]
	}
	switch {
	case w.Delete && u == nil:
		op.Action = Noop
		return op
	case w.Delete:
		op.Action = Delete
		op.Changes = []Change{{Field: "Alias", Old: u["Alias"], New: nil}}
		return op
	case u == nil && w.MustExist:
		op.Action = Update
		return failOp(op, "the CUPI user %s does not exist (the row says modify)", w.Alias)
	case u == nil && c.NoCreate != "":
		op.Action = Create
		return failOp(op, "%s", c.NoCreate)
	case u == nil:
		if !st.templates[strings.ToLower(c.Template)] {
			op.Action = Create
			return failOp(op, "user template %q does not exist on Unity Connection%s", c.Template, suggestion(c.Template, keys(st.templates)))
		}
		op.Action = Create
		// No Body: a flat create's changes say all it sends (sendBody).
		op.Changes = make([]Change, 0, c.CreateFields.Len())
		for k, v := range c.CreateFields.All() { // in name order
			op.Changes = append(op.Changes, Change{Field: k, New: v})
		}
		return op
	}
	body := map[string]any{}
	keys := plan.SortedKeys(w.Fields)
	for _, k := range keys {
		wv := plan.Norm(w.Fields[k])
		hv, present := u[k]
		if (!present && wv == "") || hv == wv {
			continue
		}
		op.Changes = append(op.Changes, Change{Field: k, Old: hv, New: wv})
		body[k] = wv
	}
	if len(body) == 0 {
		op.Action = Noop
		return op
	}
	op.Action, op.Body = Update, body
	return op
}

func revertCUPIUser(st *State, e *BackoutEntry, h BackoutHeader, force bool) []*Op {
	op := &Op{Target: "cupi", Kind: e.Kind, Key: e.Key, Alias: e.Alias, Template: e.Template}
	u := st.user(e.Alias)
	op.Fingerprint = fingerprint(u)
	if u != nil {
		op.UserID = u["ObjectId"]
	}
	switch e.Action {
	case Create:
		op.Action = Delete
		if u == nil {
			op.Action = Noop
			return []*Op{op}
		}
		op.Changes = []Change{{Field: "Alias", Old: u["Alias"]}}
		if e.CreatedID != "" && u["ObjectId"] != e.CreatedID {
			return []*Op{failOp(op, "the CUPI user %s is not the one the run created (ObjectId %s, the run created %s); not deleted", e.Alias, u["ObjectId"], e.CreatedID)}
		}
		if drift := flatDrift(e.Wrote, u, "the run wrote"); len(drift) > 0 && !force {
			return []*Op{driftError(op, "the CUPI user "+e.Alias, drift)}
		}
		return []*Op{op}
	case Update:
		op.Action = Update
		if u == nil {
			return []*Op{failOp(op, "the CUPI user %s no longer exists; nothing to restore", e.Alias)}
		}
		body, drift := restoreFlat(op, u, e.Changes, false, force)
		if len(drift) > 0 && !force {
			return []*Op{driftError(op, "the CUPI user "+e.Alias, drift)}
		}
		if len(body) == 0 {
			op.Action, op.Changes = Noop, nil
			return []*Op{op}
		}
		op.Body = body
		return []*Op{op}
	case Delete:
		if e.Before == nil {
			op.Action = Noop
			return []*Op{op}
		}
		body := writable(e.Before, cupiUserWritable)
		if u != nil {
			op.Action = Noop
			drift := flatDrift(body, u, "before the run")
			if len(drift) == 0 {
				return []*Op{op}
			}
			op.Action = Update
			if !force {
				return []*Op{driftError(op, "the CUPI user "+e.Alias+" (recreated by someone else)", drift)}
			}
			for k, v := range body {
				op.Changes = append(op.Changes, Change{Field: k, Old: u[k], New: v})
			}
			op.Body = body
			return []*Op{op}
		}
		if op.Template == "" {
			op.Template = templateOf(h)
		}
		op.Action, op.Body = Create, body
		plan.Flatten("", body, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		ops := []*Op{op}
		for _, r := range e.BeforeRoles {
			ops = append(ops, &Op{Target: "cupi", Kind: KindUserRole, Key: e.Alias + "/" + r.Name, Alias: e.Alias,
				Action: Create, RoleID: r.RoleID, Changes: []Change{{Field: "role", New: r.Name}}, Fingerprint: fingerprint(nil)})
		}
		return ops
	}
	return []*Op{failOp(op, "cannot undo a %s", e.Action)}
}

// templateOf is the CUPI user template of the run's config.
func templateOf(h BackoutHeader) string {
	var c struct {
		Template string `json:"cupiUserTemplate"`
	}
	_ = json.Unmarshal(h.Config, &c)
	if c.Template == "" {
		return DefaultTemplate
	}
	return c.Template
}

// userOwner keys a CUPI user as the owner of its roles and credentials:
// deleting it deletes them.
func userOwner(alias string) string { return KindCUPIUser + "|" + strings.ToLower(alias) }

// entryWant names a back-out entry's object as a want.
func entryWant(e *BackoutEntry) Want {
	return Want{Target: e.Target, Cluster: e.Cluster, Kind: e.Kind, Key: e.Key, Alias: e.Alias}
}

// holdsAll reports whether user u carries every field of fields.
func holdsAll(u cupi.Object, fields map[string]any) bool {
	for k := range fields {
		if _, ok := u[k]; !ok {
			return false
		}
	}
	return true
}

// DefaultTemplate is CUPI's default user template alias.
const DefaultTemplate = "voicemailusertemplate"
