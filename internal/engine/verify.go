package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/bulkprov/bulkprov/internal/engine/kinds"
)

// First contact with a server (issue 25, cli.md "First contact"): apply
// --canary writes the first rows, reads back what they wrote and stops
// if a value was not kept; apply --verify reads back everything the run
// wrote. The read-back and the compare are each kind's (Kind.ReadBack).

// CanaryReason is the reason of the operations a failed canary did not
// attempt.
const CanaryReason = "not attempted (canary)"

// writtenLog collects the operations this run's writes finished, with
// what proves a write-only value landed (a credential's TimeChanged
// before its set), for the read-back after them.
type writtenLog struct {
	mu  sync.Mutex
	ops map[*Op]kinds.WrittenOp
}

func (l *writtenLog) add(op *Op) {
	if l == nil || op.Status != Done {
		return
	}
	w := kinds.WrittenOp{Op: op}
	w.TimeBefore, w.HasBefore = op.TimeBefore()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ops == nil {
		l.ops = map[*Op]kinds.WrittenOp{}
	}
	l.ops[op] = w
}

// of returns the done operations of ops with what this run learnt of
// their writes; one an earlier, interrupted run did (from the journal)
// is read back too.
func (l *writtenLog) of(ops []*Op) []kinds.WrittenOp {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []kinds.WrittenOp
	for _, op := range ops {
		if op.Status != Done {
			continue
		}
		w, ok := l.ops[op]
		if !ok {
			w = kinds.WrittenOp{Op: op}
		}
		out = append(out, w)
	}
	return out
}

// keep hands a finished operation to the run's read-back log, before
// what only its write needed (its proof) is let go.
func (rc *rowCtx) keep(op *Op) { rc.written.add(op) }

// readBack reads back what ws wrote, each kind on each target (and
// cluster) in one call of its ReadBack, and fails every operation whose
// value the server did not keep, naming target, kind, key, field, the
// value wanted and the value held. It returns how many it failed.
func readBack(ctx context.Context, ws []kinds.WrittenOp, t *Targets, o Options) (int, error) {
	type group struct{ kind, target, cluster string }
	groups := map[group][]kinds.WrittenOp{}
	var order []group
	for _, w := range ws {
		g := group{w.Op.Kind, w.Op.Target, ""}
		if w.Op.Target == "cupi" {
			g.cluster = kinds.ClusterName(w.Op.Cluster)
		}
		if groups[g] == nil {
			order = append(order, g)
		}
		groups[g] = append(groups[g], w)
	}
	// The kinds and targets are read at once: VOSS's export beside Unity
	// Connection's reads, each under its target's limiter.
	var mu sync.Mutex
	failed := 0
	var eg errgroup.Group
	for _, g := range order {
		eg.Go(func() error {
			tc := t
			if g.target == "cupi" {
				tc = t.Cluster(g.cluster)
			}
			read := func(target string, fn func(ctx context.Context) error) error {
				return o.Retry.Do(ctx, tc.LimiterOf(target), func(ctx context.Context) (int, error) {
					err := fn(ctx)
					return kinds.HTTPStatus(err), err
				})
			}
			nk, err := kinds.ReadBack(ctx, g.kind, groups[g], tc, read)
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return err
				}
				return &FatalError{Err: fmt.Errorf("reading back what the run wrote (%s %s): %w", g.target, g.kind, err)}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, w := range groups[g] {
				if fields := nk[w.Op]; len(fields) > 0 {
					w.Op.Status, w.Op.Error = Failed, kinds.NotKeptError(w.Op, fields)
					failed++
				}
			}
			return nil
		})
	}
	err := eg.Wait()
	return failed, err
}

// verified is the end of a run with --verify: what the run wrote is read
// back (unless the run stopped, err), and each value not kept fails its
// operation.
func (a *applier) verified(err error) error {
	if err != nil || !a.ao.Verify || a.ctx.Err() != nil {
		return err
	}
	var ops []*Op
	a.written.mu.Lock()
	for op := range a.written.ops {
		ops = append(ops, op)
	}
	a.written.mu.Unlock()
	_, err = readBack(a.ctx, a.written.of(ops), a.t, a.o)
	return err
}

// canaryRows splits the writes of ops into those of the first n rows
// that write anything, and the rest.
func canaryRows(ops []*Op, n int) (first, rest []*Op) {
	rows := map[int]bool{}
	for _, op := range ops {
		if op.Status != Planned || !op.Writes() {
			rest = append(rest, op)
			continue
		}
		if !rows[op.Row] && len(rows) < n {
			rows[op.Row] = true
		}
		if rows[op.Row] {
			first = append(first, op)
		} else {
			rest = append(rest, op)
		}
	}
	return first, rest
}

// applyCanary runs the plan with a canary (apply --canary N): the first
// N rows' writes, then a read-back of every object they wrote. A value
// not kept fails its operation and stops the run before anything else is
// written: every other write is skipped, "not attempted (canary)". When
// every value was kept, the journal records it (a resumed run does not
// repeat the canary) and the rest of the plan runs in the same run.
func applyCanary(ctx context.Context, p *Plan, t *Targets, o Options, ao ApplyOptions) error {
	first, rest := canaryRows(p.Ops, ao.Canary)
	a := newApplier(ctx, t, o, ao)
	a.add(first)
	if err := a.finish(&Plan{Ops: first}); err != nil {
		skipAll(rest, "not run: the run stopped before this row")
		return err
	}
	bad, err := readBack(ctx, a.written.of(first), t, a.o)
	if err != nil {
		skipAll(rest, "not run: the run stopped before this row")
		return err
	}
	if bad > 0 {
		skipAll(rest, CanaryReason)
		return nil
	}
	if err := ao.Journal.RecordCanary(); err != nil {
		skipAll(rest, "not run: the run stopped before this row")
		return &FatalError{Err: &CheckpointError{Err: err}}
	}
	if prog := ao.Progress; prog != nil {
		// The rest's progress counts on from the canary's rows.
		a.mu.Lock()
		done, failed, total := a.doneRows, a.failRows, a.total
		a.mu.Unlock()
		ao.Progress = func(d, f, n int) { prog(done+d, failed+f, total+n) }
	}
	b := newApplier(ctx, t, o, ao)
	b.written = a.written
	b.add(rest)
	return b.verified(b.finish(p))
}

// skipAll marks the writes of ops that were never attempted skipped, for
// reason.
func skipAll(ops []*Op, reason string) {
	for _, op := range ops {
		if op.Status == Planned && op.Writes() {
			op.Status, op.Error = Skipped, reason
		}
	}
}
