package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// configKinds names, in a config file's words, what each key holds.
var configKinds = map[string]string{
	"defaultHierarchy":   "a hierarchy path (text)",
	"hierarchies":        `an object of hierarchy renames, {"old.path": "new.path"}`,
	"roles":              `an object of VOSS role to CUPI role names, {"VOSSRole": ["CUPI Role", ...]}`,
	"credentialPolicies": `an object of VOSS to CUPI credential policy names, {"VOSS-CP": "CUPI policy"}`,
	"cupiUserTemplate":   "a CUPI user template alias (text)",
	"vossRoles":          `an object of role renames, {"OldRole": "NewRole"}`,
	"cupiClusters":       `an object of Unity Connection clusters, {"name": {"url": "https://...", "hierarchies": ["sys.hcs..."]}}`,
}

// describeConfigError turns a JSON decoding error of a config file into
// words an administrator reads: LINE:COLUMN for syntax errors, and what a
// key should hold for type errors, without Go type names.
func describeConfigError(b []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(b, se.Offset)
		return fmt.Sprintf("%d:%d: JSON syntax error: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		line, col := lineCol(b, te.Offset)
		key, _, _ := strings.Cut(te.Field, ".")
		want := configKinds[key]
		if want == "" {
			want = "a " + jsonKind(te.Type.Kind().String())
		}
		if te.Field == "" {
			return fmt.Sprintf("%d:%d: found %s; the config is an object of keys", line, col, article(te.Value))
		}
		return fmt.Sprintf("%d:%d: found %s in %q, which should hold %s", line, col, article(te.Value), key, want)
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := lineCol(b, int64(len(b)))
		return fmt.Sprintf("%d:%d: JSON ends too early (a missing } or ]?)", line, col)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(b []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func article(v string) string {
	switch v {
	case "object", "array":
		return "an " + v
	}
	if v == "string" {
		return "text"
	}
	return "a " + v
}

func jsonKind(goKind string) string {
	switch goKind {
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "list"
	case "string":
		return "text"
	}
	return goKind
}
