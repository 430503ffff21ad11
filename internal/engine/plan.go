package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
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
	// Down holds the Unity Connection clusters that could not be read:
	// their operations are planned as failed.
	Down map[string]error `json:"-"`
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
	var s Summary
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

// Targets are the clients of a run, each with its limiter.
type Targets struct {
	VOSS        VOSSAPI
	CUPI        CUPIAPI
	VOSSLimiter *Limiter
	CUPILimiter *Limiter
	// ID names the targets of a run (it binds a checkpoint to them).
	ID string
	// VOSSPace, when set, paces every VOSS request (a token bucket at
	// the server's requests-per-second budget); the summary reports the
	// time requests waited on it.
	VOSSPace *rate.Limiter
	// Clusters are the Unity Connection clusters besides the default one
	// (CUPI, CUPILimiter); see Cluster.
	Clusters        map[string]*Cluster
	clusterPrefixes string
	viewsMu         sync.Mutex
	views           map[string]*Targets
	// VOSSName and CUPIName key the run state: the normalised base URLs
	// (NormalizeURL), so any spelling of a server shares one memory.
	VOSSName, CUPIName string
}

// secretScope is the run-state key of a secret: the normalised target,
// the kind, the object's server identity and the field path. It follows
// the object, not the input file that named it.
func (t *Targets) secretScope(op *Op, path string) string {
	name := t.CUPIName
	if op.Target == "voss" {
		name = t.VOSSName
	}
	if name == "" {
		name = t.ID
	}
	return name + "|" + op.Kind + "|" + objectID(op) + "|" + path
}

// limiter returns the limiter of target name.
func (t *Targets) limiter(name string) *Limiter {
	if name == "cupi" {
		return t.CUPILimiter
	}
	return t.VOSSLimiter
}

// Options tune planning and applying.
type Options struct {
	ForceSecrets bool
	RunState     *RunState
	Retry        Retry
	ReadWorkers  int // per-object reads in flight; 0: the target limiter's maximum
	ExactRoles   bool
	// OneTime, when set, gives VOSS users created without a password a
	// generated one-time password (and "change password on next login").
	OneTime *OneTimePasswords
	// ReusePatterns recognise, in a credential refusal's message, the
	// server saying the value was used recently. The wording differs by
	// version and locale and is only ever a hint in an error message:
	// whether a set landed is proven by TimeChanged.
	ReusePatterns []*regexp.Regexp
	// Backout, when set, receives before each write what undoes it.
	Backout *Backout
	// ReleaseRows lets MakePlan drop each row's wants once it is diffed,
	// for a caller that is done with the rows: the plan and the rows it
	// came from are not both held whole.
	ReleaseRows bool
	// ForReview plans only to show (the plan command): each operation lets
	// go of what only its write would need — the body, the secret values —
	// as it is planned. Its changes, and so every report and plan file,
	// are the same. Never for a plan that is applied.
	ForReview bool
}

// DefaultReusePatterns are the reuse-refusal wordings bulkprov knows.
var DefaultReusePatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)used (recently|before|previously)|histor|reuse|re-use|previous|recent|last \d+`),
}

func (o *Options) defaults() {
	if o.Retry.Attempts == 0 {
		o.Retry = DefaultRetry
	}
	if o.RunState == nil {
		o.RunState = NewMemoryRunState()
	}
	if o.ReusePatterns == nil {
		o.ReusePatterns = DefaultReusePatterns
	}
}

// state is the current state read from the targets.
type state struct {
	mu        sync.Mutex
	nodes     map[string]bool
	vossRoles map[string]map[string]bool // hierarchy -> role names
	voss      map[string]*voss.Instance  // model|hier|key (lower) -> instance
	byPkid    map[string]*voss.Instance
	// cupiState is the Unity Connection cluster a diff looks at (a view,
	// see view); clusters holds every cluster read.
	*cupiState
	clusters map[string]*cupiState
}

// cupiState is what was read from one Unity Connection cluster.
type cupiState struct {
	mu        sync.Mutex
	users     map[string]cupi.Object   // lower alias -> user
	roles     map[string]cupi.Object   // lower role name -> role
	policies  map[string]cupi.Object   // lower display name -> policy
	templates map[string]bool          // lower alias
	authz     map[string]cupi.Object   // lower display name
	userRoles map[string][]cupi.Object // user id -> user roles
	creds     map[string]cupi.Object   // user id|kind -> settings
	// down is why the cluster could not be read (unreachable, access
	// refused, no URL): its operations fail, the other clusters' go on.
	down error
}

func newCUPIState() *cupiState {
	return &cupiState{users: map[string]cupi.Object{}, roles: map[string]cupi.Object{}, policies: map[string]cupi.Object{},
		templates: map[string]bool{}, authz: map[string]cupi.Object{}, userRoles: map[string][]cupi.Object{}, creds: map[string]cupi.Object{}}
}

// clusterViews returns each cluster's view of the state, and records in
// p the clusters that could not be read.
func (st *state) clusterViews(p *Plan) map[string]*state {
	views := map[string]*state{}
	for name, cs := range st.clusters {
		views[name] = st.view(name)
		if cs.down != nil {
			if p.Down == nil {
				p.Down = map[string]error{}
			}
			p.Down[name] = cs.down
		}
	}
	return views
}

// view is the state as a diff of cluster's wants sees it: the shared VOSS
// state and that cluster's CUPI state.
func (st *state) view(cluster string) *state {
	cs := st.clusters[clusterName(cluster)]
	if cs == nil {
		cs = newCUPIState()
	}
	return &state{nodes: st.nodes, vossRoles: st.vossRoles, voss: st.voss, byPkid: st.byPkid, cupiState: cs, clusters: st.clusters}
}

func vkey(model, hier, key string) string {
	return model + "|" + strings.ToLower(hier) + "|" + strings.ToLower(key)
}

// MakePlan reads the targets' current state in bulk and diffs it against
// rows.
func MakePlan(ctx context.Context, rows []Row, t *Targets, o Options) (*Plan, error) {
	o.defaults()
	st, reads, _, err := readState(ctx, rows, t, o, false)
	if err := readErr(ctx, err); err != nil {
		return nil, err
	}
	p := &Plan{Version: 1, Created: time.Now().UTC(), Targets: t.ID, Reads: reads}
	diffRows(st, st.clusterViews(p), rows, t, o, "", nil, func(_ int, ops []*Op) { p.Ops = append(p.Ops, ops...) })
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

// diffRows diffs the wants of rows on target ("" for all) and hands each
// want's operations, numbered and placed, to emit with the row's index.
// sources, when given, carries each row's Source from one pass to the
// next, so all of a row's operations share one.
func diffRows(st *state, views map[string]*state, rows []Row, t *Targets, o Options, target string, sources []*Source, emit func(row int, ops []*Op)) {
	for i := range rows {
		var src *Source // one copy per row, shared by its operations: rows are cleared once planned
		for wi, w := range rows[i].Wants {
			if target != "" && w.Target != target {
				continue
			}
			sv, tv := st, t
			if w.Target == "cupi" {
				sv, tv = views[clusterName(w.Cluster)], t.Cluster(w.Cluster)
			}
			ops := diffWant(sv, &rows[i], w, tv, o)
			if o.ReleaseRows && target == "voss" {
				// The row stays for its Unity Connection part; this want's
				// field tree and secrets need not (its operations hold
				// what they write).
				rows[i].Wants[wi].Fields, rows[i].Wants[wi].Secrets = nil, Secrets{}
			}
			for _, op := range ops {
				op.Row, op.WantIndex = i, uint16(wi)
				if src == nil {
					src = rowSource(rows, sources, i)
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
	o.defaults()
	// The per-user reads outlive readState: a run that ends before they
	// are waited for (start refused) stops them.
	readCtx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	st, reads, perUser, err := readState(readCtx, rows, t, o, true)
	if err := readErr(ctx, err); err != nil {
		return nil, err
	}
	p := &Plan{Version: 1, Created: time.Now().UTC(), Targets: t.ID}
	place := func(_ int, ops []*Op) { p.Ops = append(p.Ops, ops...) }
	sources := make([]*Source, len(rows)) // a row's, shared by the operations of both passes
	diffRows(st, nil, rows, t, o, "voss", sources, place)
	// The rest of the plan: Unity Connection's part.
	rest := func(emit func(i int, ops []*Op)) error {
		err := perUser()
		p.Reads = reads
		if err := readErr(ctx, err); err != nil {
			return err
		}
		diffRows(st, st.clusterViews(p), rows, t, o, "cupi", sources, emit)
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
		notPlanned(rows, held, sources, place)
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
	err = a.finish(p)
	if restErr != nil && err == nil {
		err = restErr
	}
	return p, err
}

// notPlanned places, for each row held for its Unity Connection part, an
// operation per CUPI want that says it was not run: the rest of the plan
// could not be made.
func notPlanned(rows []Row, held map[int]bool, sources []*Source, place func(int, []*Op)) {
	for i := range held {
		var src *Source
		for wi, w := range rows[i].Wants {
			if w.Target != "cupi" {
				continue
			}
			op := &Op{Target: w.Target, Cluster: clusterName(w.Cluster), Kind: w.Kind, Key: w.Key, Alias: w.Alias, Action: Noop,
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
