package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine/kinds"
)

// Input is an input file of a plan with its checksum.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Plan is the list of operations computed from the inputs and the state
// of the targets.
type Plan struct {
	Version      int       `json:"version"`
	Created      time.Time `json:"created"`
	Inputs       []Input   `json:"inputs"`
	ConfigSHA256 string    `json:"config_sha256,omitempty"`
	Targets      string    `json:"targets"`
	Ops          []*Op     `json:"operations"`

	// Reads counts the HTTP requests made to read state, per target.
	Reads map[string]int `json:"reads"`
	// NotRestorable lists, in a revert plan, the write-only values the
	// undo cannot put back.
	NotRestorable []NotRestorable `json:"not_restorable,omitempty"`
	// ResentSecrets counts the secrets (passwords, PINs) of objects that
	// already exist the plan sends for want of a record of what was
	// applied before (a new or lost state folder): the reports count
	// them, as the warning on stderr does.
	ResentSecrets int `json:"resent_secrets,omitempty"`
	// Down holds the Unity Connection clusters that could not be read:
	// their operations are not run (unreachable, access refused) or, for
	// a cluster the run cannot name, planned as failed.
	Down map[string]error `json:"-"`
	// Unkept holds, by operation id, the operations that write again a
	// value the server did not keep (unkept.go).
	Unkept map[string]Unkept `json:"unkept,omitempty"`
	// Warnings are what the plan found about rows that is not a failure
	// (a user it creates that exists under another hierarchy, an alias
	// another user holds), in row order; beside the operations, not in
	// them.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Summary counts operations by action, and failures.
type Summary struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
	Noop   int `json:"noop"`
	Failed int `json:"failed"`
	Done   int `json:"done,omitempty"`
	Skip   int `json:"skipped,omitempty"`
	Unkept int `json:"unkept,omitempty"` // operations writing again a value not kept
}

// WillWrite reports whether any operation of the plan is still to write.
func (p *Plan) WillWrite() bool {
	for _, op := range p.Ops {
		if op.Status == Planned && op.Writes() {
			return true
		}
	}
	return false
}

// Summary counts the plan's operations.
func (p *Plan) Summary() Summary {
	s := Summary{Unkept: len(p.Unkept)}
	for _, op := range p.Ops {
		switch op.Status {
		case Failed:
			s.Failed++
			continue
		case Done:
			s.Done++
		case Skipped:
			s.Skip++
			if op.Action == Noop {
				continue // never planned (the run stopped first): not unchanged
			}
		}
		switch op.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Delete:
			s.Delete++
		default:
			s.Noop++
		}
	}
	return s
}

// MakePlan reads the targets' current state in bulk and diffs it against
// rows.
func MakePlan(ctx context.Context, rows []Row, t *Targets, o Options) (*Plan, error) {
	o.Defaults()
	st, reads, _, err := kinds.ReadState(ctx, rows, t, o, false)
	if err := readErr(ctx, err); err != nil {
		return nil, err
	}
	p := &Plan{Version: 1, Created: time.Now().UTC(), Targets: t.ID, Reads: reads}
	place := func(_ int, ops []*Op) { p.Ops = append(p.Ops, ops...) }
	// VOSS's part of every row first: a row whose VOSS part fails holds
	// back its Unity Connection part (diffRows).
	ps := newPasses(len(rows))
	diffRows(st, nil, rows, t, o, "voss", ps, place)
	diffRows(st, clusterViews(st, p), rows, t, o, "cupi", ps, place)
	p.Warnings = ps.warnings
	inRowOrder(p.Ops)
	markUnkept(p, p.Ops, t, o)
	return p, nil
}

// readErr is the error of a plan whose reads ended with err. A read cut
// short by an interrupt tells nothing about the target: an object it did
// not return is not absent, so there is no plan.
func readErr(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return ErrInterrupted
	}
	return err
}

// passes is what the passes of a plan (VOSS's part, then Unity
// Connection's) share. sources carries each row's Source from one pass
// to the next, so all of a row's operations share one; vossFailed, by row
// index, what failed of a row's VOSS part at plan time: the VOSS pass
// records it, and the Unity Connection pass then skips the row's writes
// naming it — no half-provisioned row (spec/inputs.md; the other way
// round, a failed CUPI part leaves the VOSS part to be done). warnings
// are what the passes found that is not a failure, in row order.
type passes struct {
	sources    []*Source
	vossFailed map[int]string
	warnings   []Warning
}

func newPasses(rows int) *passes {
	return &passes{sources: make([]*Source, rows), vossFailed: map[int]string{}}
}

// warn records what the plan says of want w's operations ops (of row,
// at src) that is not a failure.
func (ps *passes) warn(st *kinds.State, row *Row, w Want, ops []*Op, src *Source) {
	for _, wn := range kinds.Warnings(st, row, w, ops) {
		wn.Source, wn.Op, wn.Target, wn.Kind, wn.Key = src, ops[0].ID, ops[0].Target, ops[0].Kind, ops[0].Key
		ps.warnings = append(ps.warnings, wn)
	}
}

// ownWarnings drops the warnings of p that name an object an earlier,
// interrupted part of this run created, or may have (journal j: done, or
// pending): that run's own plan did not see it, and a resumed row whose
// Unity Connection user was made before its VOSS user is this run's
// own, not another's.
func ownWarnings(p *Plan, j *Journal) {
	if j == nil || len(p.Warnings) == 0 {
		return
	}
	created := map[string]bool{}
	for _, entries := range []map[string]Entry{j.Done, j.Pending} {
		for _, e := range entries {
			if e.Action == Create {
				created[e.Kind+"|"+strings.ToLower(e.Key)] = true
			}
		}
	}
	var kept []Warning // a new list: the passes' stays whole
	for _, w := range p.Warnings {
		if w.ObjectKind == "" || !created[w.ObjectKind+"|"+strings.ToLower(w.ObjectKey)] {
			kept = append(kept, w)
		}
	}
	p.Warnings = kept
}

// diffRows diffs the wants of rows on target ("voss" or "cupi", a pass
// each) and hands each want's operations, numbered and placed, to emit
// with the row's index; ps holds what the passes share.
func diffRows(st *kinds.State, views map[string]*kinds.State, rows []Row, t *Targets, o Options, target string, ps *passes, emit func(row int, ops []*Op)) {
	for i := range rows {
		var src *Source // one copy per row, shared by its operations: rows are cleared once planned
		for wi, w := range rows[i].Wants {
			if target != "" && w.Target != target {
				continue
			}
			sv, tv := st, t
			if w.Target == "cupi" {
				sv, tv = views[kinds.ClusterName(w.Cluster)], t.Cluster(w.Cluster)
			}
			ops := kinds.Diff(sv, &rows[i], w, tv, o)
			if o.ReleaseRows && target == "voss" {
				// The row stays for its Unity Connection part; this want's
				// field tree and secrets need not (its operations hold
				// what they write).
				rows[i].Wants[wi].Fields, rows[i].Wants[wi].Secrets = nil, Secrets{}
			}
			for _, op := range ops {
				op.Row, op.WantIndex = i, uint16(wi)
				if src == nil {
					src = rowSource(rows, ps.sources, i)
				}
				op.Source = src
				if op.Status == 0 {
					op.Status = Planned
				}
				op.ID = opID(op)
				if o.ForReview {
					op.Release()
				}
				if cap(op.Changes) > len(op.Changes) {
					op.Changes = slices.Clone(op.Changes) // held all run: no spare capacity
				}
				switch why := ps.vossFailed[i]; {
				case w.Target == "voss" && op.Status == Failed && why == "":
					ps.vossFailed[i] = op.Kind + " " + op.Key + ": " + op.Error
				case w.Target == "cupi" && why != "" && op.Status == Planned && op.Writes():
					op.Status, op.Error = Skipped, "skipped: the row's VOSS part failed ("+why+")"
					op.Release()
				}
			}
			if len(ops) > 0 {
				ps.warn(sv, &rows[i], w, ops, src)
			}
			emit(i, ops)
		}
		if o.ReleaseRows && target != "voss" {
			rows[i].Wants = nil // its last part is planned
		}
	}
}

// PlanAndApply plans rows and applies the plan while the rest of it is
// still being made: VOSS's part of the plan needs only VOSS's bulk reads,
// so its writes start as soon as it is complete, while Unity Connection's
// part — which needs reads per user (roles held, credential settings) —
// is read and diffed, each of its operations dispatched as it is
// planned. What is written, and each row's outcome, is what MakePlan
// followed by Apply would give; only the order in time differs (a row's
// VOSS and CUPI operations never depended on each other). Use MakePlan
// and Apply where the whole plan must be known before the first write
// (a reviewed plan, limits on changes).
//
// PlanAndApply spends rows: each is cleared once planned.
//
// start is called once, before the first write, with the plan made so
// far (every write it holds will be made); it may set up o (e.g. its
// back-out file) and returns an error to stop before anything is
// written. A nil plan means nothing was written: the error is the
// plan's. Otherwise the plan is complete and the error is the run's, as
// Apply's.
func PlanAndApply(ctx context.Context, rows []Row, t *Targets, o Options, ao ApplyOptions, start func(first *Plan, o *Options) error) (*Plan, error) {
	o.Defaults()
	// The per-user reads outlive readState: a run that ends before they
	// are waited for (start refused) stops them.
	readCtx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	st, reads, perUser, err := kinds.ReadState(readCtx, rows, t, o, true)
	if err := readErr(ctx, err); err != nil {
		return nil, err
	}
	p := &Plan{Version: 1, Created: time.Now().UTC(), Targets: t.ID}
	place := func(_ int, ops []*Op) { markUnkept(p, ops, t, o); p.Ops = append(p.Ops, ops...) }
	ps := newPasses(len(rows)) // what the two passes share
	diffRows(st, nil, rows, t, o, "voss", ps, place)
	p.Warnings = ps.warnings
	ownWarnings(p, ao.Journal)
	// The rest of the plan: Unity Connection's part.
	rest := func(emit func(i int, ops []*Op)) error {
		err := perUser()
		p.Reads = reads
		if err := readErr(ctx, err); err != nil {
			return err
		}
		diffRows(st, clusterViews(st, p), rows, t, o, "cupi", ps, emit)
		p.Warnings = ps.warnings
		ownWarnings(p, ao.Journal)
		return nil
	}
	if !p.WillWrite() {
		// Nothing to overlap: plan the rest, then apply as usual.
		if err := rest(place); err != nil {
			return nil, err
		}
		inRowOrder(p.Ops)
		if err := start(p, &o); err != nil {
			return nil, err
		}
		return p, Apply(ctx, p, t, o, ao)
	}
	if err := start(p, &o); err != nil {
		stopReads()
		_ = perUser()
		return nil, err
	}
	a := newApplier(ctx, t, o, ao)
	// The rows with Unity Connection operations still to plan are not
	// finished before those are run.
	held := map[int]bool{}
	for i := range rows {
		for _, w := range rows[i].Wants {
			if w.Target == "cupi" && !held[i] {
				held[i] = true
				a.expect(i)
			}
		}
	}
	a.add(p.Ops)
	// A row's operations are handed over together: a CUPI user's roles
	// and credentials run in one chain after it.
	rowAt, rowOps := -1, []*Op(nil)
	restErr := rest(func(i int, ops []*Op) {
		place(i, ops)
		if i != rowAt {
			a.add(rowOps)
			rowAt, rowOps = i, nil
		}
		rowOps = append(rowOps, ops...)
	})
	a.add(rowOps)
	if restErr != nil {
		// The rows' Unity Connection part was never planned (rest fails
		// before diffing any of it): it is in the plan as not run, so no
		// report counts such a row done.
		notPlanned(rows, held, ps.sources, place)
	}
	clear(rows) // spent: the operations hold what they write
	rows = nil  // and the table itself, once the caller holds it no more
	for i := range held {
		a.release(i)
	}
	inRowOrder(p.Ops)
	if restErr != nil {
		// The rest of the plan could not be made (an interrupt): what
		// was written is journaled; the rest is not run.
		a.stop()
	}
	err = a.verified(a.finish(p))
	if restErr != nil && err == nil {
		err = restErr
	}
	return p, err
}

// notPlanned places, for each row held for its Unity Connection part, an
// operation per CUPI want that says it was not run: the rest of the plan
// could not be made. Its action is the one the want asks for when the
// target was not read (kinds.Intended), as for a cluster found down.
func notPlanned(rows []Row, held map[int]bool, sources []*Source, place func(int, []*Op)) {
	for i := range held {
		var src *Source
		for wi, w := range rows[i].Wants {
			if w.Target != "cupi" {
				continue
			}
			op := &Op{Target: w.Target, Cluster: kinds.ClusterName(w.Cluster), Kind: w.Kind, Key: w.Key, Alias: w.Alias, Action: kinds.Intended(w),
				Status: Skipped, Error: "not run: the run stopped before this row's Unity Connection part was planned", Row: i, WantIndex: uint16(wi)}
			if src == nil {
				src = rowSource(rows, sources, i)
			}
			op.Source = src
			op.ID = opID(op)
			place(i, []*Op{op})
		}
	}
}

// rowSource returns row i's Source for its operations to share: the copy
// an earlier pass made (sources, when given, holds them), or a new one
// (held there for the next pass). A copy, since rows are cleared once
// planned.
func rowSource(rows []Row, sources []*Source, i int) *Source {
	if sources != nil && sources[i] != nil {
		return sources[i]
	}
	src := new(Source)
	*src = rows[i].Source
	if sources != nil {
		sources[i] = src
	}
	return src
}

// inRowOrder puts operations planned in passes (VOSS's part, then Unity
// Connection's) in the order one pass gives: by row, then by want, each
// want's operations as they were made. In place: a plan is held all run,
// so no second list of it (issue 14).
func inRowOrder(ops []*Op) {
	slices.SortStableFunc(ops, func(a, b *Op) int {
		if c := cmp.Compare(a.Row, b.Row); c != 0 {
			return c
		}
		return cmp.Compare(a.WantIndex, b.WantIndex)
	})
}

func opID(op *Op) string {
	s := op.Src()
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d|%s|%s|%s|%s", filepath.Base(s.File), s.Sheet, s.Row,
		s.Entry+fmt.Sprint(s.Index), op.Kind, strings.ToLower(op.Key), op.RoleID)))
	return hex.EncodeToString(h[:8])
}

// clusterViews returns each cluster's view of the state, and records in
// p the clusters that could not be read.
func clusterViews(st *kinds.State, p *Plan) map[string]*kinds.State {
	views, down := st.ClusterViews()
	for name, err := range down {
		if p.Down == nil {
			p.Down = map[string]error{}
		}
		p.Down[name] = err
	}
	return views
}
