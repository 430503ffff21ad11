package kinds

import (
	"fmt"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/internal/schema"
)

// missingRequired returns the path of the first required field a VOSS
// write would lack, or "": on a create, the required fields of the model
// and of every object sent; on an update, those of every array element
// sent (an array is sent whole, so each element must be complete). A
// write-only field counts as present when secrets holds it. The server
// refuses such a write; the plan says so first.
func missingRequired(m *schema.Model, body map[string]any, secrets Secrets, create bool) string {
	var walk func(f *schema.Field, data map[string]any, prefix string, required bool) string
	walk = func(f *schema.Field, data map[string]any, prefix string, required bool) string {
		for _, c := range f.Fields {
			p := prefix + c.Name
			v, ok := data[c.Name]
			if required && c.Required && (!ok || v == "") && secretEmpty(secrets, p) {
				return p
			}
			if !ok {
				continue
			}
			switch c.Type {
			case schema.Object:
				if sub, ok := v.(map[string]any); ok {
					if miss := walk(c, sub, p+".", required); miss != "" {
						return miss
					}
				}
			case schema.Array:
				arr, _ := v.([]any)
				for i, el := range arr {
					if sub, ok := el.(map[string]any); ok {
						if miss := walk(c, sub, fmt.Sprintf("%s.[%d].", p, i), true); miss != "" {
							return miss
						}
					}
				}
			}
		}
		return ""
	}
	return walk(m.Root, body, "", create)
}

// failMissing fails op when its write would lack a required field.
func failMissing(op *Op, m *schema.Model, body map[string]any, secrets Secrets, create bool) bool {
	miss := missingRequired(m, body, secrets, create)
	if miss == "" {
		return false
	}
	hint := ""
	if f, _ := m.Lookup(miss); f != nil && f.Secret {
		hint = " (a write-only value, which no export carries: give it in the sheet or in a --secrets file)"
	}
	failOp(op, "%s: this field is required%s", miss, hint)
	return true
}

// completeArrays puts into body, for each write-only value op sets inside
// an array element (a security answer), the whole array — the server's,
// with the row's elements over it — so the answer goes with its question
// and its siblings are not lost: the server replaces an array whole.
func completeArrays(op *Op, body, want, have map[string]any) {
	for p := range op.Secrets.All() {
		i := strings.Index(p, ".[")
		if i < 0 || inSentArray(body, p) {
			continue
		}
		arr := p[:i]
		cur, _ := plan.GetDotted(have, arr)
		list, _ := plan.DeepCopy(cur).([]any)
		wv, _ := plan.GetDotted(want, arr)
		if w, ok := wv.([]any); ok {
			for j, el := range w { // the row's elements over the server's
				if j >= len(list) {
					list = append(list, plan.DeepCopy(el))
					continue
				}
				dst, okD := list[j].(map[string]any)
				src, okS := el.(map[string]any)
				if !okD || !okS {
					list[j] = plan.DeepCopy(el)
					continue
				}
				for k, v := range src {
					dst[k] = plan.DeepCopy(v)
				}
			}
		}
		if list != nil {
			plan.SetDotted(body, arr, list)
		}
	}
}

// secretEmpty reports whether secrets holds no value, or an empty one, at p.
func secretEmpty(secrets Secrets, p string) bool {
	v, _ := secrets.Get(p)
	return v == ""
}
