package kinds

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// Diff turns one want into operations against the current state.
func Diff(st *State, row *Row, w Want, t *Targets, o Options) []*Op {
	base := &Op{Target: w.Target, Kind: w.Kind, Key: w.Key}
	if w.Err != "" {
		base.Action, base.Status, base.Error = intended(w, false), Failed, w.Err
		return []*Op{base}
	}
	if w.Target == "cupi" {
		base.Cluster = ClusterName(w.Cluster)
		if st.down != nil {
			base.Alias, base.Action = w.Alias, intended(w, false)
			if wentDown(st.down) {
				// Found down before any write: said once (the run's exit
				// names the cluster and its error), its operations not
				// run, as when it goes down mid-run.
				base.Status, base.Error = Skipped, NotRunDown(base.Cluster, st.down)
				return []*Op{base}
			}
			return []*Op{failOp(base, "%v", st.down)}
		}
	}
	return Of(w.Kind).Diff(st, w, base, t, o)
}

// Warnings is what the plan says of want w's operations ops, as planned,
// that is not a failure (Kind.Warn): each warning's Message and Object;
// row is w's row.
func Warnings(st *State, row *Row, w Want, ops []*Op) []Warning {
	return Of(w.Kind).Warn(st, row, w, ops)
}

// intended is the action a want asks for when what the target holds is
// not known (the part of the row failed before it was read), or is known
// to exist or not: a failed create is labelled a create, never a noop
// (issue 24).
func intended(w Want, exists bool) Action {
	switch {
	case w.Delete:
		return Delete
	case exists || w.MustExist:
		return Update
	}
	return Create
}

// Intended is the action w asks for when its target was not read (the
// run stopped before the want was planned): never a noop, which every
// report counts unchanged.
func Intended(w Want) Action { return intended(w, false) }

func failOp(op *Op, format string, args ...any) *Op {
	if op.Action == 0 {
		op.Action = Noop
	}
	op.Status, op.Error = Failed, fmt.Sprintf(format, args...)
	return op
}

// secretChanges adds a change per secret that must be set: all of them on
// a create; otherwise those whose keyed hash differs from the last value
// applied (or all, with --force-secrets).
func secretChanges(op *Op, secrets Secrets, exists bool, t *Targets, o Options) {
	if secrets.Len() == 0 {
		return
	}
	paths := make([]string, 0, secrets.Len())
	for p := range secrets.All() {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		v, _ := secrets.Get(p)
		if exists && !o.ForceSecrets {
			scope := t.SecretScope(op, p)
			if o.RunState.Known(scope) == o.RunState.Hash(scope, v) {
				continue
			}
			if landedBefore(op, p, v, scope, t, o) {
				continue
			}
		}
		var old any
		if exists {
			old = SecretMarker
		}
		op.Changes = append(op.Changes, Change{Field: p, Old: old, New: SecretMarker, Secret: true})
		op.Secrets.Set(p, v)
	}
}

// landedBefore reports whether the secret at path p, value v, of an object
// that exists was set by a create of this run that reached the server
// before the run was interrupted (Options.Landed); an apply records it in
// the run state under the object's own scope, as if that create's answer
// had come.
func landedBefore(op *Op, p, v, scope string, t *Targets, o Options) bool {
	if len(o.Landed) == 0 {
		return false
	}
	cs := t.CreateScope(op, p)
	h, ok := o.Landed[cs]
	if !ok || h != o.RunState.Hash(cs, v) {
		return false
	}
	if !o.ForReview {
		o.RunState.Set(scope, o.RunState.Hash(scope, v))
	}
	return true
}

// ---- VOSS ----

// derivable reports whether setting each leaf flatten gives, by its path,
// builds tree again exactly: no empty object or array (flatten gives them
// no leaf), no array inside an array, and no key a path would split or
// read as an index.
func derivable(tree map[string]any) bool {
	for k, v := range tree {
		if k == "" || strings.Contains(k, ".") || strings.HasPrefix(k, "[") {
			return false
		}
		switch t := v.(type) {
		case map[string]any:
			if len(t) == 0 || !derivable(t) {
				return false
			}
		case []any:
			if len(t) == 0 {
				return false
			}
			for _, el := range t {
				switch e := el.(type) {
				case []any:
					return false
				case map[string]any:
					if len(e) == 0 || !derivable(e) {
						return false
					}
				}
			}
		}
	}
	return true
}

// ---- CUPI ----

func (st *State) user(alias string) cupi.Object { return st.users[strings.ToLower(alias)] }
