package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// diffWant turns one want into operations against the current state.
func diffWant(st *state, row *Row, w Want, t *Targets, o Options) []*Op {
	base := &Op{Target: w.Target, Kind: w.Kind, Key: w.Key}
	if w.Err != "" {
		base.Action, base.Status, base.Error = Noop, Failed, w.Err
		return []*Op{base}
	}
	if w.Target == "cupi" {
		base.Cluster = clusterName(w.Cluster)
		if st.down != nil {
			base.Alias = w.Alias
			return []*Op{failOp(base, "%v", st.down)}
		}
	}
	return kindOf(w.Kind).diff(st, w, base, t, o)
}

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
			scope := t.secretScope(op, p)
			if o.RunState.Known(scope) == o.RunState.Hash(scope, v) {
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

func (st *state) user(alias string) cupi.Object { return st.users[strings.ToLower(alias)] }
