package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bulkprov/bulkprov/internal/engine/kinds"
	"github.com/bulkprov/bulkprov/internal/engine/store"
	"github.com/bulkprov/bulkprov/targets"
)

// ApplyOptions tune execution.
type ApplyOptions struct {
	// Workers caps the chains in flight per target; 0 takes each target's
	// limiter maximum, so no target ever idles for want of ready work.
	Workers  int
	Journal  *Journal      // checkpoint; nil for none
	Grace    time.Duration // how long in-flight requests may finish after an interrupt
	Progress func(done, failed, total int)
	// Canary writes the first Canary rows, reads back what they wrote and
	// stops if a value was not kept (verify.go); Verify reads back every
	// write of the run.
	Canary int
	Verify bool
}

// ErrInterrupted is returned when the run was stopped by its context.
var ErrInterrupted = errors.New("interrupted")

// rowCtx carries what one chain of a row's operations learns as it runs.
type rowCtx struct {
	userID  string
	failed  map[string]bool // target -> an earlier op failed
	written *writtenLog     // the run's writes, for a read-back (verify.go); nil for none
}

// chain is the operations of one row on one target, in the order they
// depend on each other (the CUPI user before its roles and credentials).
// The chains of a row on different targets are independent.
type chain struct {
	row     int
	cluster string // of a CUPI chain
	ops     []*Op
}

// Apply executes the plan's writes through one dispatcher per target:
// each keeps its target at its best concurrency with ready work from any
// row, so a row's CUPI operations never wait behind its VOSS write and no
// worker holds a slot of one target while waiting on the other. Each
// request runs under its target's limiter with retries. A failed
// operation fails the rest of its chain, not the row's other target; a
// failed row is recorded and the run goes on. A fatal condition
// (authentication refused, target unreachable, checkpoint not writable)
// or cancellation of ctx stops dispatching, lets in-flight work finish
// within Grace, and returns.
func Apply(ctx context.Context, p *Plan, t *Targets, o Options, ao ApplyOptions) error {
	ownWarnings(p, ao.Journal)
	if ao.Canary > 0 && !ao.Journal.CanaryPassed() {
		return applyCanary(ctx, p, t, o, ao)
	}
	a := newApplier(ctx, t, o, ao)
	a.add(p.Ops)
	return a.verified(a.finish(p))
}

// applier runs operations as they are handed to it: one dispatcher per
// target (and cluster), fed chains of ready operations. Apply hands it a
// whole plan; PlanAndApply hands it each part of the plan as it is made.
type applier struct {
	ctx    context.Context // the run's: cancelled on interrupt
	t      *Targets
	o      Options
	ao     ApplyOptions
	reqCtx context.Context
	cancel func()
	stopAt func() bool

	dispatch context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup

	mu       sync.Mutex
	queues   map[string]*chainQueue // target (cluster) -> its dispatcher's queue
	rows     []rowProgress          // by row index: dense, 8 bytes a row (issue 14)
	total    int
	doneRows int
	failRows int

	// progressMu keeps the calls of Progress in the order of the counts
	// they carry: taken before mu is let go, held through the call.
	progressMu sync.Mutex

	fatalOnce sync.Once
	fatalErr  error
	downMu    sync.Mutex
	down      map[string]error // Unity Connection clusters that failed as a whole
	written   *writtenLog      // with --canary or --verify: what the run wrote
}

func newApplier(ctx context.Context, t *Targets, o Options, ao ApplyOptions) *applier {
	o.Defaults()
	if ao.Grace <= 0 {
		ao.Grace = 30 * time.Second
	}
	a := &applier{ctx: ctx, t: t, o: o, ao: ao, queues: map[string]*chainQueue{}, down: map[string]error{}}
	if ao.Verify || ao.Canary > 0 {
		a.written = &writtenLog{}
	}
	// Requests run on their own context so an interrupt stops dispatching
	// at once but lets requests in flight finish (bounded by Grace).
	var cancelReq context.CancelFunc
	a.reqCtx, cancelReq = context.WithCancel(context.WithoutCancel(ctx))
	a.stopAt = context.AfterFunc(ctx, func() { time.AfterFunc(ao.Grace, cancelReq) })
	a.cancel = cancelReq
	a.dispatch, a.stop = context.WithCancel(ctx)
	return a
}

// add hands the applier operations, in row order; those already done (by
// the checkpoint) are marked so, the rest are grouped into chains per row
// and target and queued on their target's dispatcher.
func (a *applier) add(ops []*Op) {
	type rowTarget struct {
		row    int
		target string
	}
	open := map[rowTarget]*chain{}
	var order []*chain
	var targetOf []string
	for _, op := range ops {
		if op.Status != Planned || !op.Writes() {
			continue
		}
		if e, ok := a.ao.Journal.DoneEntry(op.ID); ok {
			op.Status, op.CreatedID = Done, e.ID
			continue
		}
		target := op.Target
		if target == "cupi" {
			target = LimiterName(op.Cluster)
		}
		k := rowTarget{op.Row, target}
		c := open[k]
		if c == nil {
			c = &chain{row: op.Row, cluster: op.Cluster}
			open[k] = c
			order, targetOf = append(order, c), append(targetOf, target)
		}
		c.ops = append(c.ops, op)
	}
	a.mu.Lock()
	for _, c := range order {
		r := a.row(c.row)
		if !r.counted {
			r.counted = true
			a.total++
		}
		r.pending++
	}
	a.mu.Unlock()
	for i, c := range order {
		a.queue(targetOf[i], c).push(c)
	}
}

// queue returns target's dispatcher queue, starting the dispatcher on
// first use. A dispatcher keeps its target at its limiter's maximum of
// chains in flight; once the run stops it drains its queue without
// running anything.
func (a *applier) queue(target string, c *chain) *chainQueue {
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.queues[target]
	if q != nil {
		return q
	}
	q = newChainQueue()
	a.queues[target] = q
	workers := a.ao.Workers
	if workers <= 0 {
		if c.ops[0].Target == "cupi" {
			workers = a.t.Cluster(c.cluster).CUPILimiter.Max
		} else {
			workers = a.t.VOSSLimiter.Max
		}
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		g := new(errgroup.Group)
		g.SetLimit(max(1, workers))
		for c, ok := q.pop(); ok; c, ok = q.pop() {
			if a.dispatch.Err() != nil {
				continue
			}
			g.Go(func() error { a.runChain(c); return nil })
		}
		_ = g.Wait()
	}()
	return q
}

// chainQueue is a dispatcher's unbounded queue: the planner hands over
// chains without ever waiting on the servers.
type chainQueue struct {
	mu     sync.Mutex
	items  []*chain
	closed bool
	ready  chan struct{}
}

func newChainQueue() *chainQueue { return &chainQueue{ready: make(chan struct{}, 1)} }

func (q *chainQueue) push(c *chain) {
	q.mu.Lock()
	q.items = append(q.items, c)
	q.mu.Unlock()
	q.signal()
}

func (q *chainQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop returns the next chain, waiting for one; false once the queue is
// closed and empty.
func (q *chainQueue) pop() (*chain, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			c := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.mu.Unlock()
			return c, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		<-q.ready
	}
}

func (q *chainQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// expect holds row open for operations still to be planned: it is not
// counted finished before release.
func (a *applier) expect(row int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.row(row).pending++
}

// rowProgress is where a row of the plan stands while it is applied.
type rowProgress struct {
	pending int32 // chains (and plan parts) still to finish
	counted bool  // it has writes: the progress counts it
	failed  bool
}

// row returns row's progress, growing the table to it; a.mu held.
func (a *applier) row(i int) *rowProgress {
	if i >= len(a.rows) {
		a.rows = append(a.rows, make([]rowProgress, i+1-len(a.rows))...)
	}
	return &a.rows[i]
}

// release lets go of a row held by expect.
func (a *applier) release(row int) { a.rowPartDone(row, false) }

// rowPartDone counts one chain (or plan part) of row finished; the row is
// done when the last one is.
func (a *applier) rowPartDone(row int, failed bool) {
	a.mu.Lock()
	r := a.row(row)
	r.failed = r.failed || failed
	r.pending--
	if r.pending > 0 || !r.counted {
		a.mu.Unlock()
		return // the row's other target is still at work, or it writes nothing
	}
	a.doneRows++
	if r.failed {
		a.failRows++
	}
	done, failedRows, total := a.doneRows, a.failRows, a.total
	a.progressMu.Lock()
	defer a.progressMu.Unlock()
	a.mu.Unlock()
	if a.ao.Progress != nil {
		a.ao.Progress(done, failedRows, total)
	}
}

func (a *applier) isDown(cluster string) error {
	a.downMu.Lock()
	defer a.downMu.Unlock()
	return a.down[cluster]
}

// runChain runs one chain's operations in order. A Unity Connection
// cluster that is unreachable or refuses access fails its own operations;
// the other clusters and VOSS go on. VOSS, shared by every row, stops the
// run.
func (a *applier) runChain(c *chain) {
	rc := &rowCtx{failed: map[string]bool{}, written: a.written}
	tc := a.t
	if c.ops[0].Target == "cupi" {
		tc = a.t.Cluster(c.cluster)
	}
	failed := false
	for _, op := range c.ops {
		if a.dispatch.Err() != nil && op == c.ops[0] {
			return
		}
		if op.Target == "cupi" {
			if derr := a.isDown(kinds.ClusterName(c.cluster)); derr != nil {
				// Said once, by the operation that found it down (with
				// its own request); the rest are not run, and say why
				// without quoting another operation's request.
				op.Status, op.Error = Skipped, NotRunDown(kinds.ClusterName(c.cluster), derr)
				continue
			}
		}
		err := runOp(a.reqCtx, op, rc, tc, a.o, a.ao.Journal)
		if err != nil {
			var fe *FatalError
			if errors.As(err, &fe) && op.Target == "cupi" && targetFailure(fe.Err) {
				a.downMu.Lock()
				if a.down[kinds.ClusterName(c.cluster)] == nil {
					a.down[kinds.ClusterName(c.cluster)] = fe.Err
				}
				a.downMu.Unlock()
				failed = true
				continue
			}
			if errors.As(err, &fe) || errors.Is(err, context.Canceled) {
				a.fatalOnce.Do(func() { a.fatalErr = err })
				a.stop()
				return
			}
		}
		failed = failed || op.Status == Failed
	}
	a.rowPartDone(c.row, failed)
}

// NotRunDown is the reason of an operation not run because its Unity
// Connection cluster went down (kinds.NotRunDown).
func NotRunDown(cluster string, err error) string { return kinds.NotRunDown(cluster, err) }

// finish waits for every queued chain, marks what never ran as skipped,
// and returns what stopped the run, if anything: a fatal error, an
// interrupt, or clusters that failed as a whole.
func (a *applier) finish(p *Plan) error {
	a.mu.Lock()
	for _, q := range a.queues {
		q.close()
	}
	a.mu.Unlock()
	a.wg.Wait()
	defer a.cancel()
	defer a.stopAt()
	defer a.stop()
	for _, op := range p.Ops {
		if op.Status == Planned && op.Writes() {
			op.Status = Skipped
			if op.Error == "" {
				op.Error = "not run: the run stopped before this row"
			}
		}
	}
	if a.fatalErr != nil {
		var fe *FatalError
		if errors.As(a.fatalErr, &fe) {
			return a.fatalErr
		}
	}
	if a.ctx.Err() != nil {
		return ErrInterrupted
	}
	if a.fatalErr != nil {
		return a.fatalErr
	}
	if len(a.down) > 0 {
		return &ClustersDown{Errs: a.down}
	}
	return nil
}

// runOp executes one operation with journaling; it returns a non-nil
// error only for conditions that stop the run.
func runOp(ctx context.Context, op *Op, rc *rowCtx, t *Targets, o Options, j *Journal) error {
	defer op.Release() // run once: what only the write needed goes with it
	defer rc.keep(op)  // before the release: a read-back needs its proof
	if rc.failed[op.Target] {
		op.Status, op.Error = Skipped, "skipped: an earlier "+op.Target+" operation of this row failed"
		return nil
	}
	k := kinds.Of(op.Kind)
	if k.NeedsUser() && op.UserID == "" {
		op.UserID = rc.userID
		if op.UserID == "" {
			op.Status, op.Error = Skipped, "skipped: the CUPI user does not exist"
			rc.failed[op.Target] = true
			return nil
		}
	}
	// The write-time extras (a credential's TimeChanged, the proof of a
	// set whose answer gets lost); a read that fails leaves the proof
	// unread, and the write goes on.
	if err := k.Prepare(ctx, op, t, o); errors.Is(err, context.Canceled) {
		op.Status, op.Error = Skipped, "not run: interrupted"
		return err
	}
	// The keyed hashes of the secrets sent, by run-state scope for objects
	// whose server id is known before the write, by create scope for a
	// create (a resumed run that finds the object knows what it was sent).
	hashes := map[string]string{}
	scopeOf := t.SecretScope
	if kinds.ObjectID(op) == "" {
		scopeOf = t.CreateScope
	}
	if kinds.ObjectID(op) != "" || op.Action == Create {
		for p, v := range op.Secrets.All() {
			scope := scopeOf(op, p)
			hashes[scope] = o.RunState.Hash(scope, v)
		}
	}
	if o.OneTime != nil {
		if err := o.OneTime.Record(op); err != nil {
			op.Status, op.Error = Failed, err.Error()
			return &FatalError{Err: err}
		}
	}
	if ok, err := commitIntent(ctx, op, rc, t, o, j, hashes); !ok {
		return err
	}
	err := execute(ctx, op, t, o, j)
	if journaled, stop := afterWrite(err, op, k, rc, t, o, hashes); !journaled {
		return stop
	}
	if j != nil {
		if jerr := journalOutcome(j, op, hashes); jerr != nil {
			return &FatalError{Err: jerr}
		}
	}
	if berr := backoutOutcome(o.Backout, op); berr != nil {
		return berr
	}
	var fe *FatalError
	if errors.As(err, &fe) {
		return err
	}
	return nil
}

// commitIntent makes op's back-out line and journal intent durable
// before op is sent: both are appended, the intent carrying the back-out
// line, and the journal synced in a group commit shared with the other
// writes that append meanwhile, the back-out file written in the same
// round (store.SyncCarried); without a journal, the back-out file is
// synced (store.Sync). When they could not be, it fails op (ok false)
// and returns the error that stops the run, if it does.
func commitIntent(ctx context.Context, op *Op, rc *rowCtx, t *Targets, o Options, j *Journal, hashes map[string]string) (ok bool, stop error) {
	bm, err := backoutIntent(ctx, o.Backout, op, t, o)
	if err != nil {
		return false, backoutRefused(op, rc, err)
	}
	jm, err := journalIntent(j, op, hashes, bm.Line())
	if err == nil {
		sync := store.Sync // no journal: both files synced at once
		if j != nil && o.Backout != nil {
			sync = store.SyncCarried // the intent carries the back-out line: one fsync
		}
		var berr error
		if err, berr = sync(jm, bm); err == nil && berr != nil {
			return false, backoutRefused(op, rc, &FatalError{Err: berr})
		}
	}
	if err != nil {
		op.Status, op.Error = Failed, err.Error()
		return false, &FatalError{Err: err}
	}
	return true, nil
}

// afterWrite records how op's write ended (err) in op, its row's chain
// and the run state: the keyed hashes of the secrets a done write set
// (into hashes, for the outcome line), the CUPI user a later operation of
// the row writes under. It reports whether the outcome is journaled — a
// write that was interrupted, or whose outcome is unknown, stays pending
// for a resume to verify — and, when not, the error that stops the run.
func afterWrite(err error, op *Op, k kinds.Kind, rc *rowCtx, t *Targets, o Options, hashes map[string]string) (journaled bool, stop error) {
	var unknown *outcomeUnknownError
	switch {
	case err == nil:
		op.Status, op.Error = Done, ""
		clear(hashes)
		for p, v := range op.Secrets.All() {
			scope := t.SecretScope(op, p)
			h := o.RunState.Hash(scope, v)
			o.RunState.Set(scope, h)
			hashes[scope] = h
		}
		if k.GivesUser() {
			rc.userID = kinds.ObjectID(op)
		}
		recordWritten(op, t, o)
	case errors.Is(err, context.Canceled):
		// The request may have reached the server: the intent stays
		// pending, and the resumed run verifies it before anything else.
		op.Status, op.Error = Skipped, "not run: interrupted (a resumed run verifies whether it happened)"
		rc.failed[op.Target] = true
		return false, err
	case errors.As(err, &unknown):
		// Pending until proven: no outcome line, so a resume verifies it;
		// and a credential's value is remembered as "maybe set", so the
		// next run reads TimeChanged before sending it again.
		op.Status, op.Error = Failed, err.Error()
		rc.failed[op.Target] = true
		if before, ok := op.TimeBefore(); ok && k.TimeProof() {
			for scope, h := range hashes {
				o.RunState.SetMaybe(scope, h, before)
			}
		}
		return false, nil
	default:
		op.Status, op.Error = Failed, err.Error()
		rc.failed[op.Target] = true
		if k.TimeProof() {
			for scope := range hashes {
				o.RunState.ForgetMaybe(scope)
			}
		}
	}
	return true, nil
}

// targetFailure reports whether err is the target failing as a whole —
// access refused, unreachable, throttling that never ends — rather than
// the run itself (its checkpoint, an interrupt).
func targetFailure(err error) bool {
	var ce *CheckpointError
	if errors.As(err, &ce) {
		return false
	}
	switch targets.Classify(err) {
	case targets.Fatal, targets.Transient, targets.Throttled:
		return true
	}
	return false
}

// outcomeUnknownError is a write that may or may not have taken effect,
// and re-reading could not tell.
type outcomeUnknownError struct{ err error }

func (e *outcomeUnknownError) Error() string {
	return "outcome unknown (the next run re-reads it before sending anything): " + e.err.Error()
}
func (e *outcomeUnknownError) Unwrap() error { return e.err }

// execute sends op's write with retries. A write whose outcome is unknown
// (the answer was lost, or a proxy answered 500/502/504) is never blindly
// resent: the object is re-read (a VOSS transaction polled to its end, a
// credential's TimeChanged compared) first. A write the server refuses
// every time fails its row; only the target as a whole failing (access
// refused, unreachable) stops the run.
func execute(ctx context.Context, op *Op, t *Targets, o Options, j *Journal) error {
	l := t.LimiterOf(op.Target)
	// An intent an interrupted run journaled without an outcome: the write
	// may have happened, so a refusal of the resend is checked, not trusted.
	unknown := j.IsPending(op.ID)
	const rounds = 4
	var last error
	for round := 0; round < rounds; round++ {
		err := o.Retry.Do(ctx, l, func(ctx context.Context) (int, error) {
			err := write(ctx, op, t, j)
			return kinds.HTTPStatus(err), err
		})
		if err == nil {
			return nil
		}
		class := targets.Classify(err)
		switch {
		case class == targets.Canceled:
			return err
		case class == targets.Unknown || (unknown && class == targets.Permanent):
			unknown = true
			landed, verr := verify(ctx, op, t, o)
			switch {
			case errors.Is(verr, context.Canceled):
				return verr
			case verr != nil && targets.Classify(verr) == targets.Fatal:
				return &FatalError{Err: verr}
			case verr != nil:
				return &outcomeUnknownError{err: fmt.Errorf("%v; re-reading failed: %w", err, verr)}
			case landed:
				return nil
			case class == targets.Permanent:
				return refusal(err, op, o)
			case errors.As(err, new(*targets.BadAnswerError)):
				// Something other than the target answered (a proxy's
				// page): proven not applied, the operation fails; sending
				// it again would meet the same answer (issue 23).
				return fmt.Errorf("%w; re-reading the target showed it was not applied", err)
			}
			op.SetTxID("") // proven not applied: safe to send again
			last = err
			continue
		case class == targets.Fatal:
			return &FatalError{Err: err}
		case class == targets.Throttled || (class == targets.Transient && kinds.APIErr(err) == nil):
			return &FatalError{Err: fmt.Errorf("%s unreachable after retries: %w", op.Target, err)}
		}
		return refusal(err, op, o)
	}
	return fmt.Errorf("%w (sent %d times; each time re-reading showed it was not applied)", last, rounds)
}

// refusal words a credential refusal that looks like the password
// history's: bulkprov proved (by TimeChanged) that its own set did not
// land, so the value was used before.
func refusal(err error, op *Op, o Options) error {
	ae := kinds.APIErr(err)
	if !kinds.Of(op.Kind).TimeProof() || ae == nil || ae.Status != 400 {
		return err
	}
	for _, re := range o.ReusePatterns {
		if re.MatchString(ae.Message) || re.MatchString(ae.Code) {
			return fmt.Errorf("%w (this looks like the credential policy's history refusing a value used before; TimeChanged shows this run did not set it: choose a new value)", err)
		}
	}
	return err
}

// write sends one attempt of op's write through its kind.
func write(ctx context.Context, op *Op, t *Targets, j *Journal) error {
	onTx := func(id string) {
		op.SetTxID(id)
		if j != nil {
			_ = journalTx(j, op, id)
		}
	}
	return kinds.Of(op.Kind).Write(ctx, op, t, onTx)
}

// check asks op's kind whether its write took effect.
func check(ctx context.Context, op *Op, t *Targets) (bool, error) {
	return kinds.Of(op.Kind).Verify(ctx, op, t)
}

// verify re-reads the target after a write whose outcome is unknown (or
// that was refused on a resend after an unknown outcome) and reports
// whether the write took effect.
func verify(ctx context.Context, op *Op, t *Targets, o Options) (bool, error) {
	var ok bool
	err := o.Retry.Do(ctx, t.LimiterOf(op.Target), func(ctx context.Context) (int, error) {
		var err error
		ok, err = check(ctx, op, t)
		return kinds.HTTPStatus(err), err
	})
	return ok, err
}

// ResolvePending settles what an interrupted run left pending before
// anything is planned: it waits for the VOSS transactions that run
// started, and learns from TimeChanged (seed 000) whether each credential
// set whose answer was lost landed — a set that landed is recorded as
// applied, so it is not sent again (a real Unity Connection would refuse
// it as recently used). Pending writes it cannot settle stay pending and
// are re-read by the fresh plan.
func ResolvePending(ctx context.Context, j *Journal, t *Targets, o Options) error {
	o.Defaults()
	if j == nil {
		return nil
	}
	for id, e := range j.Pending {
		settled, err := kinds.Of(e.Kind).Settle(ctx, e, t, o)
		if err != nil {
			return err
		}
		if settled {
			delete(j.Pending, id)
			if j.Settled != nil {
				j.Settled[id] = e // for the account (cmd/bulkprov markEarlierWork)
			}
		}
	}
	return nil
}
