package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/targets/cupi"
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
	o.defaults()
	st, reads, _, err := readState(ctx, revertRows(bf), t, o, false)
	if err := readErr(ctx, err); err != nil {
		return nil, err
	}
	p := &Plan{Version: 1, Created: time.Now().UTC(), Targets: t.ID, Reads: reads}
	views := st.clusterViews(p)
	// Write-only values of objects the revert deletes do not matter.
	created := map[string]bool{}
	for _, e := range bf.Entries {
		if key := kindOf(e.Kind).revertDeletes(e); key != "" {
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
			if sv = views[clusterName(e.Cluster)]; sv == nil {
				sv = st.view(e.Cluster)
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
		if owner := kindOf(e.Kind).owner(e); e.Action != Create && (owner == "" || !created[owner]) {
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
func revertRank(op *Op) int { return kindOf(op.Kind).undoRank(op) }

// revertRows names the objects of a back-out file as wants, so the state
// is read in bulk exactly as a plan reads it.
func revertRows(bf *BackoutFile) []Row {
	var wants []Want
	for _, e := range bf.Entries {
		wants = append(wants, kindOf(e.Kind).readWant(e))
	}
	return []Row{{Wants: wants}}
}

// revertEntry plans what undoes one write of the run.
func revertEntry(st *state, e *BackoutEntry, h BackoutHeader, force bool) []*Op {
	return kindOf(e.Kind).revert(st, e, h, force)
}

// driftError is the failure of an object changed by someone else since
// the run: not touched, with the three values of each field shown.
func driftError(op *Op, what string, drift []string) *Op {
	return failOp(op, "%s changed since the run by someone else, so it is not touched (--force restores the state before the run anyway): %s",
		what, strings.Join(drift, "; "))
}

// show renders a value of a drift message.
func show(v any, present bool) string {
	if !present || v == nil {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// leafDrift lists the leaves of wrote whose current value differs.
func leafDrift(wrote, cur map[string]any) []string {
	var out []string
	plan.Flatten("", wrote, func(p string, v any) {
		hv, ok := plan.GetDotted(cur, p)
		if !plan.Same(v, hv) {
			out = append(out, fmt.Sprintf("%s: the run wrote %s, now %s", p, show(v, true), show(hv, ok)))
		}
	})
	return out
}

// restoreBody builds the VOSS body that puts vals (by path) back: an
// array is sent whole, so it starts from its current elements.
func restoreBody(cur map[string]any, vals map[string]any) map[string]any {
	body := map[string]any{}
	paths := make([]string, 0, len(vals))
	for p := range vals {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		segs := strings.Split(p, ".")
		for i := 1; i < len(segs); i++ {
			if !strings.HasPrefix(segs[i], "[") {
				continue
			}
			prefix := strings.Join(segs[:i], ".")
			if _, done := plan.GetDotted(body, prefix); !done {
				if arr, ok := plan.GetDotted(cur, prefix); ok {
					if a, ok := arr.([]any); ok {
						plan.SetDotted(body, prefix, plan.CopyTree(map[string]any{"a": a})["a"])
					}
				}
			}
			break
		}
		plan.SetDotted(body, p, vals[p])
	}
	return body
}

// cupiUserWritable are the CUPI user fields a create or update may send.
var cupiUserWritable = map[string]bool{
	"Alias": true, "DtmfAccessId": true, "FirstName": true, "LastName": true, "DisplayName": true,
	"EmailAddress": true, "TimeZone": true, "Language": true, "ListInDirectory": true, "Inactive": true,
	"Department": true, "Title": true, "City": true, "State": true, "Country": true, "Initials": true,
}

// authzWritable are the authorization server fields a create may send.
var authzWritable = map[string]bool{
	"DisplayName": true, "ServerNodeAddress": true, "Port": true, "ServerUsername": true, "IgnoreCertificateError": true,
}

// writable keeps the non-empty fields of a before-image a create may send.
func writable(before map[string]any, allowed map[string]bool) map[string]any {
	out := map[string]any{}
	for k, v := range before {
		if allowed[k] && plan.Norm(v) != "" {
			out[k] = plan.Norm(v)
		}
	}
	return out
}

// flatDrift lists the fields of want whose current value in cur differs.
func flatDrift(want map[string]any, cur cupi.Object, label string) []string {
	var out []string
	for _, k := range plan.SortedKeys(want) {
		hv, ok := cur[k]
		if !plan.Same(want[k], hv) {
			out = append(out, fmt.Sprintf("%s: %s %s, now %s", k, label, show(want[k], true), show(hv, ok)))
		}
	}
	return out
}

// restoreFlat plans the update of flat (CUPI) fields back to their old
// values; it returns the body, or the drift found.
func restoreFlat(op *Op, cur cupi.Object, changes []Change, skipUnset, force bool) (map[string]any, []string) {
	body := map[string]any{}
	var drift []string
	for _, c := range changes {
		if c.Old == nil && skipUnset {
			continue // no value before the run (a user the run created)
		}
		hv, ok := cur[c.Field]
		switch {
		case plan.Same(hv, c.New):
		case plan.Same(hv, c.Old):
			continue
		default:
			drift = append(drift, fmt.Sprintf("%s: before the run %s, the run wrote %s, now %s", c.Field, show(c.Old, true), show(c.New, true), show(hv, ok)))
			if !force {
				continue
			}
		}
		body[c.Field] = plan.Norm(c.Old)
		op.Changes = append(op.Changes, Change{Field: c.Field, Old: hv, New: plan.Norm(c.Old)})
	}
	return body, drift
}
