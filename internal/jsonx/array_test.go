package jsonx

import (
	"bytes"
	"sort"
	"testing"
)

// WriteIndentArray writes the bytes MarshalIndent does, element by
// element: empty, one and several elements, nested values, and strings
// that look like the field it streams.
func TestWriteIndentArrayAsMarshalIndent(t *testing.T) {
	type item struct {
		Name string         `json:"name"`
		Tags []string       `json:"tags,omitempty"`
		Any  map[string]any `json:"any,omitempty"`
	}
	type doc struct {
		Title string  `json:"title"`
		Items []*item `json:"items"`
		After []int   `json:"after,omitempty"`
	}
	for _, items := range [][]*item{
		{},
		{{Name: "one"}},
		{{Name: `"items": []`, Tags: []string{"a", "<b>"}}, {Name: "x", Any: map[string]any{"k": []any{1, "v", nil}, "j": map[string]any{}}}, {Name: "z"}},
	} {
		for _, indent := range []string{" ", "  "} {
			d := doc{Title: "\n  \"items\": []", Items: items, After: []int{1, 2}}
			want, err := MarshalIndent(d, "", indent)
			if err != nil {
				t.Fatal(err)
			}
			head := d
			head.Items = []*item{}
			var got bytes.Buffer
			if err := WriteIndentArray(&got, head, "items", indent, len(items), func(i int) any { return items[i] }); err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("%d items, indent %q:\n%s\nwant\n%s", len(items), indent, got.String(), want)
			}
		}
	}
}

// WriteIndentMap writes the bytes MarshalIndent does for a map member,
// keys in encoding/json's order, escaped as it escapes them.
func TestWriteIndentMapAsMarshalIndent(t *testing.T) {
	type doc struct {
		Applied map[string]string `json:"applied"`
		Maybe   map[string]any    `json:"maybe,omitempty"`
	}
	for _, m := range []map[string]string{
		{},
		{"a": "1"},
		{"b|<x>&": "2", "a": "1", `"applied": {}`: "\u2028", "Z": ""},
	} {
		d := doc{Applied: m, Maybe: map[string]any{"k": map[string]any{"hash": "h", "before": "t"}}}
		want, err := MarshalIndent(d, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		head := d
		head.Applied = map[string]string{}
		var got bytes.Buffer
		if err := WriteIndentMap(&got, head, "applied", " ", keys, func(k string) any { return m[k] }); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("%d keys:\n%s\nwant\n%s", len(m), got.String(), want)
		}
	}
}
