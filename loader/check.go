package loader

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/bulkprov/bulkprov/internal/schema"
)

// Checker validates records against the model schemas and across the
// input: it converts field values to their schema types in place, and
// reports missing required fields, bad values, and business keys that
// appear twice in the inputs of a run, in one file or across files. One
// Checker covers one run.
type Checker struct {
	// seen indexes every business key by a 128-bit hash, pointing at a
	// packed place (sheet or entry index, row or item index): about 40
	// bytes per row, whatever the key's length.
	seen     map[[16]byte]uint64
	places   []Location
	placeIdx map[Location]uint64
}

// NewChecker returns a Checker with no keys seen yet.
func NewChecker() *Checker {
	return &Checker{seen: map[[16]byte]uint64{}, placeIdx: map[Location]uint64{}}
}

func (c *Checker) pack(l Location) uint64 {
	place := Location{File: l.File, Sheet: l.Sheet, Entry: l.Entry}
	i, ok := c.placeIdx[place]
	if !ok {
		i = uint64(len(c.places))
		c.places = append(c.places, place)
		c.placeIdx[place] = i
	}
	return i<<40 | uint64(l.Row+l.Index)&(1<<40-1)
}

func (c *Checker) unpack(v uint64) Location {
	l := c.places[v>>40]
	n := int(v & (1<<40 - 1))
	if l.Entry != "" {
		l.Index = n
	} else {
		l.Row = n
	}
	return l
}

// Key returns the record's business key: the hierarchy (for VOSS models)
// and the key field's value, or "" when the row names none.
func Key(rec *Record) string {
	m := schema.Get(rec.Model)
	if m == nil {
		return ""
	}
	v := lookup(rec.Fields, m.Key)
	if v == "" && rec.Search != nil {
		for k, sv := range rec.Search {
			if strings.EqualFold(k, m.Key) {
				v = sv
			}
		}
	}
	if v == "" {
		return ""
	}
	if m.Hierarchical {
		return rec.Hierarchy + "/" + v
	}
	return v
}

// cupiAliasMax is the longest CUPI Alias (schema cupi/User).
const cupiAliasMax = 64

// normaliseKey puts the business key, its hierarchy and the search
// values that find an instance in Unicode NFC (issue 23): a composed
// and a decomposed "é" look alike and are one name — one user, and a
// duplicate when both are given — and what is sent is the one spelling.
func normaliseKey(rec *Record, keyPath string) {
	rec.Hierarchy = norm.NFC.String(rec.Hierarchy)
	for k, v := range rec.Search {
		rec.Search[k] = norm.NFC.String(v)
	}
	segs := strings.Split(keyPath, ".")
	cur := rec.Fields
	for i, seg := range segs {
		if i == len(segs)-1 {
			if v, ok := cur[seg].(string); ok && !norm.NFC.IsNormalString(v) {
				cur[seg] = norm.NFC.String(v)
			}
			return
		}
		next, ok := cur[seg].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
}

// lookup returns the string at a dotted path of tree, or "".
func lookup(tree map[string]any, path string) string {
	var cur any = tree
	for _, seg := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[seg]
	}
	s, _ := cur.(string)
	return s
}

// Check validates rec, converting its values to schema types, and returns
// the problems found (none means the record is valid).
func (c *Checker) Check(rec *Record) []Problem {
	var out []Problem
	add := func(path, format string, args ...any) {
		col := rec.Columns[path]
		if rec.Loc.Entry != "" || col == "" {
			col = path
		}
		out = append(out, Problem{Loc: rec.Loc, Column: col, Msg: fmt.Sprintf(format, args...)})
	}
	m := schema.Get(rec.Model)
	if m == nil {
		add("", "%v", schema.ErrUnknownModel(rec.Model))
		return out
	}
	rec.Model = m.Name
	if m.Hierarchical && rec.Hierarchy == "" {
		add("", "no hierarchy: set \"hierarchy:\" in the entity row, a # Hierarchy Node column, or --hierarchy")
	}
	c.walk(m.Root, rec.Fields, "", rec, add)
	if rec.Action == Add || rec.Action == Upsert {
		requireFields(m.Root, rec.Fields, "", add)
	}
	normaliseKey(rec, m.Key)
	if m.Name == schema.User {
		// The username becomes the Unity Connection alias of a row with
		// a CUPI part (an extension or a PIN); CUPI's Alias holds 64
		// characters (seeds; schema cupi/User).
		u := lookup(rec.Fields, "username")
		if n := utf8.RuneCountInString(u); n > cupiAliasMax && (lookup(rec.Fields, "DtmfAccessId") != "" || lookup(rec.Fields, "pin") != "") {
			add("username", "too long for the Unity Connection alias this row creates: %d characters, at most %d (CUPI Alias)", n, cupiAliasMax)
		}
	}
	key := Key(rec)
	if key == "" && rec.Pkid == "" {
		add(m.Key, "no business key: %s is required to find the instance", m.Key)
	} else if key != "" {
		var k [16]byte
		// Keyed across files: two inputs naming one object are refused
		// as two rows of one input are.
		sum := sha256.Sum256([]byte(m.Name + "\x00" + strings.ToLower(key)))
		copy(k[:], sum[:16])
		if prev, dup := c.seen[k]; dup {
			add(m.Key, "duplicate business key %q: the same %s is also at %s", key, m.Name, c.unpack(prev))
		} else {
			c.seen[k] = c.pack(rec.Loc)
		}
	}
	return out
}

func (c *Checker) walk(f *schema.Field, tree map[string]any, prefix string, rec *Record, add func(string, string, ...any)) {
	keys := make([]string, 0, len(tree))
	for k := range tree {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := tree[k]
		child := f.Child(k)
		path := prefix + k
		if child == nil {
			msg := fmt.Sprintf("unknown field %q", path)
			if s := schema.Get(rec.Model).Suggest(path); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			if rec.Loc.Entry != "" {
				// JSON exports carry server-side attributes we do not model;
				// they are dropped rather than refused.
				delete(tree, k)
				continue
			}
			add(path, "%s", msg)
			continue
		}
		if child.Name != k {
			delete(tree, k)
			tree[child.Name] = v
			path = prefix + child.Name
		}
		switch child.Type {
		case schema.Object:
			sub, ok := v.(map[string]any)
			if !ok {
				add(path, "expected an object")
				continue
			}
			c.walk(child, sub, path+".", rec, add)
		case schema.Array:
			arr, ok := v.([]any)
			if !ok {
				add(path, "expected a list")
				continue
			}
			for i, el := range arr {
				ip := fmt.Sprintf("%s.[%d]", path, i)
				sub, ok := el.(map[string]any)
				if el == nil {
					add(ip, "array %s has no element [%d] but has later ones (indices must start at 0 without gaps)", path, i)
					continue
				}
				if !ok {
					add(ip, "expected an object")
					continue
				}
				c.walk(child, sub, ip+".", rec, add)
			}
		default:
			nv, msg := coerce(child, v, rec.Loc.Entry != "")
			if msg != "" {
				add(path, "%s", msg)
				continue
			}
			if child.ReadOnly && rec.Loc.Entry != "" {
				delete(tree, child.Name)
				continue
			}
			tree[child.Name] = nv
		}
	}
}

// coerce converts v to the field's type, or says why it cannot.
func coerce(f *schema.Field, v any, fromJSON bool) (any, string) {
	switch f.Type {
	case schema.Bool:
		switch t := v.(type) {
		case bool:
			return t, ""
		case int64:
			if t == 0 || t == 1 {
				return t == 1, ""
			}
		case string:
			if b, ok := ParseBool(t); ok {
				return b, ""
			}
			return nil, fmt.Sprintf("expected a boolean (true/false, yes/no, 1/0), got %q", t)
		}
		return nil, fmt.Sprintf("expected a boolean, got %v", v)
	case schema.Integer:
		switch t := v.(type) {
		case int64:
			return t, ""
		case string:
			if t == "" {
				return "", ""
			}
			if n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64); err == nil {
				return n, ""
			}
			return nil, fmt.Sprintf("expected a whole number, got %q", t)
		}
		return nil, fmt.Sprintf("expected a whole number, got %v", v)
	case schema.DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Sprintf("expected a date-time, got %v", v)
		}
		if s == "" {
			return s, ""
		}
		if iso, ok := ParseDateTime(s); ok {
			return iso, ""
		}
		return nil, fmt.Sprintf("expected an ISO 8601 date-time (2024-01-31T12:00:00Z), got %q", s)
	default:
		var s string
		switch t := v.(type) {
		case string:
			s = t
		case bool:
			s = strconv.FormatBool(t)
		case int64:
			s = strconv.FormatInt(t, 10)
		default:
			return nil, fmt.Sprintf("expected text, got %T", v)
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(s) > f.MaxLength {
			return nil, fmt.Sprintf("too long: %d characters, at most %d", utf8.RuneCountInString(s), f.MaxLength)
		}
		if !f.Match(s) && !(fromJSON && f.Secret) {
			if f.Secret {
				return nil, fmt.Sprintf("value does not match the required pattern %s", f.Pattern)
			}
			return nil, fmt.Sprintf("%q does not match the required pattern %s", s, f.Pattern)
		}
		return s, ""
	}
}

func requireFields(f *schema.Field, tree map[string]any, prefix string, add func(string, string, ...any)) {
	for _, c := range f.Fields {
		path := prefix + c.Name
		v, present := tree[c.Name]
		// A required write-only field (a security answer) cannot come from
		// an export; the server enforces it when the value is really needed.
		if c.Required && !c.Secret && (!present || v == "") {
			add(path, "required field %s is missing", path)
			continue
		}
		switch c.Type {
		case schema.Object:
			if sub, ok := v.(map[string]any); ok {
				requireFields(c, sub, path+".", add)
			}
		case schema.Array:
			if arr, ok := v.([]any); ok {
				for i, el := range arr {
					if sub, ok := el.(map[string]any); ok {
						requireFields(c, sub, fmt.Sprintf("%s.[%d].", path, i), add)
					}
				}
			}
		}
	}
}

// ParseBool reads the spellings of a boolean bulkprov accepts.
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "y", "on":
		return true, true
	case "false", "no", "0", "n", "off":
		return false, true
	}
	return false, false
}

var dateLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02",
}

// ParseDateTime accepts ISO 8601 forms and returns the value unchanged
// when valid (VOSS stores what it is given).
func ParseDateTime(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return s, true
		}
	}
	return "", false
}
