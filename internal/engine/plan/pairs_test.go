package plan

import (
	"slices"
	"testing"
)

func TestPairs(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets [][2]string // name, value, in the order set
		want []Pair      // All, in order
	}{
		{"empty", nil, nil},
		{"one", [][2]string{{"Alias", "a"}}, []Pair{{"Alias", "a"}}},
		{"sorted on insert", [][2]string{{"LastName", "l"}, {"Alias", "a"}, {"FirstName", "f"}, {"DtmfAccessId", "1"}},
			[]Pair{{"Alias", "a"}, {"DtmfAccessId", "1"}, {"FirstName", "f"}, {"LastName", "l"}}},
		{"byte order, as sort.Strings", [][2]string{{"b", "1"}, {"B", "2"}, {"a", "3"}},
			[]Pair{{"B", "2"}, {"a", "3"}, {"b", "1"}}},
		{"set replaces", [][2]string{{"Alias", "a"}, {"FirstName", "f"}, {"Alias", "b"}},
			[]Pair{{"Alias", "b"}, {"FirstName", "f"}}},
		{"empty value is held", [][2]string{{"Alias", ""}}, []Pair{{"Alias", ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Pairs
			for _, s := range tc.sets {
				p.Set(s[0], s[1])
			}
			var got []Pair
			for k, v := range p.All() {
				got = append(got, Pair{k, v})
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("All = %v, want %v", got, tc.want)
			}
			if p.Len() != len(tc.want) {
				t.Errorf("Len = %d, want %d", p.Len(), len(tc.want))
			}
			for _, w := range tc.want {
				if v, ok := p.Get(w.Name); !ok || v != w.Value {
					t.Errorf("Get(%q) = %q, %v; want %q, true", w.Name, v, ok, w.Value)
				}
			}
			if v, ok := p.Get("Missing"); ok || v != "" {
				t.Errorf("Get(missing) = %q, %v; want \"\", false", v, ok)
			}
		})
	}
}
