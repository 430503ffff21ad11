package kinds

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// ReadState reads everything the rows refer to, in bulk where the API
// allows: paged listings and bulk exports for VOSS, the user list and the
// role, policy and template lists once for CUPI, and per user only what
// cannot be listed (roles held, credential settings). VOSS and each
// Unity Connection cluster are read at once, each at its own pace. With
// later, the per-user reads go on after it returns, and the returned
// function waits for them.
func ReadState(ctx context.Context, rows []Row, t *Targets, o Options, later bool) (*State, map[string]int, func() error, error) {
	st := &State{nodes: map[string]bool{}, vossRoles: map[string]map[string]bool{}, voss: map[string]*voss.Instance{},
		byPkid: map[string]*voss.Instance{}, clusters: map[string]*cupiState{}}
	// The per-user reads of a plan made while it is applied outlive this
	// function; they stop if the rest of the reads fail.
	ctx, cancel := context.WithCancel(ctx)
	r := &stateReader{ctx: ctx, rows: rows, t: t, o: o, later: later, st: st, named: scanNamed(rows, st), reads: map[string]int{}}
	var g errgroup.Group
	if r.named.voss {
		g.Go(r.readVOSS)
	}
	for name, cs := range st.clusters {
		g.Go(func() error { return r.readCUPI(name, t.Cluster(name), cs) })
	}
	if err := g.Wait(); err != nil {
		cancel()
		_ = r.perUser.Wait()
		return nil, nil, nil, err
	}
	if later {
		return st, r.reads, func() error { defer cancel(); return r.perUser.Wait() }, nil
	}
	cancel()
	return st, r.reads, nil, nil
}

// named is what the rows name, so that only those objects are read and
// kept (and, for VOSS, exported): a tenant's other users cost neither
// memory nor requests.
type named struct {
	voss bool
	// VOSS
	keys      map[string]map[string]bool // model -> lower business keys
	hiers     map[string]map[string]bool // model -> hierarchies
	pkids     map[string]string          // pkid -> model
	roleHiers map[string]bool            // hierarchies whose roles a row names
	// Unity Connection
	aliases map[string]bool   // lower aliases
	hierOf  map[string]string // cluster -> a hierarchy routed to it (for errors)
	// creates are the VOSS objects rows create if absent, to look up
	// under other hierarchies (elsewhere.go).
	creates []createAt
	// lists are the cluster-wide lists the rows' kinds need read, by
	// name (each read once per cluster, into the cluster's state).
	lists map[string]listRead
}

// scanNamed collects what rows name, and adds a CUPI state to st for
// each cluster they route to.
func scanNamed(rows []Row, st *State) named {
	n := named{keys: map[string]map[string]bool{}, hiers: map[string]map[string]bool{}, pkids: map[string]string{},
		roleHiers: map[string]bool{}, aliases: map[string]bool{}, hierOf: map[string]string{}, lists: map[string]listRead{}}
	for _, r := range rows {
		for wi, w := range r.Wants {
			if w.Target == "cupi" {
				n.aliases[strings.ToLower(w.Alias)] = true
				name := ClusterName(w.Cluster)
				if st.clusters[name] == nil {
					st.clusters[name] = newCUPIState()
				}
				if n.hierOf[name] == "" {
					n.hierOf[name] = w.CUPIDetails().ClusterHierarchy
				}
			}
			Of(w.Kind).Name(&r.Wants[wi], &n)
		}
	}
	return n
}

// listRead reads one cluster-wide list a kind needs (the roles, the
// credential policies, ...) from the cluster of tc into cs. Idempotent.
type listRead func(ctx context.Context, tc *Targets, cs *cupiState) error

// stateReader is one readState: what it reads into, and the requests it
// made per target.
type stateReader struct {
	ctx   context.Context
	rows  []Row
	t     *Targets
	o     Options
	later bool
	st    *State
	named named

	readsMu sync.Mutex
	reads   map[string]int // target -> read requests
	perUser errgroup.Group // the per-user reads, with later
}

// call makes one read under l with retries, counting it.
func (r *stateReader) call(l *Limiter, fn func(ctx context.Context) error) error {
	err := r.o.Retry.Do(r.ctx, l, func(ctx context.Context) (int, error) {
		r.readsMu.Lock()
		r.reads[strings.SplitN(l.Name, "[", 2)[0]]++
		r.readsMu.Unlock()
		err := fn(ctx)
		return HTTPStatus(err), err
	})
	if err != nil && r.ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		// The request timed out, the run did not stop: the server is
		// not answering, as unreachable as one that refuses.
		return &FatalError{Err: err}
	}
	return Fatal(err)
}

// readVOSS reads the hierarchy nodes, the roles of the hierarchies rows
// name, and the instances rows name: listed per model and hierarchy root,
// exported in batches, and by pkid those no listing returned.
func (r *stateReader) readVOSS() error {
	t, st := r.t, r.st
	if t.VOSS == nil {
		return errors.New("the input has VOSS rows but no VOSS target was given (--voss URL or --sim)")
	}
	if err := r.call(t.VOSSLimiter, func(ctx context.Context) error {
		n, err := t.VOSS.HierarchyNodes(ctx)
		st.nodes = n
		return optional(err)
	}); err != nil {
		return err
	}
	// The roles of each hierarchy and the instances under each root are
	// independent reads (each fills its own entries, under st.mu): sent at
	// once under VOSS's limiter, not one after another — a provider's
	// tenants are as many roots, and one by one their round trips were
	// a plan's time (32 tenants: 32 listings in a row).
	var g errgroup.Group
	g.SetLimit(max(1, t.VOSSLimiter.Max))
	var failed atomic.Bool
	read := func(fn func() error) {
		g.Go(func() error {
			if failed.Load() {
				return nil // an earlier read failed: the plan stops with it
			}
			err := fn()
			if err != nil {
				failed.Store(true)
			}
			return err
		})
	}
	for h := range r.named.roleHiers {
		if !st.hasNode(h) {
			continue
		}
		read(func() error { return r.readVOSSRoles(h) })
	}
	for model, hs := range r.named.hiers {
		for _, root := range roots(hs, st) {
			read(func() error { return r.readVOSSInstances(model, root, hs) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// After the instances: only the keys absent at their hierarchy are
	// looked up elsewhere.
	if err := r.readElsewhere(); err != nil {
		return err
	}
	for id, model := range r.named.pkids {
		if st.byPkid[id] != nil {
			continue
		}
		read(func() error {
			return r.call(t.VOSSLimiter, func(ctx context.Context) error {
				in, err := t.VOSS.Get(ctx, model, id)
				if errors.Is(err, targets.ErrNotFound) {
					return nil
				}
				if err == nil {
					st.mu.Lock()
					st.byPkid[id] = in
					st.mu.Unlock()
				}
				return err
			})
		})
	}
	return g.Wait()
}

// readVOSSRoles reads the role names of hierarchy h.
func (r *stateReader) readVOSSRoles(h string) error {
	t, st := r.t, r.st
	return r.call(t.VOSSLimiter, func(ctx context.Context) error {
		names, err := t.VOSS.Roles(ctx, h)
		if err != nil {
			return optional(err) // the server checks roles itself
		}
		set := map[string]bool{}
		for _, n := range names {
			set[n] = true
		}
		st.mu.Lock()
		st.vossRoles[h] = set
		st.mu.Unlock()
		return nil
	})
}

// readVOSSInstances lists model's instances under root in hierarchies hs
// and exports, in batches several at once, those the rows name — or may
// name: a summary without the business key is exported to find out.
func (r *stateReader) readVOSSInstances(model, root string, hs map[string]bool) error {
	t, st := r.t, r.st
	keyField := schema.Get(model).Key
	var ids []string
	// Where each listed instance lives: a full instance read by GET (seed
	// 002) or an export item need not say, and the root it was listed
	// from is not where it lives when the rows name nested hierarchies.
	where := map[string]string{}
	err := r.call(t.VOSSLimiter, func(ctx context.Context) error {
		ids = ids[:0]
		return t.VOSS.List(ctx, model, root, [2]string{}, func(s voss.Summary) error {
			if !hs[s.Hierarchy] && s.Hierarchy != "" {
				return nil
			}
			if k, ok := s.Data[keyField].(string); ok && !r.named.keys[model][strings.ToLower(k)] && r.named.pkids[s.Pkid] == "" {
				return nil
			}
			ids = append(ids, s.Pkid)
			if s.Hierarchy != "" {
				where[s.Pkid] = s.Hierarchy
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	var eg errgroup.Group
	eg.SetLimit(max(1, t.VOSSLimiter.Max/2))
	for lo := 0; lo < len(ids); lo += voss.ExportBatch {
		batch := ids[lo:min(lo+voss.ExportBatch, len(ids))]
		eg.Go(func() error {
			return r.call(t.VOSSLimiter, func(ctx context.Context) error {
				return t.VOSS.Export(ctx, model, root, batch, func(in voss.Instance) error {
					inst := in
					if inst.Hierarchy == "" {
						inst.Hierarchy = where[inst.Pkid]
					}
					if inst.Hierarchy == "" {
						inst.Hierarchy = root
					}
					key, _ := inst.Data[keyField].(string)
					st.mu.Lock()
					st.voss[vkey(model, inst.Hierarchy, key)] = &inst
					st.byPkid[inst.Pkid] = &inst
					st.mu.Unlock()
					return nil
				})
			})
		})
	}
	return eg.Wait()
}

// readCUPI reads one Unity Connection cluster, on its own and at its own
// pace: its lists at once, then the per-user reads (with later, left
// running). A cluster that cannot be read fails its own operations only.
func (r *stateReader) readCUPI(name string, tc *Targets, cs *cupiState) error {
	if tc.CUPI == nil {
		if name == DefaultCluster && r.named.hierOf[name] != "" {
			cs.down = fmt.Errorf("hierarchy %s matches no cluster in cupiClusters (%s) and no --cupi was given", r.named.hierOf[name], r.t.clusterPrefixes)
		} else {
			cs.down = errors.New("the input has Unity Connection rows but no CUPI target was given (--cupi URL or --sim)")
		}
		return nil
	}
	call := func(_ string, fn func(ctx context.Context) error) error { return r.call(tc.CUPILimiter, fn) }
	// The lists are independent (each fills its own map): read at once,
	// they cost one service time instead of one each.
	var lg errgroup.Group
	lg.Go(func() error { return r.readCUPIUsers(tc, cs) })
	for _, list := range r.named.lists {
		lg.Go(func() error { return call("cupi", func(ctx context.Context) error { return list(ctx, tc, cs) }) })
	}
	if err := lg.Wait(); err != nil {
		return clusterDown(err, tc, cs)
	}
	if r.later {
		// Read on while VOSS is read (and written): the caller waits for
		// these.
		r.perUser.Go(func() error { return clusterDown(readPerUser(r.ctx, r.rows, name, cs, call, tc, r.o), tc, cs) })
		return nil
	}
	return clusterDown(readPerUser(r.ctx, r.rows, name, cs, call, tc, r.o), tc, cs)
}

// readCUPIUsers lists a cluster's users, keeping those the rows name.
// The first page tells how many there are; the others are then read at
// once, each under the cluster's limiter. A server that does not say is
// read page after page, until an empty one.
func (r *stateReader) readCUPIUsers(tc *Targets, cs *cupiState) error {
	keep := func(u cupi.Object) error {
		if a := strings.ToLower(u["Alias"]); r.named.aliases[a] {
			cs.mu.Lock()
			cs.users[a] = u
			cs.mu.Unlock()
		}
		return nil
	}
	// bound stops a list without a total whose pages never end (a server
	// ignoring pageNumber: issue 23); used only while pages are read one
	// after another.
	var bound targets.PageBound
	readPage := func(page int) (total, n int, err error) {
		err = r.call(tc.CUPILimiter, func(ctx context.Context) error {
			var ids strings.Builder
			var err error
			total, n, err = tc.CUPI.UsersPage(ctx, page, func(u cupi.Object) error {
				ids.WriteString(u["ObjectId"] + "\x00")
				return keep(u)
			})
			if err == nil && total < 0 && n > 0 {
				if berr := bound.Next(page, 0, n, total, ids.String()); berr != nil {
					return targets.BadAnswer("cupi", "GET", "/users", true, nil, berr.Error())
				}
			}
			return err
		})
		return total, n, err
	}
	total, first, err := readPage(1)
	if err != nil || cupi.LastPage(first, first, total) {
		return err
	}
	if total < 0 {
		for page := 2; ; page++ { // no total: only an empty page ends the list
			if _, n, err := readPage(page); err != nil || n == 0 {
				return err
			}
		}
	}
	var g errgroup.Group
	for page := 2; page <= (total+first-1)/first; page++ {
		g.Go(func() error { _, _, err := readPage(page); return err })
	}
	return g.Wait()
}

// clusterDown records a cluster that failed as a whole while being read
// (unreachable, access refused): its operations are not run (Diff), the
// rest of the run goes on. Other errors are returned.
func clusterDown(err error, tc *Targets, cs *cupiState) error {
	var fe *FatalError
	if errors.As(err, &fe) && !errors.Is(err, context.Canceled) {
		cs.down = fmt.Errorf("%s: %w", tc.CUPILimiter.Name, err)
		return nil
	}
	return err
}

func index(list func(context.Context) ([]cupi.Object, error), ctx context.Context, field string, into map[string]cupi.Object) error {
	items, err := list(ctx)
	for _, it := range items {
		into[strings.ToLower(it[field])] = it
	}
	return err
}

// readPerUser fetches, in a small pool, the roles held and the password
// settings of the CUPI users that rows change, and the whole user where a
// row sets a field its list item does not carry.
func readPerUser(ctx context.Context, rows []Row, cluster string, st *cupiState, call func(string, func(context.Context) error) error, t *Targets, o Options) error {
	seen := map[string]bool{}
	var jobs []func(ctx context.Context) error
	for _, r := range rows {
		for wi := range r.Wants {
			// Only the Target and Cluster of another part's want are read:
			// VOSS's part of the plan, made meanwhile, lets go of its
			// wants' fields (diffRows).
			w := &r.Wants[wi]
			if w.Target != "cupi" || ClusterName(w.Cluster) != cluster {
				continue
			}
			u := st.users[strings.ToLower(w.Alias)]
			if u == nil {
				continue
			}
			key, read := Of(w.Kind).PerUser(w, u, st, t, o)
			if key != "" && !seen[key] {
				seen[key] = true
				jobs = append(jobs, read)
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	workers := o.ReadWorkers
	if workers <= 0 {
		workers = t.CUPILimiter.Max
	}
	g.SetLimit(workers)
	for _, j := range jobs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				// A read gave up (the cluster is down, the run stopped):
				// the rest are not sent, each to be retried to the end.
				return err
			}
			return call("cupi", j)
		})
	}
	return g.Wait()
}

// roots returns the topmost of the hierarchies (a listing covers the
// hierarchies below it), skipping those that do not exist.
func roots(hs map[string]bool, st *State) []string {
	var all []string
	for h := range hs {
		if st.hasNode(h) {
			all = append(all, h)
		}
	}
	sort.Strings(all)
	var out []string
	for _, h := range all {
		covered := false
		for _, r := range out {
			if strings.HasPrefix(h, r+".") {
				covered = true
			}
		}
		if !covered {
			out = append(out, h)
		}
	}
	return out
}

// optional turns a permanent answer (404, 400, 405) to a read that only
// refines the plan into "no information"; the write itself will meet the
// server's own checks. Throttling, connection and auth errors still count.
func optional(err error) error {
	if err != nil && targets.Classify(err) == targets.Permanent {
		return nil
	}
	return err
}

// hasNode reports whether hierarchy h exists; when the server did not list
// its nodes, every hierarchy is taken to exist and its writes will tell.
func (st *State) hasNode(h string) bool { return st.nodes == nil || st.nodes[h] }
