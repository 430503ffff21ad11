package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/loader"
)

// commentColumn is the bulk-load base column the loader keeps for reports
// and never sends.
const commentColumn = "# Comment"

// failedBlock is one bulk-load block of failed rows.
type failedBlock struct {
	instr  string
	header []string
	rows   [][]any
}

// failedBlocks returns the failed rows of the document as bulk-load
// blocks: workbook and CSV rows in their own layout, JSON items (which
// have none) flattened to dotted columns under an "entity:" line of their
// model and hierarchy. Each row gets the reasons it failed in "# Comment";
// write-only values, which a report never carries, are left empty and
// named in the comment.
func failedBlocks(d *Document, recs []*loader.Record) []failedBlock {
	reasons := map[engine.Source][]string{}
	for _, op := range d.Ops {
		if op.Status == engine.Failed {
			reasons[op.Src()] = append(reasons[op.Src()], fmt.Sprintf("%s %s: %s", op.Kind, op.Key, op.Error))
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	var blocks []*failedBlock
	byKey := map[string]*failedBlock{}
	// JSON items of one model and hierarchy share a block whose columns
	// are the union of their fields; they are gathered first.
	type item struct {
		rec  *loader.Record
		flat map[string]any
	}
	items := map[string][]item{}
	var itemKeys []string
	for _, r := range recs {
		why := reasons[engine.Source(r.Loc)]
		if why == nil {
			continue
		}
		if r.Header == nil {
			k := r.Model + "\x00" + r.Hierarchy
			if items[k] == nil {
				itemKeys = append(itemKeys, k)
			}
			flat := map[string]any{}
			flatten("", r.Fields, flat)
			items[k] = append(items[k], item{r, flat})
			continue
		}
		instr := r.Instructions
		if strings.TrimSpace(instr) == "" {
			instr = instructions(r)
		}
		k := instr + "\x00" + strings.Join(r.Header, "\x00")
		b := byKey[k]
		if b == nil {
			b = &failedBlock{instr: instr, header: append([]string(nil), r.Header...)}
			if commentIndex(b.header) < 0 {
				b.header = append(b.header, commentColumn)
			}
			byKey[k] = b
			blocks = append(blocks, b)
		}
		cells := make([]any, len(b.header))
		var blanked []string
		for i, h := range r.Header {
			v := ""
			if i < len(r.Cells) {
				v = r.Cells[i]
			}
			if v != "" && isSecret(r.Model, h) {
				blanked = append(blanked, h)
				v = ""
			}
			cells[i] = v
		}
		cells[commentIndex(b.header)] = comment(why, blanked)
		b.rows = append(b.rows, cells)
	}
	for _, k := range itemKeys {
		group := items[k]
		cols := map[string]bool{}
		for _, it := range group {
			for c := range it.flat {
				cols[c] = true
			}
		}
		var names []string
		for c := range cols {
			names = append(names, c)
		}
		sort.Strings(names)
		b := &failedBlock{instr: instructions(group[0].rec), header: append([]string{commentColumn}, names...)}
		for _, it := range group {
			cells := make([]any, len(b.header))
			var blanked []string
			for i, c := range names {
				v, ok := it.flat[c]
				switch {
				case !ok:
					continue
				case isSecret(it.rec.Model, c):
					blanked = append(blanked, c)
					continue
				}
				cells[i+1] = cellValue(v)
			}
			cells[0] = comment(reasons[engine.Source(it.rec.Loc)], blanked)
			b.rows = append(b.rows, cells)
		}
		blocks = append(blocks, b)
	}
	out := make([]failedBlock, len(blocks))
	for i, b := range blocks {
		out[i] = *b
	}
	return out
}

// instructions is the block row 1 of a record that came without one.
func instructions(r *loader.Record) string {
	s := "entity: " + r.Model
	if r.Hierarchy != "" {
		s += "; hierarchy: " + r.Hierarchy
	}
	return s
}

func commentIndex(header []string) int {
	for i, h := range header {
		if strings.EqualFold(strings.Join(strings.Fields(h), " "), commentColumn) {
			return i
		}
	}
	return -1
}

// comment is the "# Comment" of a failed row: why it failed, and which
// write-only values must be typed again.
func comment(why, blanked []string) string {
	s := "failed: " + strings.Join(why, "; ")
	if len(blanked) > 0 {
		s += " | write-only values not carried, type them again: " + strings.Join(blanked, ", ")
	}
	return s
}

// isSecret reports whether a column of model holds a write-only value.
func isSecret(model, column string) bool {
	if m := schema.Get(model); m != nil {
		if f, _ := m.Lookup(column); f != nil {
			return f.Secret
		}
	}
	l := strings.ToLower(column)
	return strings.HasSuffix(l, "password") || strings.HasSuffix(l, "pin") || strings.HasSuffix(l, "answer") || strings.HasSuffix(l, "credentials")
}

// flatten turns a field tree into bulk-load column paths: objects dotted,
// array elements as name.[N].field.
func flatten(prefix string, v any, out map[string]any) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, c, out)
		}
	case []any:
		for i, c := range t {
			flatten(fmt.Sprintf("%s.[%d]", prefix, i), c, out)
		}
	default:
		out[prefix] = v
	}
}

// cellValue is a field value as a bulk-load cell: booleans as booleans,
// an empty string as the single space that means "set to empty".
func cellValue(v any) any {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		if t == "" {
			return " "
		}
		return t
	case nil:
		return nil
	}
	return strings.Trim(Value(v, false), `"`)
}

// failedSheet writes the failed blocks one under another: the entity row,
// the column names, two title rows, then the rows, and an empty row. Cells
// are typed string cells, which no spreadsheet evaluates, so values are
// written exactly as read (no formula-escaping apostrophe that a re-fed
// row would send).
func failedSheet(f *excelize.File, d *Document, recs []*loader.Record) error {
	blocks := failedBlocks(d, recs)
	if len(blocks) == 0 {
		return nil
	}
	if _, err := f.NewSheet(FailedSheet); err != nil {
		return err
	}
	row, cols := 1, 0
	put := func(vals []any) error {
		cols = max(cols, len(vals))
		ref, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return f.SetSheetRow(FailedSheet, ref, &vals)
	}
	text := func(ss []string) []any {
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	for _, b := range blocks {
		rows := [][]any{{b.instr}, text(b.header), nil, text(b.header)}
		rows = append(rows, b.rows...)
		for _, r := range rows {
			if err := put(r); err != nil {
				return err
			}
		}
		row++
	}
	return SetDimension(f, FailedSheet, cols, row-2)
}
