package kinds

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// credentialKind is a Unity Connection user's password or PIN: its
// settings and, write-only, its value.
type credentialKind struct{ noExtras }

func (credentialKind) Name(w *Want, n *named) {
	if w.CUPIDetails().PolicyName == "" {
		return
	}
	// A policy named by its display name: the policies are listed.
	n.lists["policies"] = func(ctx context.Context, tc *Targets, cs *cupiState) error {
		return index(tc.CUPI.CredentialPolicies, ctx, "DisplayName", cs.policies)
	}
}

// perUser reads the settings, and TimeChanged: the proof of a set whose
// answer is lost, read before the set.
func (credentialKind) PerUser(w *Want, u cupi.Object, cs *cupiState, t *Targets, o Options) (string, func(context.Context) error) {
	if len(w.Fields) == 0 && w.CUPIDetails().PolicyName == "" && !secretsToCheck(*w, u["ObjectId"], t, o) {
		return "", nil
	}
	id, kind := u["ObjectId"], credKind(w.Kind)
	return kind + "|" + id, func(ctx context.Context) error {
		c, err := t.CUPI.Credential(ctx, id, kind)
		cs.mu.Lock()
		cs.creds[id+"|"+kind] = c
		cs.mu.Unlock()
		return optional(err)
	}
}

func (credentialKind) ObjectID(op *Op) string { return op.UserID }

func (credentialKind) NeedsUser() bool { return true }

func (credentialKind) TimeProof() bool { return true }

// prepare reads TimeChanged before a set of a value, when the plan did
// not (a user this run created, say): the proof of a set whose answer
// gets lost is TimeChanged moving.
func (credentialKind) Prepare(ctx context.Context, op *Op, t *Targets, o Options) error {
	if op.Secrets.Len() == 0 || op.HasTimeBefore() {
		return nil
	}
	return readBefore(ctx, op, t, o)
}

// settle learns from TimeChanged (seed 000) whether a set whose answer an
// interrupted run lost landed: a set that landed is recorded as applied,
// so it is not sent again (a real Unity Connection would refuse it as
// recently used).
func (credentialKind) Settle(ctx context.Context, e Entry, t *Targets, o Options) (bool, error) {
	if e.Before == nil || e.Object == "" || t.Cluster(e.Cluster).CUPI == nil {
		return false, nil
	}
	tc := t.Cluster(e.Cluster)
	var c cupi.Object
	err := o.Retry.Do(ctx, tc.CUPILimiter, func(ctx context.Context) (int, error) {
		var err error
		c, err = tc.CUPI.Credential(ctx, e.Object, credKind(e.Kind))
		return HTTPStatus(err), err
	})
	if errors.Is(err, targets.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, Fatal(fmt.Errorf("reading the %s settings of %s after an interrupted run: %w", e.Kind, e.Key, err))
	}
	if c["TimeChanged"] != *e.Before {
		for scope, h := range e.Hashes {
			o.RunState.Set(scope, h)
		}
	}
	return true, nil
}

func (credentialKind) Wrote(op *Op) map[string]any { return op.SendBody() }

func (credentialKind) ReadWant(e *BackoutEntry) Want {
	w := entryWant(e)
	w.Fields = map[string]any{"settings": ""} // read the settings
	return w
}

func (credentialKind) Owner(e *BackoutEntry) string { return userOwner(e.Alias) }

func (credentialKind) UndoRank(*Op) int { return rankChild }

func (credentialKind) Diff(st *State, w Want, op *Op, t *Targets, o Options) []*Op {
	return []*Op{diffCredential(st, w, op, t, o)}
}

func (credentialKind) Write(ctx context.Context, op *Op, t *Targets, _ func(string)) error {
	kind := cupi.Password
	if op.Kind == KindPIN {
		kind = cupi.PIN
	}
	return t.CUPI.SetCredential(ctx, op.UserID, kind, flat(withSecrets(op)))
}

func (credentialKind) Verify(ctx context.Context, op *Op, t *Targets) (bool, error) {
	// A set is proven by TimeChanged moving (seed 000) — never by the
	// wording of a refusal, which differs between versions and locales.
	if op.Secrets.Len() == 0 {
		return false, nil // settings only: sending them again is harmless
	}
	before, ok := op.TimeBefore()
	if !ok {
		return false, errors.New("no TimeChanged was read before the set, so its outcome cannot be proven")
	}
	c, err := t.CUPI.Credential(ctx, op.UserID, credKind(op.Kind))
	if err != nil {
		return false, err
	}
	return c["TimeChanged"] != before, nil
}

func (credentialKind) Revert(st *State, e *BackoutEntry, _ BackoutHeader, force bool) []*Op {
	return []*Op{revertCredential(st, e, force)}
}

func diffCredential(st *State, w Want, op *Op, t *Targets, o Options) *Op {
	op.Alias = w.Alias
	kind := cupi.Password
	if w.Kind == KindPIN {
		kind = cupi.PIN
	}
	u := st.user(w.Alias)
	fields := map[string]any{}
	for k, v := range w.Fields {
		fields[k] = v
	}
	if policy := w.CUPIDetails().PolicyName; policy != "" {
		p := st.policies[strings.ToLower(policy)]
		if p == nil {
			op.Action = Update
			return failOp(op, "credential policy %q does not exist on Unity Connection%s (map it with \"credentialPolicies\" in --config)", policy, didYouMeanNamed(policy, st.policies, "DisplayName"))
		}
		fields["CredentialPolicyObjectId"] = p["ObjectId"]
	}
	var cur cupi.Object
	if u != nil {
		op.UserID = u["ObjectId"]
		cur = st.creds[u["ObjectId"]+"|"+kind]
	}
	if cur != nil {
		op.SetTimeBefore(cur["TimeChanged"])
		resolveMaybe(op, w.Secrets, t, o)
	}
	op.Fingerprint = fingerprint(withoutTimes(cur))
	flatKeys := true // every field sent by its name: the body need not be held
	for _, k := range plan.SortedKeys(fields) {
		wv := plan.Norm(fields[k])
		var hv any
		if cur != nil {
			if h, ok := cur[k]; ok {
				hv = h
				if strings.EqualFold(h, wv) {
					continue
				}
			}
		}
		op.Changes = append(op.Changes, Change{Field: k, Old: hv, New: wv})
		flatKeys = flatKeys && k != "" && !strings.ContainsAny(k, ".[")
	}
	secretChanges(op, w.Secrets, u != nil, t, o)
	if len(op.Changes) == 0 {
		op.Action = Noop
		return op
	}
	if flatKeys {
		op.DeriveBody() // its changes say it: not held until the write (issue 28)
		return op
	}
	op.Action, op.Body = Update, map[string]any{}
	for _, c := range op.Changes {
		if !c.Secret {
			op.Body[c.Field] = c.New
		}
	}
	return op
}

// resolveMaybe settles the secrets of a credential that an earlier run
// sent without learning the outcome: TimeChanged moved since then proves
// the set landed, so the value is known as applied and not sent again.
func resolveMaybe(op *Op, secrets Secrets, t *Targets, o Options) {
	for p, v := range secrets.All() {
		scope := t.SecretScope(op, p)
		m, ok := o.RunState.Maybe(scope)
		if !ok || m.Hash != o.RunState.Hash(scope, v) {
			continue
		}
		if before, _ := op.TimeBefore(); before != m.Before {
			o.RunState.Set(scope, m.Hash)
		}
	}
}

// withoutTimes drops the fields of credential settings that change by
// themselves (a set moves TimeChanged), so a saved plan is not refused
// for them.
func withoutTimes(c cupi.Object) cupi.Object {
	if c == nil {
		return nil
	}
	out := cupi.Object{}
	for k, v := range c {
		if !strings.HasPrefix(k, "Time") && k != "HackCount" {
			out[k] = v
		}
	}
	return out
}

// readBefore reads a credential's TimeChanged before its set.
func readBefore(ctx context.Context, op *Op, t *Targets, o Options) error {
	return o.Retry.Do(ctx, t.CUPILimiter, func(ctx context.Context) (int, error) {
		c, err := t.CUPI.Credential(ctx, op.UserID, credKind(op.Kind))
		if err == nil {
			op.SetTimeBefore(c["TimeChanged"])
		}
		return HTTPStatus(err), err
	})
}

func revertCredential(st *State, e *BackoutEntry, force bool) *Op {
	op := &Op{Target: "cupi", Kind: e.Kind, Key: e.Key, Alias: e.Alias, Action: Update}
	u := st.user(e.Alias)
	if u == nil {
		op.Action = Noop // the user is gone, and its credentials with it
		return op
	}
	op.UserID = u["ObjectId"]
	cur := st.creds[u["ObjectId"]+"|"+credKind(e.Kind)]
	op.Fingerprint = fingerprint(withoutTimes(cur))
	if cur == nil {
		return failOp(op, "the %s settings of %s could not be read", credKind(e.Kind), e.Alias)
	}
	body, drift := restoreFlat(op, cur, e.Changes, true, force)
	if len(drift) > 0 && !force {
		op.Changes = nil
		return driftError(op, "the "+credKind(e.Kind)+" settings of "+e.Alias, drift)
	}
	if len(body) == 0 {
		op.Action, op.Changes = Noop, nil
		return op
	}
	op.Body = body
	return op
}

// credKind is the CUPI credential kind of a credential want.
func credKind(kind string) string {
	if kind == KindPIN {
		return cupi.PIN
	}
	return cupi.Password
}

// secretsToCheck reports whether a credential want of an existing user
// carries a value the run state does not know as applied (so it will be
// set, or a "maybe set" from an earlier run needs its proof).
func secretsToCheck(w Want, userID string, t *Targets, o Options) bool {
	op := &Op{Target: w.Target, Kind: w.Kind, UserID: userID}
	for p, v := range w.Secrets.All() {
		scope := t.SecretScope(op, p)
		if o.ForceSecrets || o.RunState.Known(scope) != o.RunState.Hash(scope, v) {
			return true
		}
	}
	return false
}

// ReadBack reads each credential's settings the done writes changed,
// several at once under the cluster's limiter, and compares them with
// what the plan wanted; the value itself is never read back: it was set
// when TimeChanged moved from what was read before the set.
func (credentialKind) ReadBack(ctx context.Context, ws []WrittenOp, t *Targets, read ReadFunc) (map[*Op][]NotKept, error) {
	var todo []WrittenOp
	for _, w := range ws {
		if w.Op.Status == Done && w.Op.Action != Delete && w.Op.UserID != "" {
			todo = append(todo, w)
		}
	}
	return eachAtOnce(todo, t.CUPILimiter.Max, func(w WrittenOp) (*Op, []NotKept, error) {
		op := w.Op
		var c cupi.Object
		err := read("cupi", func(ctx context.Context) error {
			var err error
			c, err = t.CUPI.Credential(ctx, op.UserID, credKind(op.Kind))
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		nk := compareChanges(op, func(f string) (any, bool) { v, ok := c[f]; return v, ok })
		for _, ch := range op.Changes {
			if ch.Secret && w.HasBefore && c["TimeChanged"] == w.TimeBefore {
				nk = append(nk, NotKept{Field: ch.Field, Proof: "TimeChanged did not move (" + w.TimeBefore + "): the value was not set"})
			}
		}
		return op, nk, nil
	})
}
