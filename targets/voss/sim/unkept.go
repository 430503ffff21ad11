package sim

import (
	"fmt"
	"sort"
	"strings"
)

// A server met for the first time may answer a write with success and not
// keep what it was sent: drop a field, or keep it normalised. Options'
// DropFields and LowerFields make the simulator misbehave that way on
// purpose, so a client's read-back is tested against behaviour it does
// not control. Each entry is MODEL:PATH, e.g. "data/User:email" or
// "relation/HcsAdminUserREL:AdminUser.email" (a dot path through nested
// objects). The write still answers success as usual and counts as a
// write; a read shows what the server kept.

// unkeptRule is one parsed entry of DropFields or LowerFields.
type unkeptRule struct {
	model string
	path  []string
	lower bool // else drop
}

// Validate reports the first entry of DropFields or LowerFields that does
// not name a field the simulator can misbehave on, with the reason.
func (o Options) Validate() error {
	_, err := parseUnkept(o.DropFields, o.LowerFields)
	return err
}

func parseUnkept(drop, lower []string) ([]unkeptRule, error) {
	var out []unkeptRule
	for _, list := range []struct {
		specs []string
		lower bool
	}{{drop, false}, {lower, true}} {
		for _, spec := range list.specs {
			r, err := parseRule(spec, list.lower)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func parseRule(spec string, lower bool) (unkeptRule, error) {
	what := "drop"
	if lower {
		what = "lower"
	}
	model, path, ok := strings.Cut(strings.TrimSpace(spec), ":")
	m := models[model]
	if !ok || m == nil || path == "" {
		names := make([]string, 0, len(models))
		for n := range models {
			names = append(names, n)
		}
		sort.Strings(names)
		return unkeptRule{}, fmt.Errorf("%s-field %q: want MODEL:FIELD with MODEL one of %s (e.g. data/User:email)", what, spec, strings.Join(names, ", "))
	}
	r := unkeptRule{model: model, path: strings.Split(path, "."), lower: lower}
	f := m.root
	for i, name := range r.path {
		c := f.child(name)
		if c == nil {
			return unkeptRule{}, fmt.Errorf("%s-field %q: %s has no field %s", what, spec, model, strings.Join(r.path[:i+1], "."))
		}
		if i < len(r.path)-1 && c.kind != object {
			return unkeptRule{}, fmt.Errorf("%s-field %q: %s is not an object", what, spec, strings.Join(r.path[:i+1], "."))
		}
		f = c
	}
	switch {
	case f.secret:
		return unkeptRule{}, fmt.Errorf("%s-field %q: write-only; it is never read back", what, spec)
	case f.readOnly:
		return unkeptRule{}, fmt.Errorf("%s-field %q: read only; it is never written", what, spec)
	case f.kind == object || f.kind == array:
		return unkeptRule{}, fmt.Errorf("%s-field %q: not a single value", what, spec)
	case lower && f.kind != str:
		return unkeptRule{}, fmt.Errorf("lower-field %q: not a string", spec)
	case !lower && (f.required || path == m.key):
		return unkeptRule{}, fmt.Errorf("drop-field %q: required; the server could not create the instance without it", spec)
	}
	return r, nil
}

// lookup returns the value at path in data.
func lookup(data map[string]any, path []string) (any, bool) {
	for _, p := range path[:len(path)-1] {
		sub, ok := data[p].(map[string]any)
		if !ok {
			return nil, false
		}
		data = sub
	}
	v, ok := data[path[len(path)-1]]
	return v, ok
}

// parentOf returns the object holding path's last element, creating the
// objects on the way when create is set.
func parentOf(data map[string]any, path []string, create bool) map[string]any {
	for _, p := range path[:len(path)-1] {
		sub, ok := data[p].(map[string]any)
		if !ok {
			if !create {
				return nil
			}
			sub = map[string]any{}
			data[p] = sub
		}
		data = sub
	}
	return data
}

// unkeep turns next, what a write of model asks to store, into what this
// misbehaving server keeps: a dropped field keeps its value in old (nil
// for a create), or stays absent; a lowered one is lower-cased.
func (s *Server) unkeep(model string, old, next map[string]any) {
	for _, r := range s.unkept {
		if r.model != model {
			continue
		}
		last := r.path[len(r.path)-1]
		if r.lower {
			if p := parentOf(next, r.path, false); p != nil {
				if v, ok := p[last].(string); ok {
					p[last] = strings.ToLower(v)
				}
			}
			continue
		}
		if v, ok := lookup(old, r.path); ok && old != nil {
			parentOf(next, r.path, true)[last] = v
		} else if p := parentOf(next, r.path, false); p != nil {
			delete(p, last)
		}
	}
}
