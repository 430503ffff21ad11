package loader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// readJSONFile reads a lone .json export file.
func readJSONFile(f io.Reader, entry string, opts Options, fn func(*Record) error, report func(Problem)) error {
	data, err := io.ReadAll(io.LimitReader(f, opts.Limits.MaxBytes+1))
	if err != nil {
		return fmt.Errorf("%s: %w", opts.DisplayName, err)
	}
	if int64(len(data)) > opts.Limits.MaxBytes {
		return fmt.Errorf("%s: %w", opts.DisplayName, &LimitError{What: "bytes", Limit: opts.Limits.MaxBytes, Flag: "max-bytes"})
	}
	return readJSONDoc(data, entry, opts, fn, report)
}

// readJSONZip reads the .json entries of an export zip, in name order.
func readJSONZip(ra io.ReaderAt, size int64, opts Options, fn func(*Record) error, report func(Problem)) error {
	z, err := openZip(ra, size, opts.DisplayName, opts.Limits, "JSON export zip")
	if err != nil {
		return err
	}
	files := append(z.File[:0:0], z.File...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	found := false
	for _, zf := range files {
		if zf.FileInfo().IsDir() || !strings.HasSuffix(strings.ToLower(zf.Name), ".json") || desktopClutter(zf.Name) {
			continue
		}
		found = true
		rc, err := z.open(zf)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", opts.DisplayName, zf.Name, err)
		}
		if err := readJSONDoc(data, zf.Name, opts, fn, report); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s: the zip holds no .json entry (is it a VOSS JSON export?)", opts.DisplayName)
	}
	return nil
}

// readJSONDoc decodes one JSON document in any accepted shape: a list of
// items, an object with the list under data, resources or instances, or a
// lone {meta, data} item. The document is checked whole first, as raw
// bytes, then its items are decoded one at a time: a document of millions
// of tiny items never becomes a tree in memory.
func readJSONDoc(data []byte, entry string, opts Options, fn func(*Record) error, report func(Problem)) error {
	loc := Location{File: opts.DisplayName, Entry: entry}
	if d := jsonDepth(data); d > opts.Limits.MaxJSONDepth {
		return fmt.Errorf("%s: %s: %w", opts.DisplayName, entry, &LimitError{What: "levels of JSON nesting", Limit: int64(opts.Limits.MaxJSONDepth), Flag: "max-json-depth"})
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM, as Windows editors write
	dec := json.NewDecoder(bytes.NewReader(data))
	var doc json.RawMessage
	if err := dec.Decode(&doc); err != nil {
		report(Problem{Loc: loc, Msg: fmt.Sprintf("not valid JSON%s: %v", jsonErrorPlace(data, err), err)})
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		report(Problem{Loc: loc, Msg: fmt.Sprintf("trailing data after the JSON document at byte %d: an export entry holds one document", dec.InputOffset())})
		return nil
	}
	doc = bytes.TrimSpace(doc)
	var list json.RawMessage
	switch {
	case len(doc) > 0 && doc[0] == '[':
		list = doc
	case len(doc) > 0 && doc[0] == '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(doc, &obj); err != nil {
			report(Problem{Loc: loc, Msg: fmt.Sprintf("not valid JSON: %v", err)})
			return nil
		}
		for _, k := range []string{"data", "resources", "instances"} {
			if v := bytes.TrimSpace(obj[k]); len(v) > 0 && v[0] == '[' {
				list = v
				break
			}
		}
		if list == nil && isSchema(obj) {
			// An export holds "the schema and" its instances: a schema
			// in an entry of its own is not an item.
			return nil
		}
		if list == nil {
			_, hasMeta := obj["meta"]
			_, hasData := obj["data"]
			if !hasMeta && !hasData {
				report(Problem{Loc: loc, Msg: "no items: expected a list, an object with data, resources or instances, or a {meta, data} item"})
				return nil
			}
			return jsonItems(bytes.NewReader(append(append([]byte("["), doc...), ']')), loc, opts, fn, report)
		}
	default:
		report(Problem{Loc: loc, Msg: "expected a JSON list or object"})
		return nil
	}
	return jsonItems(bytes.NewReader(list), loc, opts, fn, report)
}

// isSchema reports whether a JSON document is a model's JSON schema
// rather than an instance: it names $schema, or is an object type with
// properties.
func isSchema(obj map[string]json.RawMessage) bool {
	if _, ok := obj["$schema"]; ok {
		return true
	}
	props := bytes.TrimSpace(obj["properties"])
	var typ string
	_ = json.Unmarshal(obj["type"], &typ)
	return len(props) > 0 && props[0] == '{' && typ == "object"
}

// jsonErrorPlace returns " at line L, column C" for a syntax error in
// data, or "".
func jsonErrorPlace(data []byte, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset <= 0 || se.Offset > int64(len(data)) {
		return ""
	}
	before := data[:se.Offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return fmt.Sprintf(" at line %d, column %d", line, col)
}

// jsonItems decodes the items of a JSON list, already checked to be
// valid, one at a time.
func jsonItems(r io.Reader, loc Location, opts Options, fn func(*Record) error, report func(Problem)) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // [
		report(Problem{Loc: loc, Msg: fmt.Sprintf("not valid JSON: %v", err)})
		return nil
	}
	for i := 0; dec.More(); i++ {
		l := loc
		l.Index = i
		var it any
		if err := dec.Decode(&it); err != nil {
			report(Problem{Loc: l, Msg: fmt.Sprintf("not valid JSON: %v", err)})
			return nil
		}
		rec, msg := jsonItem(it, opts, l)
		if msg != "" {
			report(Problem{Loc: l, Msg: msg})
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

func jsonItem(it any, opts Options, loc Location) (*Record, string) {
	obj, ok := it.(map[string]any)
	if !ok {
		return nil, "item is not an object"
	}
	meta, _ := obj["meta"].(map[string]any)
	data, ok := obj["data"].(map[string]any)
	if !ok {
		return nil, "item has no \"data\" object"
	}
	rec := &Record{Action: Upsert, Fields: map[string]any{}, Loc: loc}
	str := func(m map[string]any, k string) string {
		s, _ := m[k].(string)
		return s
	}
	if meta != nil {
		rec.Model = str(meta, "model_type")
		rec.Hierarchy = str(meta, "hierarchy")
		rec.Pkid = str(meta, "pkid")
		if bk, ok := meta["business_key"].(map[string]any); ok && rec.Hierarchy == "" {
			rec.Hierarchy, _ = bk["hierarchy"].(string)
		}
	}
	if rec.Pkid == "" {
		rec.Pkid, _ = obj["pkid"].(string)
	}
	if rec.Model == "" {
		rec.Model = opts.Model
	}
	if rec.Model == "" {
		return nil, "item has no meta.model_type (give one with --model)"
	}
	// The VOSS import rule: meta.hierarchy, else the business key's, else
	// the item's own hierarchy_path, else --hierarchy.
	if h, ok := data["hierarchy_path"].(string); ok && rec.Hierarchy == "" {
		rec.Hierarchy = h
	}
	if rec.Hierarchy == "" {
		rec.Hierarchy = opts.Hierarchy
	}
	for k, v := range data {
		switch k {
		case "pkid", "hierarchy_path", "hierarchy_friendly_name":
			continue
		}
		if v == nil {
			continue // a field without a value (see jsonValue)
		}
		rec.Fields[k] = jsonValue(v)
	}
	return rec, ""
}

// jsonValue converts decoded JSON into the record's field tree types. A
// null member of an object is a field without a value, as a database
// export writes one never set: it is left out ("leave alone"), not
// refused as a value of the wrong type.
func jsonValue(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		return t.String()
	case map[string]any:
		for k, x := range t {
			if x == nil {
				delete(t, k)
				continue
			}
			t[k] = jsonValue(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = jsonValue(x)
		}
		return t
	}
	return v
}

// jsonDepth returns the deepest nesting of objects and arrays in data,
// scanning bytes so that a hostile document is refused before decoding.
func jsonDepth(data []byte) int {
	depth, maxDepth, inStr, esc := 0, 0, false, false
	for _, c := range data {
		switch {
		case esc:
			esc = false
		case inStr:
			if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				maxDepth = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return maxDepth
}

// desktopClutter reports whether a zip entry is one a desktop adds beside
// the files it was asked to zip: macOS resource forks (__MACOSX/, ._name)
// and Finder's .DS_Store.
func desktopClutter(name string) bool {
	base := path.Base(name)
	return strings.HasPrefix(name, "__MACOSX/") || strings.Contains(name, "/__MACOSX/") ||
		strings.HasPrefix(base, "._") || base == ".DS_Store"
}
