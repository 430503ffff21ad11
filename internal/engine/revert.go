package engine

import (
	"context"
	"sort"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine/kinds"
)

// MakeRevertPlan plans the undo of a back-out file against the current
// state of the targets: a normal plan, whose operations apply like any
// other. Per write of the run, the object's current value decides: what
// the run wrote is undone; the value before the run means there is
// nothing to do (already undone, or the write never landed); anything
// else was changed by someone else since, and that operation fails
// showing the three values — unless force, which restores the original
// anyway. Only objects the run created are deleted. Operations are in
// reverse dependency order within each row: a recreated VOSS user before
// the CUPI user and its roles; roles and credentials before a CUPI user,
// a CUPI user before its VOSS user is deleted.
func MakeRevertPlan(ctx context.Context, bf *BackoutFile, t *Targets, o Options, force bool) (*Plan, error) {
	o.Defaults()
	o.NoElsewhere = true // it recreates what the run deleted, where it was
	st, reads, _, err := kinds.ReadState(ctx, revertRows(bf), t, o, false)
	if err := readErr(ctx, err); err != nil {
		return nil, err
	}
	p := &Plan{Version: 1, Created: time.Now().UTC(), Targets: t.ID, Reads: reads}
	views := clusterViews(st, p)
	// Write-only values of objects the revert deletes do not matter.
	created := map[string]bool{}
	for _, e := range bf.Entries {
		if key := kinds.Of(e.Kind).RevertDeletes(e); key != "" {
			created[key] = true
		}
	}
	rowOf := map[string]int{}
	for _, e := range bf.Entries {
		src := e.Source.String()
		if _, ok := rowOf[src]; !ok {
			rowOf[src] = len(rowOf)
		}
		sv := st
		if e.Target == "cupi" {
			if sv = views[kinds.ClusterName(e.Cluster)]; sv == nil {
				sv = st.View(e.Cluster)
			}
		}
		source := e.Source // one copy per entry, shared by its operations
		for _, op := range revertEntry(sv, e, bf.Header, force) {
			op.Row, op.Source = rowOf[src], &source
			if op.Target == "cupi" {
				op.Cluster = e.Cluster
			}
			if op.Status == 0 {
				op.Status = Planned
			}
			op.ID = opID(op)
			p.Ops = append(p.Ops, op)
		}
		if owner := kinds.Of(e.Kind).Owner(e); e.Action != Create && (owner == "" || !created[owner]) {
			for _, f := range e.NotRestorable {
				p.NotRestorable = append(p.NotRestorable, NotRestorable{Source: e.Source, Kind: e.Kind, Key: e.Key, Field: f})
			}
		}
	}
	sort.SliceStable(p.Ops, func(i, j int) bool {
		a, b := p.Ops[i], p.Ops[j]
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		return revertRank(a) < revertRank(b)
	})
	return p, nil
}

// revertRank orders the operations of one row: objects recreated first,
// parents before children; objects deleted last, children before parents
// (each kind says where its operations go).
func revertRank(op *Op) int { return kinds.Of(op.Kind).UndoRank(op) }

// revertRows names the objects of a back-out file as wants, so the state
// is read in bulk exactly as a plan reads it.
func revertRows(bf *BackoutFile) []Row {
	var wants []Want
	for _, e := range bf.Entries {
		wants = append(wants, kinds.Of(e.Kind).ReadWant(e))
	}
	return []Row{{Wants: wants}}
}

// revertEntry plans what undoes one write of the run.
func revertEntry(st *kinds.State, e *BackoutEntry, h BackoutHeader, force bool) []*Op {
	return kinds.Of(e.Kind).Revert(st, e, h, force)
}
