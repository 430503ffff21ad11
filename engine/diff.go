package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/bulkprov/bulkprov/schema"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/transform"
)

// diffWant turns one want into operations against the current state.
func diffWant(st *state, row *transform.Row, w transform.Want, t *Targets, o Options) []*Op {
	base := &Op{Target: w.Target, Kind: w.Kind, Key: w.Key}
	if w.Err != "" {
		base.Action, base.Status, base.Error = Noop, Failed, w.Err
		return []*Op{base}
	}
	if w.Target == "cupi" {
		base.Cluster = clusterName(w.Cluster)
		if st.down != nil {
			base.Alias = w.Alias
			return []*Op{failOp(base, "%v", st.down)}
		}
	}
	switch w.Kind {
	case transform.KindUser, transform.KindAdminREL:
		return []*Op{diffVOSS(st, w, base, t, o)}
	case transform.KindCUPIUser:
		return []*Op{diffCUPIUser(st, w, base, t, o)}
	case transform.KindUserRole:
		return diffRoles(st, w, base)
	case transform.KindPassword, transform.KindPIN:
		return []*Op{diffCredential(st, w, base, t, o)}
	case transform.KindAuthz:
		return []*Op{diffAuthz(st, w, base, t, o)}
	}
	base.Action, base.Status, base.Error = Noop, Failed, "unknown kind "+w.Kind
	return []*Op{base}
}

func failOp(op *Op, format string, args ...any) *Op {
	if op.Action == "" {
		op.Action = Noop
	}
	op.Status, op.Error = Failed, fmt.Sprintf(format, args...)
	return op
}

// secretChanges adds a change per secret that must be set: all of them on
// a create; otherwise those whose keyed hash differs from the last value
// applied (or all, with --force-secrets).
func secretChanges(op *Op, secrets map[string]string, exists bool, t *Targets, o Options) {
	if len(secrets) == 0 {
		return
	}
	op.Secrets = map[string]string{}
	paths := make([]string, 0, len(secrets))
	for p := range secrets {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if exists && !o.ForceSecrets {
			scope := t.secretScope(op, p)
			if o.RunState.Known(scope) == o.RunState.Hash(scope, secrets[p]) {
				continue
			}
		}
		var old any
		if exists {
			old = SecretMarker
		}
		op.Changes = append(op.Changes, Change{Field: p, Old: old, New: SecretMarker, Secret: true})
		op.Secrets[p] = secrets[p]
	}
}

// ---- VOSS ----

func diffVOSS(st *state, w transform.Want, op *Op, t *Targets, o Options) *Op {
	op.Model, op.Hierarchy = w.Model, w.Hierarchy
	m := schema.Get(w.Model)
	if !st.hasNode(w.Hierarchy) {
		return failOp(op, "hierarchy %s does not exist on VOSS", w.Hierarchy)
	}
	var cur = st.voss[vkey(w.Model, w.Hierarchy, w.KeyValue)]
	if w.SearchKey != "" {
		cur = st.voss[vkey(w.Model, w.Hierarchy, w.SearchKey)]
	}
	if w.Pkid != "" {
		cur = st.byPkid[w.Pkid]
		if cur == nil && (w.MustExist || w.Delete) {
			return failOp(op, "no %s with pkid %s", w.Model, w.Pkid)
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
		op.Changes = []Change{{Field: m.Key, Old: w.KeyValue, New: nil}}
		return op
	}
	if cur == nil && w.MustExist {
		return failOp(op, "%s %s does not exist at %s (the row says modify)", w.Model, w.KeyValue, w.Hierarchy)
	}
	if role := roleOf(w); role != "" && st.vossRoles[w.Hierarchy] != nil && !st.vossRoles[w.Hierarchy][role] {
		return failOp(op, "role %q does not exist at %s%s", role, w.Hierarchy, didYouMean(role, st.vossRoles[w.Hierarchy]))
	}
	if cur == nil {
		op.Action = Create
		op.Body = w.Fields
		flatten("", w.Fields, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		secrets := w.Secrets
		if o.OneTime != nil {
			secrets = o.OneTime.apply(op, w, secrets)
		}
		secretChanges(op, secrets, false, t, o)
		return op
	}
	body := map[string]any{}
	diffTree(m.Root, w.Fields, cur.Data, "", op, body)
	secretChanges(op, w.Secrets, true, t, o)
	// An array is sent whole, so its unchanged write-only members (say,
	// security answers) must be sent again or the server would lose them.
	for p, v := range w.Secrets {
		if _, set := op.Secrets[p]; !set && inSentArray(body, p) {
			if op.Secrets == nil {
				op.Secrets = map[string]string{}
			}
			op.Secrets[p] = v
		}
	}
	if len(op.Changes) == 0 {
		op.Action = Noop
		return op
	}
	op.Action, op.Body = Update, body
	return op
}

// flatten calls fn for each leaf of a field tree, in path order.
func flatten(prefix string, tree map[string]any, fn func(string, any)) {
	keys := make([]string, 0, len(tree))
	for k := range tree {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := prefix + k
		switch v := tree[k].(type) {
		case map[string]any:
			flatten(p+".", v, fn)
		case []any:
			for i, el := range v {
				if m, ok := el.(map[string]any); ok {
					flatten(fmt.Sprintf("%s.[%d].", p, i), m, fn)
				} else {
					fn(fmt.Sprintf("%s.[%d]", p, i), el)
				}
			}
		default:
			fn(p, v)
		}
	}
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
	ws, hs := norm(want), norm(have)
	if !present || have == nil {
		hs = ""
		if f != nil && f.Default != "" {
			hs = f.Default
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

func norm(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		if b, err := strconv.ParseBool(t); err == nil && (t == "True" || t == "False" || t == "TRUE" || t == "FALSE") {
			return strconv.FormatBool(b)
		}
		return t
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return t.String()
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// ---- CUPI ----

func (st *state) user(alias string) cupi.Object { return st.users[strings.ToLower(alias)] }

func diffCUPIUser(st *state, w transform.Want, op *Op, t *Targets, o Options) *Op {
	op.Alias, op.Template = w.Alias, w.Template
	u := st.user(w.Alias)
	op.Fingerprint = fingerprint(u)
	if u != nil {
		op.UserID = u["ObjectId"]
	}
	switch {
	case w.Delete && u == nil:
		op.Action = Noop
		return op
	case w.Delete:
		op.Action = Delete
		op.Changes = []Change{{Field: "Alias", Old: u["Alias"], New: nil}}
		return op
	case u == nil && w.MustExist:
		return failOp(op, "the CUPI user %s does not exist (the row says modify)", w.Alias)
	case u == nil && w.NoCreate != "":
		return failOp(op, "%s", w.NoCreate)
	case u == nil:
		if !st.templates[strings.ToLower(w.Template)] {
			return failOp(op, "user template %q does not exist on Unity Connection", w.Template)
		}
		op.Action = Create
		body := map[string]any{}
		for k, v := range w.CreateFields {
			body[k] = v
		}
		op.Body = body
		flatten("", body, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		return op
	}
	body := map[string]any{}
	keys := sortedKeys(w.Fields)
	for _, k := range keys {
		wv := norm(w.Fields[k])
		hv, present := u[k]
		if (!present && wv == "") || hv == wv {
			continue
		}
		op.Changes = append(op.Changes, Change{Field: k, Old: hv, New: wv})
		body[k] = wv
	}
	if len(body) == 0 {
		op.Action = Noop
		return op
	}
	op.Action, op.Body = Update, body
	return op
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func diffRoles(st *state, w transform.Want, base *Op) []*Op {
	base.Alias = w.Alias
	if w.Delete && w.RolesOf != nil {
		if in := st.voss[vkey(transform.KindUser, w.Hierarchy, w.Alias)]; in != nil {
			if role, _ := in.Data["role"].(string); role != "" {
				w.Roles = w.RolesOf(role)
			}
		}
	}
	u := st.user(w.Alias)
	var held []cupi.Object
	if u != nil {
		base.UserID = u["ObjectId"]
		held = st.userRoles[u["ObjectId"]]
	}
	var names []string
	for _, h := range held {
		names = append(names, h["RoleName"])
	}
	sort.Strings(names)
	base.Fingerprint = fingerprint(names)
	heldBy := map[string]cupi.Object{}
	for _, h := range held {
		heldBy[strings.ToLower(h["RoleName"])] = h
	}
	var ops []*Op
	// newOp grants (roleID) or removes (userRoleID, the user's holding of
	// the role) one role.
	newOp := func(a Action, roleID, userRoleID, name string) *Op {
		op := *base
		op.Action, op.RoleID, op.ObjectID = a, roleID, userRoleID
		op.Key = w.Alias + "/" + name
		if a == Create {
			op.Changes = []Change{{Field: "role", New: name}}
		} else {
			op.Changes = []Change{{Field: "role", Old: name}}
		}
		return &op
	}
	want := map[string]bool{}
	for _, name := range w.Roles {
		want[strings.ToLower(name)] = true
		role := st.roles[strings.ToLower(name)]
		if role == nil {
			op := *base
			ops = append(ops, failOp(&op, "CUPI role %q does not exist%s (map the VOSS role to CUPI roles with \"roles\" in --config)", name, didYouMeanRole(name, st.roles)))
			continue
		}
		h := heldBy[strings.ToLower(name)]
		switch {
		case w.Delete && h != nil:
			ops = append(ops, newOp(Delete, role["ObjectId"], h["ObjectId"], h["RoleName"]))
		case !w.Delete && h == nil:
			ops = append(ops, newOp(Create, role["ObjectId"], "", role["RoleName"]))
		}
	}
	if w.ExactRoles && !w.Delete {
		for _, h := range held {
			if !want[strings.ToLower(h["RoleName"])] {
				ops = append(ops, newOp(Delete, h["RoleObjectId"], h["ObjectId"], h["RoleName"]))
			}
		}
	}
	if len(ops) == 0 {
		base.Action = Noop
		base.Key = w.Alias
		return []*Op{base}
	}
	return ops
}

func diffCredential(st *state, w transform.Want, op *Op, t *Targets, o Options) *Op {
	op.Alias = w.Alias
	kind := cupi.Password
	if w.Kind == transform.KindPIN {
		kind = cupi.PIN
	}
	u := st.user(w.Alias)
	fields := map[string]any{}
	for k, v := range w.Fields {
		fields[k] = v
	}
	if w.PolicyName != "" {
		p := st.policies[strings.ToLower(w.PolicyName)]
		if p == nil {
			return failOp(op, "credential policy %q does not exist on Unity Connection (map it with \"credentialPolicies\" in --config)", w.PolicyName)
		}
		fields["CredentialPolicyObjectId"] = p["ObjectId"]
	}
	var cur cupi.Object
	if u != nil {
		op.UserID = u["ObjectId"]
		cur = st.creds[u["ObjectId"]+"|"+kind]
	}
	if cur != nil {
		op.before, op.haveBefore = cur["TimeChanged"], true
		resolveMaybe(op, w.Secrets, t, o)
	}
	op.Fingerprint = fingerprint(withoutTimes(cur))
	body := map[string]any{}
	for _, k := range sortedKeys(fields) {
		wv := norm(fields[k])
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
func resolveMaybe(op *Op, secrets map[string]string, t *Targets, o Options) {
	for p, v := range secrets {
		scope := t.secretScope(op, p)
		m, ok := o.RunState.Maybe(scope)
		if !ok || m.Hash != o.RunState.Hash(scope, v) {
			continue
		}
		if op.before != m.Before {
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

func diffAuthz(st *state, w transform.Want, op *Op, t *Targets, o Options) *Op {
	cur := st.authz[strings.ToLower(w.Key)]
	op.Fingerprint = fingerprint(cur)
	if cur != nil {
		op.ObjectID = cur["ObjectId"]
	}
	switch {
	case w.Delete && cur == nil:
		op.Action = Noop
		return op
	case w.Delete:
		op.Action = Delete
		op.Changes = []Change{{Field: "DisplayName", Old: w.Key, New: nil}}
		return op
	case cur == nil && w.MustExist:
		return failOp(op, "authorization server %s does not exist (the row says modify)", w.Key)
	case cur == nil:
		op.Action = Create
		body := map[string]any{"DisplayName": w.Key}
		for k, v := range w.Fields {
			body[k] = norm(v)
		}
		op.Body = body
		flatten("", body, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		secretChanges(op, w.Secrets, false, t, o)
		return op
	}
	body := map[string]any{}
	for _, k := range sortedKeys(w.Fields) {
		wv := norm(w.Fields[k])
		if strings.EqualFold(cur[k], wv) {
			continue
		}
		op.Changes = append(op.Changes, Change{Field: k, Old: cur[k], New: wv})
		body[k] = wv
	}
	secretChanges(op, w.Secrets, true, t, o)
	if len(op.Changes) == 0 {
		op.Action = Noop
		return op
	}
	op.Action, op.Body = Update, body
	return op
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
