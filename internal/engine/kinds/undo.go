package kinds

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// driftError is the failure of an object changed by someone else since
// the run: not touched, with the three values of each field shown.
func driftError(op *Op, what string, drift []string) *Op {
	return failOp(op, "%s changed since the run by someone else, so it is not touched (--force restores the state before the run anyway): %s",
		what, strings.Join(drift, "; "))
}

// show renders a value of a drift message.
func show(v any, present bool) string {
	if !present || v == nil {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// leafDrift lists the leaves of wrote whose current value differs.
func leafDrift(wrote, cur map[string]any) []string {
	var out []string
	plan.Flatten("", wrote, func(p string, v any) {
		hv, ok := plan.GetDotted(cur, p)
		if !plan.Same(v, hv) {
			out = append(out, fmt.Sprintf("%s: the run wrote %s, now %s", p, show(v, true), show(hv, ok)))
		}
	})
	return out
}

// restoreBody builds the VOSS body that puts vals (by path) back: an
// array is sent whole, so it starts from its current elements.
func restoreBody(cur map[string]any, vals map[string]any) map[string]any {
	body := map[string]any{}
	paths := make([]string, 0, len(vals))
	for p := range vals {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		segs := strings.Split(p, ".")
		for i := 1; i < len(segs); i++ {
			if !strings.HasPrefix(segs[i], "[") {
				continue
			}
			prefix := strings.Join(segs[:i], ".")
			if _, done := plan.GetDotted(body, prefix); !done {
				if arr, ok := plan.GetDotted(cur, prefix); ok {
					if a, ok := arr.([]any); ok {
						plan.SetDotted(body, prefix, plan.CopyTree(map[string]any{"a": a})["a"])
					}
				}
			}
			break
		}
		plan.SetDotted(body, p, vals[p])
	}
	return body
}

// cupiUserWritable are the CUPI user fields a create or update may send.
var cupiUserWritable = map[string]bool{
	"Alias": true, "DtmfAccessId": true, "FirstName": true, "LastName": true, "DisplayName": true,
	"EmailAddress": true, "TimeZone": true, "Language": true, "ListInDirectory": true, "Inactive": true,
	"Department": true, "Title": true, "City": true, "State": true, "Country": true, "Initials": true,
}

// authzWritable are the authorization server fields a create may send.
var authzWritable = map[string]bool{
	"DisplayName": true, "ServerNodeAddress": true, "Port": true, "ServerUsername": true, "IgnoreCertificateError": true,
}

// writable keeps the non-empty fields of a before-image a create may send.
func writable(before map[string]any, allowed map[string]bool) map[string]any {
	out := map[string]any{}
	for k, v := range before {
		if allowed[k] && plan.Norm(v) != "" {
			out[k] = plan.Norm(v)
		}
	}
	return out
}

// flatDrift lists the fields of want whose current value in cur differs.
func flatDrift(want map[string]any, cur cupi.Object, label string) []string {
	var out []string
	for _, k := range plan.SortedKeys(want) {
		hv, ok := cur[k]
		if !plan.Same(want[k], hv) {
			out = append(out, fmt.Sprintf("%s: %s %s, now %s", k, label, show(want[k], true), show(hv, ok)))
		}
	}
	return out
}

// restoreFlat plans the update of flat (CUPI) fields back to their old
// values; it returns the body, or the drift found.
func restoreFlat(op *Op, cur cupi.Object, changes []Change, skipUnset, force bool) (map[string]any, []string) {
	body := map[string]any{}
	var drift []string
	for _, c := range changes {
		if c.Old == nil && skipUnset {
			continue // no value before the run (a user the run created)
		}
		hv, ok := cur[c.Field]
		switch {
		case plan.Same(hv, c.New):
		case plan.Same(hv, c.Old):
			continue
		default:
			drift = append(drift, fmt.Sprintf("%s: before the run %s, the run wrote %s, now %s", c.Field, show(c.Old, true), show(c.New, true), show(hv, ok)))
			if !force {
				continue
			}
		}
		body[c.Field] = plan.Norm(c.Old)
		op.Changes = append(op.Changes, Change{Field: c.Field, Old: hv, New: plan.Norm(c.Old)})
	}
	return body, drift
}

// objectMap copies a CUPI object, without the fields in drop.
func objectMap(obj cupi.Object, drop map[string]bool) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		if !drop[k] {
			out[k] = v
		}
	}
	return out
}

// stripVOSS copies a VOSS instance's fields without write-only values
// (and, for a create body, without read-only and unknown fields).
func stripVOSS(f *schema.Field, data map[string]any, forCreate bool) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		var c *schema.Field
		if f != nil {
			c = f.Child(k)
		}
		if c != nil && c.Secret || forCreate && (c == nil || c.ReadOnly) {
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			out[k] = stripVOSS(c, t, forCreate)
		case []any:
			arr := make([]any, 0, len(t))
			for _, el := range t {
				if m, ok := el.(map[string]any); ok {
					arr = append(arr, stripVOSS(c, m, forCreate))
				} else {
					arr = append(arr, el)
				}
			}
			out[k] = arr
		case string:
			if strings.HasPrefix(t, "sha256:") {
				continue // a hashed secret some server echoes
			}
			out[k] = v
		default:
			out[k] = v
		}
	}
	return out
}

// secretPaths names the write-only fields of a model.
func secretPaths(f *schema.Field, prefix string) []string {
	var out []string
	for _, c := range f.Fields {
		if c.Secret {
			out = append(out, prefix+c.Name)
		}
		out = append(out, secretPaths(c, prefix+c.Name+".")...)
	}
	return out
}
