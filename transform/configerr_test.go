package transform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Config errors speak JSON and the config's own words: a line and column,
// never a Go type.
func TestConfigErrorsReadable(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{`{"roles": "x"}`, `1:14: found text in "roles", which should hold an object of VOSS role to CUPI role names`},
		{"{\"roles\": {\n \"a\": [\"b\"],\n}}", "3:2: JSON syntax error: invalid character '}'"},
		{`{"roles": {"a": ["b"]`, "1:22: JSON ends too early"},
		{`{"defaultHierarchy": 5}`, `1:23: found a number in "defaultHierarchy", which should hold a hierarchy path (text)`},
		{`[1]`, "1:2: found an array; the config is an object of keys"},
		{`{"roles": {"a": [1]}}`, `1:19: found a number in "roles"`},
	} {
		p := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "[]string") {
			t.Errorf("%s: %v, want %q", c.text, err, c.want)
		}
	}
}
