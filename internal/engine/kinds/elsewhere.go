package kinds

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// Business keys are unique within a hierarchy only (spec/targets.md): a
// row that creates a VOSS user at one hierarchy while the same user
// exists under another (a user moved between customers) makes a second
// user, which the plan says in a warning naming where the first one is.
// Only the keys a plan would create are looked up, after the instances
// the rows name were read, and only where the plan reads VOSS anyway:
//
//   - A list of a model at a hierarchy returns the instances at it and
//     below, each summary carrying the business key and its
//     hierarchy_path (seed 002), so a list at the root of the row's
//     hierarchy (its first level: "sys") sees the whole tree.
//   - Up to elsewhereFiltered keys per model and root are each listed with
//     the key as a filter (one request each when the server honours it).
//     The filter's parameter names are not documented (formats-and-apis
//     3.3): a server that ignores it answers with the whole list, which
//     is noticed at its first summary of another key and read once for
//     every key instead; one that refuses it (400) is listed whole by the
//     client. More keys are found in one listing of the root, whose cost
//     is its pages (2000 summaries each), not the rows.
//   - Each request runs under the VOSS limiter, paced and retried, and
//     counts in the plan's reads, as any read of the plan.
//   - A root the credentials may not list (403), or a list the server
//     refuses, gives no warning and fails nothing: a warning is never
//     worth a failed plan. An unreachable VOSS stops the plan as any read.
const elsewhereFiltered = 20

// createAt is a VOSS object a row creates if it is absent at its
// hierarchy: one to look up elsewhere.
type createAt struct{ model, hier, key string }

// placed is where an instance lives.
type placed struct{ pkid, hier string }

// errFilterIgnored stops a filtered list whose server answered with
// instances of other keys: the filter was ignored.
var errFilterIgnored = errors.New("list filter ignored")

// readElsewhere looks up, for the VOSS objects the rows create (their key
// absent at their hierarchy), the instances of the same model and key
// under other hierarchies, into st.elsewhere.
func (r *stateReader) readElsewhere() error {
	if r.o.NoElsewhere {
		return nil
	}
	want := map[[2]string]map[string]bool{} // {model, root} -> lower keys
	for _, c := range r.named.creates {
		if !r.st.hasNode(c.hier) || r.st.voss[vkey(c.model, c.hier, c.key)] != nil {
			continue
		}
		root, _, _ := strings.Cut(c.hier, ".")
		k := [2]string{c.model, root}
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		want[k][strings.ToLower(c.key)] = true
	}
	order := make([][2]string, 0, len(want))
	for k := range want {
		order = append(order, k)
	}
	sort.Slice(order, func(i, j int) bool { return order[i][0]+"|"+order[i][1] < order[j][0]+"|"+order[j][1] })
	for _, k := range order {
		if err := r.lookElsewhere(k[0], k[1], want[k]); err != nil {
			return err
		}
	}
	return nil
}

// lookElsewhere finds where model's instances of keys (lower-cased) live
// under root: key by key with a filter, or in one listing of the root.
func (r *stateReader) lookElsewhere(model, root string, keys map[string]bool) error {
	keyField := schema.Get(model).Key
	if len(keys) <= elsewhereFiltered {
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, key := range sorted {
			var at []placed
			err := r.call(r.t.VOSSLimiter, func(ctx context.Context) error {
				at = at[:0]
				return r.t.VOSS.List(ctx, model, root, [2]string{keyField, key}, func(s voss.Summary) error {
					if k, ok := s.Data[keyField].(string); !ok || !strings.EqualFold(k, key) {
						return errFilterIgnored // the whole list, or one that cannot say
					}
					at = append(at, placed{s.Pkid, s.Hierarchy})
					return nil
				})
			})
			if errors.Is(err, errFilterIgnored) {
				break // read the root once for every key
			}
			if err != nil {
				return noLookup(err)
			}
			r.st.placeElsewhere(model, key, at)
			delete(keys, key)
		}
		if len(keys) == 0 {
			return nil
		}
	}
	found := map[string][]placed{}
	err := r.call(r.t.VOSSLimiter, func(ctx context.Context) error {
		clear(found)
		return r.t.VOSS.List(ctx, model, root, [2]string{}, func(s voss.Summary) error {
			if k, ok := s.Data[keyField].(string); ok && keys[strings.ToLower(k)] {
				found[strings.ToLower(k)] = append(found[strings.ToLower(k)], placed{s.Pkid, s.Hierarchy})
			}
			return nil
		})
	})
	if err != nil {
		return noLookup(err)
	}
	for k, at := range found {
		r.st.placeElsewhere(model, k, at)
	}
	return nil
}

// noLookup is the error of a failed lookup elsewhere: none when the
// server refused it (access to the root refused, a list it does not
// allow) — the plan goes on without the warning — else err, which stops
// the plan as any read would (VOSS unreachable, an interrupt).
func noLookup(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	if targets.AccessDenied(err) || targets.Classify(err) == targets.Permanent {
		return nil
	}
	return err
}

// placeElsewhere records where model's instances of key live.
func (st *State) placeElsewhere(model, key string, at []placed) {
	if len(at) == 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.elsewhere == nil {
		st.elsewhere = map[string][]placed{}
	}
	st.elsewhere[model+"|"+strings.ToLower(key)] = append([]placed(nil), at...)
}

// elsewhereOf returns where model's instances of key live other than at
// hier, in hierarchy order.
func (st *State) elsewhereOf(model, key, hier string) []placed {
	var out []placed
	for _, p := range st.elsewhere[model+"|"+strings.ToLower(key)] {
		if !strings.EqualFold(p.hier, hier) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].hier < out[j].hier })
	return out
}

// placesText names where instances live: "H (pkid P)", up to three, then
// how many more.
func placesText(at []placed) string {
	var b strings.Builder
	for i, p := range at {
		if i == 3 {
			b.WriteString(", and " + strconv.Itoa(len(at)-3) + " more")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		h := p.hier
		if h == "" {
			h = "a hierarchy the list does not name"
		}
		b.WriteString(h + " (pkid " + p.pkid + ")")
	}
	return b.String()
}

// clusterUser returns the user holding alias on cluster, as its list was
// read (nil when none does, or the cluster could not be read). Safe while
// the per-user reads still go on.
func (st *State) clusterUser(cluster, alias string) cupi.Object {
	cs := st.clusters[ClusterName(cluster)]
	if cs == nil {
		return nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.users[strings.ToLower(alias)]
}
