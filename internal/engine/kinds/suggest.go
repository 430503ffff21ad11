package kinds

import (
	"fmt"

	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// didYouMean suggests the existing role nearest a misspelt one: ` (did you
// mean "X"?)`, or "" when none is near.
func didYouMean(name string, roles map[string]bool) string {
	names := make([]string, 0, len(roles))
	for r := range roles {
		names = append(names, r)
	}
	return suggestion(name, names)
}

// didYouMeanRole is didYouMean over the CUPI roles by lower-case name.
func didYouMeanRole(name string, roles map[string]cupi.Object) string {
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		names = append(names, r["RoleName"])
	}
	return suggestion(name, names)
}

func suggestion(name string, names []string) string {
	if s := schema.Closest(name, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// didYouMeanNamed suggests the object nearest a misspelt name, by the
// name field of each object.
func didYouMeanNamed(name string, objs map[string]cupi.Object, field string) string {
	names := make([]string, 0, len(objs))
	for _, o := range objs {
		names = append(names, o[field])
	}
	return suggestion(name, names)
}

// didYouMeanNode suggests the VOSS hierarchy nearest a misspelt one.
func (st *State) didYouMeanNode(h string) string {
	return suggestion(h, keys(st.nodes))
}

// keys returns a set's members.
func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
