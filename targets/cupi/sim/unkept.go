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
// not control. Each entry is OBJECT:FIELD with OBJECT one of user,
// credential (a user's password and PIN settings) and authzserver, e.g.
// "user:EmailAddress". The write still answers 201 or 204 as usual and
// counts as a write; a read shows what the server kept.

// unkeptObjects are the objects a rule may name, with the fields each can
// misbehave on: the writable ones, less the secrets (never read back) and
// those it cannot create an object without (Drop only).
var unkeptObjects = map[string]struct {
	writable map[string]bool
	required []string
}{
	"user":        {userWritable, []string{"Alias", "DtmfAccessId"}},
	"credential":  {credWritable, nil},
	"authzserver": {authzWritable, []string{"DisplayName", "ServerNodeAddress"}},
}

var secretFields = map[string]bool{"Credentials": true, "ServerPassword": true}

// Validate reports the first entry of DropFields or LowerFields that does
// not name a field the simulator can misbehave on, with the reason.
func (o Options) Validate() error {
	_, err := parseUnkept(o.DropFields, o.LowerFields)
	return err
}

// unkept maps "object:field" to true for lower-case, false for drop.
func parseUnkept(drop, lower []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, list := range []struct {
		specs []string
		lower bool
	}{{drop, false}, {lower, true}} {
		what := "drop"
		if list.lower {
			what = "lower"
		}
		for _, spec := range list.specs {
			obj, field, ok := strings.Cut(strings.TrimSpace(spec), ":")
			o, known := unkeptObjects[strings.ToLower(obj)]
			if !ok || !known || field == "" {
				return nil, fmt.Errorf("%s-field %q: want OBJECT:FIELD with OBJECT one of authzserver, credential, user (e.g. user:EmailAddress)", what, spec)
			}
			obj = strings.ToLower(obj)
			if !o.writable[field] {
				var names []string
				for n := range o.writable {
					if !secretFields[n] {
						names = append(names, n)
					}
				}
				sort.Strings(names)
				return nil, fmt.Errorf("%s-field %q: %s has no writable field %s (fields: %s)", what, spec, obj, field, strings.Join(names, ", "))
			}
			if secretFields[field] {
				return nil, fmt.Errorf("%s-field %q: write-only; it is never read back", what, spec)
			}
			for _, r := range o.required {
				if !list.lower && r == field {
					return nil, fmt.Errorf("drop-field %q: required; the server could not create the object without it", spec)
				}
			}
			out[obj+":"+field] = list.lower
		}
	}
	return out, nil
}

// keep returns the value this misbehaving server keeps of a write of
// field on object, and whether it keeps anything (a dropped field keeps
// what the object held).
func (s *Server) keep(object, field, v string) (string, bool) {
	lower, ok := s.unkept[object+":"+field]
	switch {
	case !ok:
		return v, true
	case lower:
		return strings.ToLower(v), true
	}
	return "", false
}
