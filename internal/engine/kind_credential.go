package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// credentialKind is a Unity Connection user's password or PIN: its
// settings and, write-only, its value.
type credentialKind struct{}

func (credentialKind) diff(st *state, w Want, op *Op, t *Targets, o Options) []*Op {
	return []*Op{diffCredential(st, w, op, t, o)}
}

func (credentialKind) write(ctx context.Context, op *Op, t *Targets, _ func(string)) error {
	kind := cupi.Password
	if op.Kind == KindPIN {
		kind = cupi.PIN
	}
	return t.CUPI.SetCredential(ctx, op.UserID, kind, flat(withSecrets(op)))
}

func (credentialKind) verify(ctx context.Context, op *Op, t *Targets) (bool, error) {
	// A set is proven by TimeChanged moving (seed 000) — never by the
	// wording of a refusal, which differs between versions and locales.
	if op.Secrets.Len() == 0 {
		return false, nil // settings only: sending them again is harmless
	}
	before, ok := op.timeBefore()
	if !ok {
		return false, errors.New("no TimeChanged was read before the set, so its outcome cannot be proven")
	}
	c, err := t.CUPI.Credential(ctx, op.UserID, credKind(op.Kind))
	if err != nil {
		return false, err
	}
	return c["TimeChanged"] != before, nil
}

func (credentialKind) beforeImage(context.Context, *Op, *BackoutEntry, *Targets, readFunc) error {
	return nil
}

func (credentialKind) revert(st *state, e *BackoutEntry, _ BackoutHeader, force bool) []*Op {
	return []*Op{revertCredential(st, e, force)}
}

func diffCredential(st *state, w Want, op *Op, t *Targets, o Options) *Op {
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
	if policy := w.cupi().PolicyName; policy != "" {
		p := st.policies[strings.ToLower(policy)]
		if p == nil {
			return failOp(op, "credential policy %q does not exist on Unity Connection (map it with \"credentialPolicies\" in --config)", policy)
		}
		fields["CredentialPolicyObjectId"] = p["ObjectId"]
	}
	var cur cupi.Object
	if u != nil {
		op.UserID = u["ObjectId"]
		cur = st.creds[u["ObjectId"]+"|"+kind]
	}
	if cur != nil {
		op.setTimeBefore(cur["TimeChanged"])
		resolveMaybe(op, w.Secrets, t, o)
	}
	op.Fingerprint = fingerprint(withoutTimes(cur))
	body := map[string]any{}
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
		body[k] = wv
	}
	secretChanges(op, w.Secrets, u != nil, t, o)
	if len(op.Changes) == 0 {
		op.Action = Noop
		return op
	}
	op.Action, op.Body = Update, body
	return op
}

// resolveMaybe settles the secrets of a credential that an earlier run
// sent without learning the outcome: TimeChanged moved since then proves
// the set landed, so the value is known as applied and not sent again.
func resolveMaybe(op *Op, secrets Secrets, t *Targets, o Options) {
	for p, v := range secrets.All() {
		scope := t.secretScope(op, p)
		m, ok := o.RunState.Maybe(scope)
		if !ok || m.Hash != o.RunState.Hash(scope, v) {
			continue
		}
		if before, _ := op.timeBefore(); before != m.Before {
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
			op.setTimeBefore(c["TimeChanged"])
		}
		return status(err), err
	})
}

func revertCredential(st *state, e *BackoutEntry, force bool) *Op {
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
