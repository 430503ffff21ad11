package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sets    [][2]string // path, value, in the order set
		deletes []string
		want    []Secret // All, in order
	}{
		{"empty", nil, nil, nil},
		{"in the order set", [][2]string{{"pin", "S3cret-1"}, {"password", "S3cret-p"}}, nil, []Secret{{"pin", "S3cret-1"}, {"password", "S3cret-p"}}},
		{"set replaces in place", [][2]string{{"a", "S3cret-1"}, {"b", "S3cret-2"}, {"a", "S3cret-3"}}, nil, []Secret{{"a", "S3cret-3"}, {"b", "S3cret-2"}}},
		{"delete keeps the others' order", [][2]string{{"a", "S3cret-1"}, {"pin", "S3cret-2"}, {"c", "S3cret-3"}}, []string{"pin"}, []Secret{{"a", "S3cret-1"}, {"c", "S3cret-3"}}},
		{"delete of a missing path", [][2]string{{"a", "S3cret-1"}}, []string{"pin"}, []Secret{{"a", "S3cret-1"}}},
		{"delete from none", nil, []string{"pin"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Secrets
			for _, e := range tc.sets {
				s.Set(e[0], e[1])
			}
			for _, p := range tc.deletes {
				s.Delete(p)
			}
			var got []Secret
			for p, v := range s.All() {
				got = append(got, Secret{p, v})
			}
			if !slices.Equal(got, tc.want) || s.Len() != len(tc.want) {
				t.Errorf("All = %v (Len %d), want %v", got, s.Len(), tc.want)
			}
			for _, p := range tc.deletes {
				if v, ok := s.Get(p); ok {
					t.Errorf("Get(%q) = %q after Delete", p, v)
				}
			}
			for _, e := range tc.want {
				if v, ok := s.Get(e.Path); !ok || v != e.Value {
					t.Errorf("Get(%q) = %q, %v; want %q", e.Path, v, ok, e.Value)
				}
				for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
					if strings.Contains(out, e.Value) {
						t.Errorf("formatted secrets %q show the value of %s", out, e.Path)
					}
				}
			}
		})
	}
}

// Secrets is a handle: a copied value shares its pairs, Clone does not.
func TestSecretsClone(t *testing.T) {
	a := SecretsOf("password", "S3cret-a")
	shared, clone := a, a.Clone()
	shared.Set("password", "S3cret-b")
	clone.Set("pin", "S3cret-c")
	if v, _ := a.Get("password"); v != "S3cret-b" {
		t.Errorf("a copy's Set did not reach the original: %q", v)
	}
	if _, ok := a.Get("pin"); ok || clone.Len() != 2 {
		t.Errorf("Clone shares with the original: original %d pairs, clone %d", a.Len(), clone.Len())
	}
	if v, _ := clone.Get("password"); v != "S3cret-a" {
		t.Errorf("clone password = %q, want the value at the time of Clone", v)
	}
	var none Secrets
	if c := none.Clone(); c.Len() != 0 {
		t.Errorf("Clone of none holds %d", c.Len())
	}
}
