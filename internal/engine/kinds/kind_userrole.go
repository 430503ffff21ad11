package kinds

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// userRoleKind is a role a Unity Connection user holds.
type userRoleKind struct{ noExtras }

// name: roles are named by their names, so the roles are listed.
func (userRoleKind) Name(_ *Want, n *named) {
	n.lists["roles"] = func(ctx context.Context, tc *Targets, cs *cupiState) error {
		return index(tc.CUPI.Roles, ctx, "RoleName", cs.roles)
	}
}

// perUser reads the roles the user holds.
func (userRoleKind) PerUser(_ *Want, u cupi.Object, cs *cupiState, t *Targets, _ Options) (string, func(context.Context) error) {
	id := u["ObjectId"]
	return "roles|" + id, func(ctx context.Context) error {
		urs, err := t.CUPI.UserRoles(ctx, id)
		cs.mu.Lock()
		cs.userRoles[id] = urs
		cs.mu.Unlock()
		return optional(err)
	}
}

func (userRoleKind) ObjectID(op *Op) string { return op.UserID }

func (userRoleKind) NeedsUser() bool { return true }

// wrote: a role grant has nothing to compare before its undo.
func (userRoleKind) Wrote(*Op) map[string]any { return nil }

func (userRoleKind) ReadWant(e *BackoutEntry) Want { return entryWant(e) }

func (userRoleKind) Owner(e *BackoutEntry) string { return userOwner(e.Alias) }

func (userRoleKind) UndoRank(*Op) int { return rankChild }

func (userRoleKind) Diff(st *State, w Want, op *Op, _ *Targets, _ Options) []*Op {
	return diffRoles(st, w, op)
}

func (userRoleKind) Write(ctx context.Context, op *Op, t *Targets, _ func(string)) error {
	if op.Action == Create {
		id, err := t.CUPI.AddUserRole(ctx, op.UserID, op.RoleID)
		op.CreatedID = id
		return err
	}
	return t.CUPI.DeleteUserRole(ctx, op.UserID, op.ObjectID)
}

func (userRoleKind) Verify(ctx context.Context, op *Op, t *Targets) (bool, error) {
	urs, err := t.CUPI.UserRoles(ctx, op.UserID)
	if err != nil {
		return false, err
	}
	held := false
	for _, ur := range urs {
		if ur["RoleObjectId"] == op.RoleID {
			held = true
			if op.Action == Create {
				op.CreatedID = ur["ObjectId"]
			}
		}
	}
	return held == (op.Action == Create), nil
}

func (userRoleKind) Revert(st *State, e *BackoutEntry, _ BackoutHeader, _ bool) []*Op {
	return []*Op{revertRole(st, e)}
}

func diffRoles(st *State, w Want, base *Op) []*Op {
	base.Alias = w.Alias
	if rolesOf := w.CUPIDetails().RolesOf; w.Delete && rolesOf != nil {
		if in := st.voss[vkey(KindUser, w.VOSS.Hierarchy, w.Alias)]; in != nil {
			if role, _ := in.Data["role"].(string); role != "" {
				w.Roles = rolesOf(role)
			}
		}
	}
	u := st.user(w.Alias)
	var held []cupi.Object
	if u != nil {
		base.UserID = u["ObjectId"]
		held = st.userRoles[u["ObjectId"]]
	}
	var names []string
	for _, h := range held {
		names = append(names, h["RoleName"])
	}
	sort.Strings(names)
	base.Fingerprint = fingerprint(names)
	heldBy := map[string]cupi.Object{}
	for _, h := range held {
		heldBy[strings.ToLower(h["RoleName"])] = h
	}
	var ops []*Op
	// newOp grants (roleID) or removes (userRoleID, the user's holding of
	// the role) one role.
	newOp := func(a Action, roleID, userRoleID, name string) *Op {
		op := *base
		op.Action, op.RoleID, op.ObjectID = a, roleID, userRoleID
		op.Key = w.Alias + "/" + name
		op.Changes = roleChange(a, name)
		return &op
	}
	want := map[string]bool{}
	for _, name := range w.Roles {
		want[strings.ToLower(name)] = true
		role := st.roles[strings.ToLower(name)]
		if role == nil {
			op := *base
			op.Action = Create
			ops = append(ops, failOp(&op, "CUPI role %q does not exist%s (map the VOSS role to CUPI roles with \"roles\" in --config)", name, didYouMeanRole(name, st.roles)))
			continue
		}
		h := heldBy[strings.ToLower(name)]
		switch {
		case w.Delete && h != nil:
			ops = append(ops, newOp(Delete, role["ObjectId"], h["ObjectId"], h["RoleName"]))
		case !w.Delete && h == nil:
			ops = append(ops, newOp(Create, role["ObjectId"], "", role["RoleName"]))
		}
	}
	if w.ExactRoles && !w.Delete {
		for _, h := range held {
			if !want[strings.ToLower(h["RoleName"])] {
				ops = append(ops, newOp(Delete, h["RoleObjectId"], h["ObjectId"], h["RoleName"]))
			}
		}
	}
	if len(ops) == 0 {
		base.Action = Noop
		base.Key = w.Alias
		return []*Op{base}
	}
	return ops
}

func revertRole(st *State, e *BackoutEntry) *Op {
	op := &Op{Target: "cupi", Kind: e.Kind, Key: e.Key, Alias: e.Alias, RoleID: e.RoleID}
	name := e.Key[strings.LastIndex(e.Key, "/")+1:]
	u := st.user(e.Alias)
	var held cupi.Object
	var names []string
	if u != nil {
		op.UserID = u["ObjectId"]
		for _, ur := range st.userRoles[u["ObjectId"]] {
			names = append(names, ur["RoleName"])
			if ur["RoleObjectId"] == e.RoleID {
				held = ur
			}
		}
	}
	sort.Strings(names)
	op.Fingerprint = fingerprint(names)
	switch {
	case e.Action == Create && held != nil:
		op.Action, op.ObjectID = Delete, held["ObjectId"]
		op.Changes = []Change{{Field: "role", Old: name}}
	case e.Action == Delete && held == nil:
		op.Action = Create
		op.Changes = []Change{{Field: "role", New: name}}
	default:
		op.Action = Noop
	}
	return op
}

// roleChanges holds one change list per action and role name, shared by
// every operation that grants or removes that role: a migration grants
// the same few roles to thousands of users (issue 14). Changes are never
// modified once planned.
var roleChanges sync.Map // [2]string{action, name} -> []Change

// roleChange returns the changes of granting (Create) or removing a role.
func roleChange(a Action, name string) []Change {
	k := [2]string{a.String(), name}
	if c, ok := roleChanges.Load(k); ok {
		return c.([]Change)
	}
	c := []Change{{Field: "role", Old: name}}
	if a == Create {
		c = []Change{{Field: "role", New: name}}
	}
	got, _ := roleChanges.LoadOrStore(k, c)
	return got.([]Change)
}
