package plan

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Field trees: the nested maps (objects) and slices (arrays) a row names
// and a server answers with, addressed by dotted paths like "a.b" or
// "a.[0].b". Every room reads and writes them through these helpers.

// CopyTree returns a deep copy of a field tree (objects and arrays).
func CopyTree(m map[string]any) map[string]any { return DeepCopy(m).(map[string]any) }

func DeepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = DeepCopy(c)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = DeepCopy(c)
		}
		return out
	}
	return v
}

// SetDotted sets a value at a path like "a.b" or "a.[0].b".
func SetDotted(m map[string]any, path string, v any) {
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

// GetDotted reads a value at a path like "a.b" or "a.[0].b".
func GetDotted(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, seg := range strings.Split(path, ".") {
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			n, err := strconv.Atoi(strings.Trim(seg, "[]"))
			if err != nil || n < 0 || n >= len(node) {
				return nil, false
			}
			cur = node[n]
		default:
			return nil, false
		}
	}
	return cur, true
}

// Flatten calls fn for each leaf of a field tree, in path order.
func Flatten(prefix string, tree map[string]any, fn func(string, any)) {
	keys := make([]string, 0, len(tree))
	for k := range tree {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := prefix + k
		switch v := tree[k].(type) {
		case map[string]any:
			Flatten(p+".", v, fn)
		case []any:
			for i, el := range v {
				if m, ok := el.(map[string]any); ok {
					Flatten(fmt.Sprintf("%s.[%d].", p, i), m, fn)
				} else {
					fn(fmt.Sprintf("%s.[%d]", p, i), el)
				}
			}
		default:
			fn(p, v)
		}
	}
}

func Norm(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		switch t { // spelt as a server may; no ParseBool, whose error allocates
		case "True", "TRUE":
			return "true"
		case "False", "FALSE":
			return "false"
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

func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Same compares two values as the servers do: booleans and numbers in
// any spelling, an absent value and an empty one.
func Same(a, b any) bool {
	na, nb := Norm(a), Norm(b)
	if na == nb {
		return true
	}
	_, errA := strconv.ParseBool(na)
	_, errB := strconv.ParseBool(nb)
	return errA == nil && errB == nil && strings.EqualFold(na, nb)
}
