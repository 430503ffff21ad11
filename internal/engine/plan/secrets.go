package plan

import (
	"iter"
	"slices"

	"github.com/bulkprov/bulkprov/internal/redact"
)

// Secret is one write-only value an operation sends, by its field path.
type Secret struct {
	Path, Value string
}

// Secrets holds an operation's write-only values, in the order they were
// set (secretChanges sets them in path order). Most operations carry none,
// one or two, so a slice costs a fraction of a map, and it is held behind
// a pointer, one word in each operation (issue 14). It is never serialised
// and never shown. The zero Secrets holds nothing.
type Secrets struct{ list *[]Secret }

func (s Secrets) all() []Secret {
	if s.list == nil {
		return nil
	}
	return *s.list
}

// Len returns the number of values held.
func (s Secrets) Len() int { return len(s.all()) }

// Get returns the value at path and whether there is one.
func (s Secrets) Get(path string) (string, bool) {
	for _, e := range s.all() {
		if e.Path == path {
			return e.Value, true
		}
	}
	return "", false
}

// Set puts value at path, replacing the value held there if any. The
// value is registered with the scrubber (redact.Scrub), so that no
// server's echo of it reaches an error, a report or the journal.
func (s *Secrets) Set(path, value string) {
	redact.AddSecret(value)
	if s.list == nil {
		s.list = &[]Secret{}
	}
	l := s.list
	for i := range *l {
		if (*l)[i].Path == path {
			(*l)[i].Value = value
			return
		}
	}
	*l = append(*l, Secret{path, value})
}

// SecretsOf returns Secrets holding value at path.
func SecretsOf(path, value string) Secrets {
	var s Secrets
	s.Set(path, value)
	return s
}

// Clone returns a copy that shares nothing with s: Secrets is a handle,
// so a copied value sets and deletes in the same pairs.
func (s Secrets) Clone() Secrets {
	if s.list == nil {
		return s
	}
	l := slices.Clone(*s.list)
	return Secrets{list: &l}
}

// Clear lets go of every value held.
func (s *Secrets) Clear() { s.list = nil }

// Delete removes the value at path, if any, keeping the others' order.
func (s *Secrets) Delete(path string) {
	if s.list != nil {
		*s.list = slices.DeleteFunc(*s.list, func(e Secret) bool { return e.Path == path })
	}
}

// All yields each path and its value, in the order they were set.
func (s Secrets) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, e := range s.all() {
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
	for i, e := range s.all() {
		if i > 0 {
			out += " "
		}
		out += e.Path + ":***"
	}
	return out + "]"
}
