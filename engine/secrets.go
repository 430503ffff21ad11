package engine

import (
	"iter"
	"slices"
)

// Secret is one write-only value an operation sends, by its field path.
type Secret struct {
	Path, Value string
}

// Secrets holds an operation's write-only values, in the order they were
// set (secretChanges sets them in path order). Most operations carry none,
// one or two, so a slice costs a fraction of a map (issue 14). It is never
// serialised and never shown.
type Secrets []Secret

// Len returns the number of values held.
func (s Secrets) Len() int { return len(s) }

// Get returns the value at path and whether there is one.
func (s Secrets) Get(path string) (string, bool) {
	for _, e := range s {
		if e.Path == path {
			return e.Value, true
		}
	}
	return "", false
}

// Set puts value at path, replacing the value held there if any.
func (s *Secrets) Set(path, value string) {
	for i := range *s {
		if (*s)[i].Path == path {
			(*s)[i].Value = value
			return
		}
	}
	*s = append(*s, Secret{path, value})
}

// Delete removes the value at path, if any, keeping the others' order.
func (s *Secrets) Delete(path string) {
	*s = slices.DeleteFunc(*s, func(e Secret) bool { return e.Path == path })
}

// All yields each path and its value, in the order they were set.
func (s Secrets) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, e := range s {
			if !yield(e.Path, e.Value) {
				return
			}
		}
	}
}

// GoString keeps the values out of %#v; String out of %v and %+v.
func (s Secrets) GoString() string { return s.String() }

// String names the paths only, never the values.
func (s Secrets) String() string {
	out := "["
	for i, e := range s {
		if i > 0 {
			out += " "
		}
		out += e.Path + ":***"
	}
	return out + "]"
}
