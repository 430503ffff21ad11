package plan

import (
	"iter"
	"slices"
	"strings"
)

// Pair is one field's name and string value.
type Pair struct {
	Name, Value string
}

// Pairs holds a few fields' string values, kept sorted by name so they
// are always sent in the same order. A CUPI user's create names four or
// five fields, so a slice costs a fraction of a map (issue 14).
type Pairs []Pair

// Len returns the number of fields held.
func (p Pairs) Len() int { return len(p) }

// Get returns the value of the field name and whether there is one.
func (p Pairs) Get(name string) (string, bool) {
	if i, found := p.find(name); found {
		return p[i].Value, true
	}
	return "", false
}

// Set puts value in the field name, replacing the value held there if
// any, and keeps the fields sorted by name.
func (p *Pairs) Set(name, value string) {
	i, found := p.find(name)
	if found {
		(*p)[i].Value = value
		return
	}
	*p = slices.Insert(*p, i, Pair{name, value})
}

// All yields each field's name and value, in name order.
func (p Pairs) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, e := range p {
			if !yield(e.Name, e.Value) {
				return
			}
		}
	}
}

// find returns where name is, or where it belongs, and whether it is there.
func (p Pairs) find(name string) (int, bool) {
	return slices.BinarySearchFunc(p, name, func(e Pair, name string) int { return strings.Compare(e.Name, name) })
}
