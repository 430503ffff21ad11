package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/transform"
)

// ApplyOptions tune execution.
type ApplyOptions struct {
	Workers  int           // rows in flight at once
	Journal  *Journal      // checkpoint; nil for none
	Grace    time.Duration // how long in-flight requests may finish after an interrupt
	Progress func(done, failed, total int)
}

// ErrInterrupted is returned when the run was stopped by its context.
var ErrInterrupted = errors.New("interrupted")

// rowCtx carries what one row's operations learn as they run.
type rowCtx struct {
	userID string
	failed map[string]bool // target -> an earlier op failed
}

// Apply executes the plan's writes: rows in parallel through a bounded
// pool, the operations of one row in order, each request under its
// target's adaptive limiter with retries. A failed row is recorded and the
// run goes on; a fatal condition (authentication refused, target
// unreachable, checkpoint not writable) or cancellation of ctx stops
// dispatching, lets in-flight work finish within Grace, and returns.
func Apply(ctx context.Context, p *Plan, t *Targets, o Options, ao ApplyOptions) error {
	o.defaults()
	if ao.Workers <= 0 {
		ao.Workers = 16
	}
	if ao.Grace <= 0 {
		ao.Grace = 30 * time.Second
	}
	// Requests run on their own context so an interrupt stops dispatching
	// at once but lets requests in flight finish (bounded by Grace).
	reqCtx, cancelReq := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReq()
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(ao.Grace, cancelReq) })
	defer stopAfter()

	rows := map[int][]*Op{}
	var order []int
	total := 0
	for _, op := range p.Ops {
		if op.Status != Planned || !op.Writes() {
			continue
		}
		if e, ok := ao.Journal.done(op.ID); ok {
			op.Status, op.CreatedID = Done, e.ID
			continue
		}
		if _, seen := rows[op.Row]; !seen {
			order = append(order, op.Row)
		}
		rows[op.Row] = append(rows[op.Row], op)
	}
	total = len(order)
	var doneRows, failedRows atomic.Int64
	var fatalErr error
	var fatalOnce sync.Once
	dispatch, stop := context.WithCancel(ctx)
	defer stop()
	g := new(errgroup.Group)
	g.SetLimit(ao.Workers)
	for _, ri := range order {
		if dispatch.Err() != nil {
			break
		}
		ops := rows[ri]
		g.Go(func() error {
			if dispatch.Err() != nil {
				return nil
			}
			rc := &rowCtx{failed: map[string]bool{}}
			rowFailed := false
			for _, op := range ops {
				err := runOp(reqCtx, op, rc, t, o, ao.Journal)
				if err != nil {
					var fe *FatalError
					if errors.As(err, &fe) || errors.Is(err, context.Canceled) {
						fatalOnce.Do(func() { fatalErr = err })
						stop()
						return nil
					}
				}
				if op.Status == Failed {
					rowFailed = true
				}
			}
			doneRows.Add(1)
			if rowFailed {
				failedRows.Add(1)
			}
			if ao.Progress != nil {
				ao.Progress(int(doneRows.Load()), int(failedRows.Load()), total)
			}
			return nil
		})
	}
	_ = g.Wait()
	for _, op := range p.Ops {
		if op.Status == Planned && op.Writes() {
			op.Status = Skipped
			if op.Error == "" {
				op.Error = "not run: the run stopped before this row"
			}
		}
	}
	if fatalErr != nil {
		var fe *FatalError
		if errors.As(fatalErr, &fe) {
			return fatalErr
		}
	}
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	return fatalErr
}

func (j *Journal) pending(id string) bool {
	if j == nil {
		return false
	}
	_, ok := j.Pending[id]
	return ok
}

func (j *Journal) done(id string) (Entry, bool) {
	if j == nil {
		return Entry{}, false
	}
	e, ok := j.Done[id]
	return e, ok
}

// runOp executes one operation with journaling; it returns a non-nil
// error only for conditions that stop the run.
func runOp(ctx context.Context, op *Op, rc *rowCtx, t *Targets, o Options, j *Journal) error {
	if rc.failed[op.Target] {
		op.Status, op.Error = Skipped, "skipped: an earlier "+op.Target+" operation of this row failed"
		return nil
	}
	if op.Target == "cupi" && op.Kind != transform.KindCUPIUser && op.Kind != transform.KindAuthz && op.UserID == "" {
		op.UserID = rc.userID
		if op.UserID == "" {
			op.Status, op.Error = Skipped, "skipped: the CUPI user does not exist"
			rc.failed[op.Target] = true
			return nil
		}
	}
	if op.Kind == transform.KindPassword || op.Kind == transform.KindPIN {
		if err := readProof(ctx, op, t, o, j); err != nil {
			op.Status, op.Error = Failed, err.Error()
			rc.failed[op.Target] = true
			if targets.Classify(err) == targets.Fatal || errors.Is(err, context.Canceled) {
				return &FatalError{Err: err}
			}
			return nil
		}
	}
	if j != nil {
		if err := j.Intent(op); err != nil {
			op.Status, op.Error = Failed, err.Error()
			return &FatalError{Err: err}
		}
	}
	err := execute(ctx, op, rc, t, o, j)
	hashes := map[string]string{}
	if err == nil {
		op.Status, op.Error = Done, ""
		for p, scope := range op.scopes {
			h := o.RunState.Hash(scope, op.Secrets[p])
			o.RunState.Set(scope, h)
			hashes[scope] = h
		}
		if op.Kind == transform.KindCUPIUser {
			if op.CreatedID != "" {
				rc.userID = op.CreatedID
			} else {
				rc.userID = op.UserID
			}
		}
	} else {
		op.Status, op.Error = Failed, err.Error()
		rc.failed[op.Target] = true
	}
	if j != nil {
		if jerr := j.Outcome(op, hashes); jerr != nil {
			return &FatalError{Err: jerr}
		}
	}
	if err != nil {
		var fe *FatalError
		if errors.As(err, &fe) || errors.Is(err, context.Canceled) {
			return err
		}
	}
	return nil
}

// credKind returns the CUPI credential kind of a password or PIN op.
func credKind(op *Op) string {
	if op.Kind == transform.KindPIN {
		return cupi.PIN
	}
	return cupi.Password
}

// readProof sets op.Proof before a credential set: the proof an earlier,
// interrupted run journaled for it, else the credential's TimeChanged now.
func readProof(ctx context.Context, op *Op, t *Targets, o Options, j *Journal) error {
	if j != nil {
		if e, ok := j.Pending[op.ID]; ok && e.Proof != "" {
			op.Proof = e.Proof
			return nil
		}
	}
	return o.Retry.Do(ctx, t.limiter(op.Target), func(ctx context.Context) (int, error) {
		cred, err := t.CUPI.Credential(ctx, op.UserID, credKind(op))
		if err == nil {
			op.Proof = "t:" + cred["TimeChanged"]
		}
		return status(err), err
	})
}

// execute sends op's write with retries. A write whose outcome is unknown
// (the response was lost) is never blindly resent: the object is re-read
// (or the VOSS transaction polled) first.
func execute(ctx context.Context, op *Op, rc *rowCtx, t *Targets, o Options, j *Journal) error {
	l := t.limiter(op.Target)
	// An intent an interrupted run journaled without an outcome: the write
	// may have happened, so a refusal of the resend is checked, not trusted.
	unknown := j.pending(op.ID)
	for round := 0; round < 4; round++ {
		err := o.Retry.Do(ctx, l, func(ctx context.Context) (int, error) {
			op.Attempts++
			err := write(ctx, op, t, j)
			return status(err), err
		})
		if err == nil {
			return nil
		}
		class := targets.Classify(err)
		if class == targets.Unknown || (unknown && class == targets.Permanent) {
			unknown = true
			ok, verr := verify(ctx, op, t, o, err)
			if verr != nil {
				return fatal(verr)
			}
			if ok {
				return nil
			}
			if class == targets.Permanent {
				return err
			}
			op.TxID = "" // not applied: safe to send again
			continue
		}
		if class == targets.Fatal {
			return &FatalError{Err: err}
		}
		if class == targets.Throttled || class == targets.Transient {
			return &FatalError{Err: fmt.Errorf("%s unreachable after retries: %w", op.Target, err)}
		}
		return err
	}
	return fmt.Errorf("%s %s: outcome still unknown after re-reading", op.Kind, op.Key)
}

// withSecrets returns the body with the op's secret values put back in.
func withSecrets(op *Op) map[string]any {
	body := transform.CopyTree(op.Body)
	for p, v := range op.Secrets {
		setDotted(body, p, v)
	}
	return body
}

// setDotted sets a value at a path like "a.b" or "a.[0].b".
func setDotted(m map[string]any, path string, v any) {
	segs := strings.Split(path, ".")
	var cur any = m
	for i, s := range segs {
		last := i == len(segs)-1
		switch node := cur.(type) {
		case map[string]any:
			if last {
				node[s] = v
				return
			}
			next, ok := node[s]
			if !ok {
				if strings.HasPrefix(segs[i+1], "[") {
					next = []any{}
				} else {
					next = map[string]any{}
				}
				node[s] = next
			}
			if arr, ok := next.([]any); ok && strings.HasPrefix(segs[i+1], "[") {
				n, _ := strconv.Atoi(strings.Trim(segs[i+1], "[]"))
				for len(arr) <= n {
					arr = append(arr, map[string]any{})
				}
				node[s] = arr
			}
			cur = node[s]
		case []any:
			n, _ := strconv.Atoi(strings.Trim(s, "[]"))
			if last {
				node[n] = v
				return
			}
			if node[n] == nil {
				node[n] = map[string]any{}
			}
			cur = node[n]
		default:
			return
		}
	}
}

func flat(body map[string]any) cupi.Object {
	o := cupi.Object{}
	for k, v := range body {
		o[k] = norm(v)
	}
	return o
}

// write sends one attempt of op's write.
func write(ctx context.Context, op *Op, t *Targets, j *Journal) error {
	onTx := func(id string) {
		op.TxID = id
		if j != nil {
			_ = j.Tx(op, id)
		}
	}
	switch op.Kind {
	case transform.KindUser, transform.KindAdminREL:
		err := writeVOSS(ctx, op, t, onTx)
		if ae := apiErr(err); ae != nil && ae.Status == 404 && strings.Contains(ae.Path, "/tool/Transaction/") {
			// The server lost the transaction (a restart): re-read to learn
			// whether the write happened.
			return &targets.UnknownOutcomeError{Err: err}
		}
		return err
	case transform.KindCUPIUser:
		switch op.Action {
		case Create:
			id, err := t.CUPI.CreateUser(ctx, op.Template, flat(op.Body))
			op.CreatedID = id
			return err
		case Update:
			return t.CUPI.UpdateUser(ctx, op.UserID, flat(op.Body))
		case Delete:
			return t.CUPI.DeleteUser(ctx, op.UserID)
		}
	case transform.KindUserRole:
		if op.Action == Create {
			id, err := t.CUPI.AddUserRole(ctx, op.UserID, op.RoleID)
			op.CreatedID = id
			return err
		}
		return t.CUPI.DeleteUserRole(ctx, op.UserID, op.ObjectID)
	case transform.KindPassword, transform.KindPIN:
		kind := cupi.Password
		if op.Kind == transform.KindPIN {
			kind = cupi.PIN
		}
		return t.CUPI.SetCredential(ctx, op.UserID, kind, flat(withSecrets(op)))
	case transform.KindAuthz:
		switch op.Action {
		case Create:
			id, err := t.CUPI.CreateAuthzServer(ctx, flat(withSecrets(op)))
			op.CreatedID = id
			return err
		case Update:
			return t.CUPI.UpdateAuthzServer(ctx, op.ObjectID, flat(withSecrets(op)))
		case Delete:
			return t.CUPI.DeleteAuthzServer(ctx, op.ObjectID)
		}
	}
	return fmt.Errorf("no writer for %s %s", op.Kind, op.Action)
}

// writeVOSS sends a VOSS write, or, when its transaction is already known,
// only waits for that transaction to end.
func writeVOSS(ctx context.Context, op *Op, t *Targets, onTx func(string)) error {
	if op.TxID != "" {
		pkid, err := t.VOSS.Wait(ctx, op.TxID)
		if err == nil && op.Action == Create {
			op.CreatedID = pkid
		}
		return err
	}
	var res voss.WriteResult
	var err error
	switch op.Action {
	case Create:
		res, err = t.VOSS.Create(ctx, op.Model, op.Hierarchy, withSecrets(op), onTx)
		op.CreatedID = res.Pkid
	case Update:
		_, err = t.VOSS.Update(ctx, op.Model, op.Pkid, op.Hierarchy, withSecrets(op), onTx)
	case Delete:
		_, err = t.VOSS.Delete(ctx, op.Model, op.Pkid, op.Hierarchy, onTx)
	}
	return err
}

// verify re-reads the target after a write whose outcome is unknown (or
// that was refused on a resend after an unknown outcome) and reports
// whether the write took effect.
func verify(ctx context.Context, op *Op, t *Targets, o Options, cause error) (bool, error) {
	var ok bool
	err := o.Retry.Do(ctx, t.limiter(op.Target), func(ctx context.Context) (int, error) {
		var err error
		ok, err = check(ctx, op, t, cause)
		return status(err), err
	})
	return ok, err
}

func check(ctx context.Context, op *Op, t *Targets, cause error) (bool, error) {
	switch op.Kind {
	case transform.KindUser, transform.KindAdminREL:
		key := op.Key[strings.LastIndex(op.Key, "/")+1:]
		keyField := map[string]string{transform.KindUser: "username", transform.KindAdminREL: "hcsUname"}[op.Kind]
		found := ""
		err := t.VOSS.List(ctx, op.Model, op.Hierarchy, [2]string{keyField, key}, func(s voss.Summary) error {
			if s.Hierarchy == op.Hierarchy {
				found = s.Pkid
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		switch op.Action {
		case Create:
			op.CreatedID = found
			return found != "", nil
		case Delete:
			return found == "", nil
		}
		return false, nil // an update is idempotent: send it again
	case transform.KindCUPIUser:
		u, err := t.CUPI.FindUser(ctx, op.Alias)
		if errors.Is(err, targets.ErrNotFound) {
			return op.Action == Delete, nil
		}
		if err != nil {
			return false, err
		}
		if op.Action == Create {
			op.CreatedID = u["ObjectId"]
			return true, nil
		}
		return op.Action != Update && op.Action != Delete, nil
	case transform.KindUserRole:
		urs, err := t.CUPI.UserRoles(ctx, op.UserID)
		if err != nil {
			return false, err
		}
		held := false
		for _, ur := range urs {
			if ur["RoleObjectId"] == op.RoleID {
				held = true
			}
		}
		return held == (op.Action == Create), nil
	case transform.KindPassword, transform.KindPIN:
		// TimeChanged moves when a set lands (seed 000): a value other
		// than the one read before the first attempt proves it landed. The
		// wording of a refusal proves nothing: it differs between versions
		// and locales.
		if op.Proof == "" {
			return false, nil
		}
		cred, err := t.CUPI.Credential(ctx, op.UserID, credKind(op))
		if err != nil {
			return false, err
		}
		return "t:"+cred["TimeChanged"] != op.Proof, nil
	case transform.KindAuthz:
		list, err := t.CUPI.AuthzServers(ctx)
		if err != nil {
			return false, err
		}
		var found cupi.Object
		for _, a := range list {
			if strings.EqualFold(a["DisplayName"], op.Key) {
				found = a
			}
		}
		switch op.Action {
		case Create:
			if found != nil {
				op.CreatedID = found["ObjectId"]
			}
			return found != nil, nil
		case Delete:
			return found == nil, nil
		}
	}
	return false, nil
}

// ResumeTransactions waits for the VOSS transactions an interrupted run
// started but did not see finish, so a fresh plan sees their effect and
// nothing is created twice.
func ResumeTransactions(ctx context.Context, j *Journal, t *Targets, o Options) error {
	o.defaults()
	if j == nil || t.VOSS == nil {
		return nil
	}
	for id, e := range j.Pending {
		if e.Tx == "" {
			continue
		}
		err := o.Retry.Do(ctx, t.VOSSLimiter, func(ctx context.Context) (int, error) {
			_, err := t.VOSS.Wait(ctx, e.Tx)
			var tf *voss.TxFailed
			if errors.As(err, &tf) {
				return 200, nil // ended; the fresh plan decides what is left
			}
			return status(err), err
		})
		if err != nil && !errors.Is(err, targets.ErrNotFound) {
			return fatal(fmt.Errorf("waiting for VOSS transaction %s of an interrupted run: %w", e.Tx, err))
		}
		delete(j.Pending, id)
	}
	return nil
}
