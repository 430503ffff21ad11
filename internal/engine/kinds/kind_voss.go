package kinds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// vossKind is a VOSS model instance: data/User or relation/HcsAdminUserREL.
type vossKind struct{ noExtras }

func (vossKind) Name(w *Want, n *named) {
	if w.Err != "" {
		return
	}
	n.voss = true
	v := w.VOSS // every VOSS want has one
	if n.hiers[v.Model] == nil {
		n.hiers[v.Model], n.keys[v.Model] = map[string]bool{}, map[string]bool{}
	}
	n.keys[v.Model][strings.ToLower(v.KeyValue)] = true
	if v.SearchKey != "" {
		n.keys[v.Model][strings.ToLower(v.SearchKey)] = true
	}
	n.hiers[v.Model][v.Hierarchy] = true
	if v.Pkid != "" {
		n.pkids[v.Pkid] = v.Model
	}
	if !w.Delete && !w.MustExist && v.Pkid == "" && v.SearchKey == "" {
		n.creates = append(n.creates, createAt{v.Model, v.Hierarchy, v.KeyValue})
	}
	if roleOf(*w) != "" {
		n.roleHiers[v.Hierarchy] = true
	}
}

func (vossKind) ObjectID(op *Op) string { return op.Pkid }

func (vossKind) Wrote(op *Op) map[string]any { return op.SendBody() }

// settle waits for the VOSS transaction an interrupted run started: once
// it has ended (whatever its outcome), the fresh plan decides what is left.
func (vossKind) Settle(ctx context.Context, e Entry, t *Targets, o Options) (bool, error) {
	if e.Tx == "" || t.VOSS == nil {
		return false, nil
	}
	err := o.Retry.Do(ctx, t.VOSSLimiter, func(ctx context.Context) (int, error) {
		_, err := t.VOSS.Wait(ctx, e.Tx)
		var tf *voss.TxFailed
		if errors.As(err, &tf) {
			return 200, nil // ended; the fresh plan decides what is left
		}
		return HTTPStatus(err), err
	})
	if err != nil && !errors.Is(err, targets.ErrNotFound) {
		return false, Fatal(fmt.Errorf("waiting for VOSS transaction %s of an interrupted run: %w", e.Tx, err))
	}
	return true, nil
}

func (vossKind) ReadWant(e *BackoutEntry) Want {
	w := Want{Target: e.Target, Cluster: e.Cluster, Kind: e.Kind, Key: e.Key, Alias: e.Alias}
	w.VOSS = &VOSSWant{Model: e.Model, Hierarchy: e.Hierarchy,
		KeyValue: e.Key[strings.LastIndex(e.Key, "/")+1:]} // the plan reads the objects the rows name by key
	if e.Action != Delete {
		w.VOSS.Pkid = e.Pkid
		if e.CreatedID != "" {
			w.VOSS.Pkid = e.CreatedID
		}
	}
	return w
}

// undoRank: a VOSS user is the parent of everything else of its row.
func (vossKind) UndoRank(op *Op) int {
	switch op.Action {
	case Create:
		return rankRecreateParent
	case Delete:
		return rankDeleteParent
	}
	return rankUpdate
}

func (vossKind) Diff(st *State, w Want, op *Op, t *Targets, o Options) []*Op {
	return []*Op{diffVOSS(st, w, op, t, o)}
}

// Warn, for a create planned: the same key under other hierarchies
// (business keys are unique within a hierarchy only, so the plan makes
// a second user), and each Unity Connection alias of the row already
// held by a user there — not this row's, whose VOSS user is new — that
// the row's Unity Connection part would change as its own.
func (vossKind) Warn(st *State, row *Row, w Want, ops []*Op) []Warning {
	if len(ops) != 1 || ops[0].Action != Create || ops[0].Status != Planned {
		return nil
	}
	v := w.VOSS
	noun := v.Model
	if v.Model == KindUser {
		noun = "user"
	}
	var out []Warning
	if at := st.elsewhereOf(v.Model, v.KeyValue, v.Hierarchy); len(at) > 0 {
		wn := Warning{Message: fmt.Sprintf("%s %s already exists under %s; this plan creates another at %s", noun, v.KeyValue, placesText(at), v.Hierarchy)}
		if len(at) == 1 && at[0].hier != "" {
			wn.ObjectKind, wn.ObjectKey = w.Kind, at[0].hier+"/"+v.KeyValue
		}
		out = append(out, wn)
	}
	seen := map[string]bool{}
	for _, cw := range row.Wants {
		k := ClusterName(cw.Cluster) + "|" + strings.ToLower(cw.Alias)
		if cw.Target != "cupi" || cw.Alias == "" || seen[k] {
			continue
		}
		seen[k] = true
		u := st.clusterUser(cw.Cluster, cw.Alias)
		if u == nil {
			continue
		}
		// The holder as this row's own create of it would be named: an
		// earlier part of this run may have made it (resumed).
		objKey := cw.Key
		for _, uw := range row.Wants {
			if uw.Kind == KindCUPIUser && strings.EqualFold(uw.Alias, cw.Alias) && ClusterName(uw.Cluster) == ClusterName(cw.Cluster) {
				objKey = uw.Key
			}
		}
		holder := "user " + u["ObjectId"]
		if name := u["DisplayName"]; name != "" {
			holder += " (" + name + ")"
		}
		out = append(out, Warning{ObjectKind: KindCUPIUser, ObjectKey: objKey, Message: fmt.Sprintf("alias %s is already held on Unity Connection %s by %s, while VOSS has no %s %s at %s: this row's Unity Connection part changes that user as its own",
			u["Alias"], ClusterName(cw.Cluster), holder, noun, v.KeyValue, v.Hierarchy)})
	}
	return out
}

func (vossKind) Write(ctx context.Context, op *Op, t *Targets, onTx func(string)) error {
	err := writeVOSS(ctx, op, t, onTx)
	if ae := APIErr(err); ae != nil && ae.Status == 404 && strings.Contains(ae.Path, "/tool/Transaction/") {
		// The server lost the transaction (a restart): re-read to learn
		// whether the write happened.
		return &targets.UnknownOutcomeError{Err: err}
	}
	return err
}

func (vossKind) Verify(ctx context.Context, op *Op, t *Targets) (bool, error) {
	if tx := op.TxID(); tx != "" {
		// A nowait write: its transaction decides, once it has ended.
		pkid, err := t.VOSS.Wait(ctx, tx)
		var tf *voss.TxFailed
		switch {
		case errors.As(err, &tf) && op.Action == Update:
			return false, nil
		case errors.As(err, &tf):
			// A create refused as a duplicate, or a delete of what is
			// gone, after an earlier attempt whose answer was lost:
			// the key decides.
		case err != nil && !errors.Is(err, targets.ErrNotFound):
			return false, err
		case err == nil && (op.Action != Create || pkid != ""):
			if op.Action == Create {
				op.CreatedID = pkid
			}
			return true, nil
		}
	}
	if op.Action == Update {
		return false, nil // an update is idempotent: send it again
	}
	found, err := findVOSS(ctx, op, t)
	// A nowait write whose answer (and so its transaction id) was lost may
	// still be queued: before it is called not applied, and sent again,
	// the key is read a few more times while VOSS's queue drains.
	for _, wait := range settleWaits {
		if err != nil || (op.Action == Create) == (found != "") {
			break
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(wait):
		}
		found, err = findVOSS(ctx, op, t)
	}
	if err != nil {
		return false, err
	}
	if op.Action == Create {
		op.CreatedID = found
		return found != "", nil
	}
	return found == "", nil
}

// settleWaits are the pauses before re-reading a VOSS key that did not
// (yet) show a write whose answer was lost.
var settleWaits = []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second}

func (vossKind) BeforeImage(ctx context.Context, op *Op, e *BackoutEntry, t *Targets, read ReadFunc) error {
	return read("voss", func(ctx context.Context) error {
		in, err := t.VOSS.Get(ctx, op.Model, op.Pkid)
		if err == nil {
			e.Before = stripVOSS(schema.Get(op.Model).Root, in.Data, false)
			e.NotRestorable = secretPaths(schema.Get(op.Model).Root, "")
		}
		return err
	})
}

func (vossKind) Revert(st *State, e *BackoutEntry, _ BackoutHeader, force bool) []*Op {
	return []*Op{revertVOSS(st, e, force)}
}

func diffVOSS(st *State, w Want, op *Op, t *Targets, o Options) *Op {
	v := w.VOSS // every VOSS want has one
	op.Model, op.Hierarchy = v.Model, v.Hierarchy
	m := schema.Get(v.Model)
	if !st.hasNode(v.Hierarchy) {
		op.Action = intended(w, false)
		return failOp(op, "hierarchy %s does not exist on VOSS%s", v.Hierarchy, st.didYouMeanNode(v.Hierarchy))
	}
	var cur = st.voss[vkey(v.Model, v.Hierarchy, v.KeyValue)]
	if v.SearchKey != "" {
		cur = st.voss[vkey(v.Model, v.Hierarchy, v.SearchKey)]
	}
	if v.Pkid != "" {
		cur = st.byPkid[v.Pkid]
		if cur == nil && (w.MustExist || w.Delete) {
			op.Action = intended(w, true)
			return failOp(op, "no %s with pkid %s", v.Model, v.Pkid)
		}
	}
	if cur != nil {
		op.Pkid = cur.Pkid
		op.Fingerprint = fingerprint(cur.Data)
	} else {
		op.Fingerprint = fingerprint(nil)
	}
	if w.Delete {
		if cur == nil {
			op.Action = Noop // already absent
			return op
		}
		op.Action = Delete
		op.Changes = []Change{{Field: m.Key, Old: v.KeyValue, New: nil}}
		return op
	}
	if cur == nil && w.MustExist {
		op.Action = Update
		return failOp(op, "%s %s does not exist at %s (the row says modify)", v.Model, v.KeyValue, v.Hierarchy)
	}
	if role := roleOf(w); role != "" && st.vossRoles[v.Hierarchy] != nil && !st.vossRoles[v.Hierarchy][role] {
		op.Action = intended(w, cur != nil)
		return failOp(op, "role %q does not exist at %s%s", role, v.Hierarchy, didYouMean(role, st.vossRoles[v.Hierarchy]))
	}
	if cur == nil {
		op.Action = Create
		if !derivable(w.Fields) {
			op.Body = w.Fields // else sendBody rebuilds it from the changes
		}
		plan.Flatten("", w.Fields, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		secrets := w.Secrets
		if o.OneTime != nil {
			secrets = o.OneTime.apply(op, oneTimePrefix(w.VOSS.Model), secrets)
		}
		secretChanges(op, secrets, false, t, o)
		failMissing(op, m, w.Fields, op.Secrets, true)
		return op
	}
	body := map[string]any{}
	diffTree(m.Root, w.Fields, cur.Data, "", op, body)
	secretChanges(op, w.Secrets, true, t, o)
	completeArrays(op, body, w.Fields, cur.Data)
	// An array is sent whole, so its unchanged write-only members (say,
	// security answers) must be sent again or the server would lose them.
	for p, v := range w.Secrets.All() {
		if _, set := op.Secrets.Get(p); !set && inSentArray(body, p) {
			op.Secrets.Set(p, v)
		}
	}
	if len(op.Changes) == 0 {
		op.Action = Noop
		return op
	}
	op.Action, op.Body = Update, body
	failMissing(op, m, body, op.Secrets, false)
	return op
}

// diffTree compares the fields a row names with the server's instance and
// records changes; body receives the nested fields to send. Fields the row
// does not name are left alone.
func diffTree(f *schema.Field, want, have map[string]any, prefix string, op *Op, body map[string]any) {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := f.Child(k)
		p := prefix + k
		wv := want[k]
		hv, present := have[k]
		switch {
		case c != nil && c.Type == schema.Object:
			wm, _ := wv.(map[string]any)
			hm, _ := hv.(map[string]any)
			sub := map[string]any{}
			diffTree(c, wm, hm, p+".", op, sub)
			if len(sub) > 0 {
				body[k] = sub
			}
		case c != nil && c.Type == schema.Array:
			// An array is sent whole when any named element field differs.
			wa, _ := wv.([]any)
			ha, _ := hv.([]any)
			before := len(op.Changes)
			for i, el := range wa {
				wm, _ := el.(map[string]any)
				var hm map[string]any
				if i < len(ha) {
					hm, _ = ha[i].(map[string]any)
				}
				diffTree(c, wm, hm, fmt.Sprintf("%s.[%d].", p, i), op, map[string]any{})
			}
			if len(op.Changes) > before {
				body[k] = wv
			}
		default:
			if !equalValue(c, wv, hv, present) {
				op.Changes = append(op.Changes, Change{Field: p, Old: hv, New: wv})
				body[k] = wv
			}
		}
	}
}

// equalValue compares normalised values: booleans in any spelling, numbers
// in any type, an empty value and an absent field, server defaults, and
// case where the server ignores it.
func equalValue(f *schema.Field, want, have any, present bool) bool {
	ws, hs := plan.Norm(want), plan.Norm(have)
	if !present || have == nil {
		hs = ""
		switch {
		case f != nil && f.Default != "":
			hs = f.Default
		case f != nil && f.Type == schema.Bool:
			// An export leaves out "Boolean values that are not set"
			// (seed 002): unset is false.
			hs = "false"
		}
		if ws == "" {
			return true
		}
	}
	if f != nil && (f.IgnoreCase || f.Type == schema.Bool) {
		return strings.EqualFold(ws, hs)
	}
	return ws == hs
}

// inSentArray reports whether path lies inside an array that body sends.
func inSentArray(body map[string]any, path string) bool {
	var cur any = body
	for _, seg := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		cur = m[seg]
		if _, isArr := cur.([]any); isArr {
			return true
		}
	}
	return false
}

// writeVOSS sends a VOSS write, or, when its transaction is already known,
// only waits for that transaction to end.
func writeVOSS(ctx context.Context, op *Op, t *Targets, onTx func(string)) error {
	if tx := op.TxID(); tx != "" {
		pkid, err := t.VOSS.Wait(ctx, tx)
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

// findVOSS returns the pkid of the instance at op's hierarchy whose
// business key is op's, comparing the key itself: a list filter a server
// ignores must not make any instance there look like the one written.
func findVOSS(ctx context.Context, op *Op, t *Targets) (string, error) {
	key := op.Key[strings.LastIndex(op.Key, "/")+1:]
	keyField := schema.Get(op.Model).Key
	var found string
	var unsure []string
	err := t.VOSS.List(ctx, op.Model, op.Hierarchy, [2]string{keyField, key}, func(s voss.Summary) error {
		if s.Hierarchy != "" && !strings.EqualFold(s.Hierarchy, op.Hierarchy) {
			return nil
		}
		if v, ok := s.Data[keyField].(string); ok {
			if strings.EqualFold(v, key) {
				found = s.Pkid
			}
			return nil
		}
		unsure = append(unsure, s.Pkid)
		return nil
	})
	if err != nil || found != "" {
		return found, err
	}
	if len(unsure) > maxVerifyGets {
		return "", fmt.Errorf("cannot tell which of %d %s instances at %s is %s: the list does not carry %s", len(unsure), op.Model, op.Hierarchy, key, keyField)
	}
	for _, pkid := range unsure {
		in, err := t.VOSS.Get(ctx, op.Model, pkid)
		if errors.Is(err, targets.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if v, _ := in.Data[keyField].(string); strings.EqualFold(v, key) {
			return pkid, nil
		}
	}
	return "", nil
}

func revertVOSS(st *State, e *BackoutEntry, force bool) *Op {
	op := &Op{Target: "voss", Kind: e.Kind, Key: e.Key, Model: e.Model, Hierarchy: e.Hierarchy}
	m := schema.Get(e.Model)
	keyVal := strings.TrimPrefix(e.Key, e.Hierarchy+"/")
	var cur *voss.Instance
	switch {
	case e.Action == Create && e.CreatedID != "":
		cur = st.byPkid[e.CreatedID] // only the object the run created
	case e.Action == Update:
		cur = st.byPkid[e.Pkid]
	default:
		cur = st.voss[vkey(e.Model, e.Hierarchy, keyVal)]
	}
	op.Fingerprint = fingerprint(nil)
	if cur != nil {
		op.Pkid, op.Fingerprint = cur.Pkid, fingerprint(cur.Data)
	}
	switch e.Action {
	case Create:
		op.Action = Delete
		if cur == nil {
			op.Action = Noop // never created, or already gone
			return op
		}
		op.Changes = []Change{{Field: m.Key, Old: keyVal}}
		if drift := leafDrift(e.Wrote, cur.Data); len(drift) > 0 && !force {
			return driftError(op, e.Key, drift)
		}
		return op
	case Update:
		op.Action = Update
		if cur == nil {
			return failOp(op, "%s no longer exists; nothing to restore", e.Key)
		}
		vals := map[string]any{}
		var drift []string
		for _, c := range e.Changes {
			old := vossOld(e.Model, c.Field, c.Old)
			hv, ok := plan.GetDotted(cur.Data, c.Field)
			switch {
			case plan.Same(hv, c.New):
			case plan.Same(hv, old):
				continue
			default:
				drift = append(drift, fmt.Sprintf("%s: before the run %s, the run wrote %s, now %s", c.Field, show(c.Old, true), show(c.New, true), show(hv, ok)))
			}
			if old == nil {
				continue
			}
			vals[c.Field] = old
			op.Changes = append(op.Changes, Change{Field: c.Field, Old: hv, New: old})
		}
		if len(drift) > 0 && !force {
			return driftError(op, e.Key, drift)
		}
		if len(vals) == 0 {
			op.Action, op.Changes = Noop, nil
			return op
		}
		op.Body = restoreBody(cur.Data, vals)
		return op
	case Delete:
		body := stripVOSS(m.Root, e.Before, true)
		if e.Before == nil {
			op.Action = Noop // it was gone before the run deleted it
			return op
		}
		if cur != nil {
			op.Action = Noop
			drift := leafDrift(body, cur.Data)
			if len(drift) == 0 {
				return op // already recreated
			}
			op.Action = Update
			if !force {
				return driftError(op, e.Key+" (recreated by someone else)", drift)
			}
			op.Body = body
			plan.Flatten("", body, func(p string, v any) {
				if hv, _ := plan.GetDotted(cur.Data, p); !plan.Same(v, hv) {
					op.Changes = append(op.Changes, Change{Field: p, Old: hv, New: v})
				}
			})
			return op
		}
		op.Action, op.Body = Create, body
		plan.Flatten("", body, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		return op
	}
	return failOp(op, "cannot undo a %s", e.Action)
}

// vossOld is the value a VOSS field had before the run: an absent field
// is the schema's default, else the empty value of its type.
func vossOld(model, path string, old any) any {
	if old != nil {
		return old
	}
	f := schema.Get(model).Root
	for _, seg := range strings.Split(path, ".") {
		if strings.HasPrefix(seg, "[") || f == nil {
			continue
		}
		f = f.Child(seg)
	}
	if f == nil {
		return ""
	}
	switch f.Type {
	case schema.Bool:
		b, _ := strconv.ParseBool(f.Default)
		return b
	case schema.Integer:
		if f.Default != "" {
			return json.Number(f.Default)
		}
		return nil
	}
	return f.Default
}

// roleOf is the VOSS role a want names (a user's, or an admin's).
func roleOf(w Want) string {
	if r, ok := w.Fields["role"].(string); ok {
		return r
	}
	if au, ok := w.Fields["AdminUser"].(map[string]any); ok {
		r, _ := au["role"].(string)
		return r
	}
	return ""
}

// oneTimePrefix is where a VOSS model keeps a user's password: "" for
// data/User, "AdminUser." for relation/HcsAdminUserREL.
func oneTimePrefix(model string) string {
	if model == KindAdminREL {
		return "AdminUser."
	}
	return ""
}

// ReadBack exports, in bulk per model and hierarchy, the instances the
// done writes made or changed, and compares each written field with what
// the plan wanted. An instance the export does not return kept nothing.
func (vossKind) ReadBack(ctx context.Context, ws []WrittenOp, t *Targets, read ReadFunc) (map[*Op][]NotKept, error) {
	type where struct{ model, hierarchy string }
	groups := map[where][]*Op{}
	var order []where
	for _, w := range ws {
		if !readsBack(w.Op) {
			continue
		}
		k := where{w.Op.Model, w.Op.Hierarchy}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], w.Op)
	}
	out := map[*Op][]NotKept{}
	for _, k := range order {
		ops := groups[k]
		pkids := make([]string, len(ops))
		for i, op := range ops {
			pkids[i] = ObjectID(op)
		}
		held := map[string]map[string]any{}
		err := read("voss", func(ctx context.Context) error {
			clear(held)
			return t.VOSS.Export(ctx, k.model, k.hierarchy, pkids, func(in voss.Instance) error {
				held[in.Pkid] = in.Data
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
		for _, op := range ops {
			data := held[ObjectID(op)]
			if nk := compareChanges(op, func(f string) (any, bool) { return plan.GetDotted(data, f) }); len(nk) > 0 {
				out[op] = nk
			}
		}
	}
	return out, nil
}
