package loader

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/bulkprov/bulkprov/internal/schema"
)

// cell is one non-empty cell of a sheet row as read from the file.
type cell struct {
	col  int    // 1-based column number
	text string // the text value (for booleans "true"/"false")
	bool bool   // the cell was a typed boolean (Excel TRUE/FALSE)
	// typed: the cell was a boolean, number or date, not text.
	typed bool
	// lost: a number of 1e15 or more, whose digits past the fifteenth a
	// spreadsheet has already lost; an error in any but a whole-number field.
	lost bool
	// sci: a CSV cell holding a whole number in scientific notation
	// (4.42071E+11), as Excel writes a long number in a CSV: its digits
	// are lost; an error in any but a whole-number field.
	sci bool
}

// column is one named column of a block's header row.
type column struct {
	col    int
	name   string // as written in row 2
	base   string // normalised base-column name ("action", "hierarchynode", ...), or ""
	canon  string // canonical field path for attribute columns
	segs   []string
	field  *schema.Field
	broken bool // the header was reported as bad; its cells are ignored
}

// block is the state of one "entity:" block of a sheet.
type block struct {
	modelName    string
	model        *schema.Model
	hierarchy    string
	instructions string
	instrRow     int
	header       []column // nil until the header row is read
	headerNames  []string
	byCol        map[int]*column
	columns      map[string]string // canonical path -> letters, shared by the block's records
}

// blockReader turns the rows of one sheet (or CSV) into records.
type blockReader struct {
	opts   Options
	sheet  string
	csv    bool // CSV title-row rule instead of the workbook's fixed rows 3-4
	fn     func(*Record) error
	report func(Problem)

	cur         *block
	blocks      []int // the instruction row of each block, in order
	warnedLoose bool
	titleRows   int // CSV: 2 after a group row, 1 after its title row
	dataSeen    bool
}

func (r *blockReader) loc(row int) Location {
	return Location{File: r.opts.DisplayName, Sheet: r.sheet, Row: row}
}

func (r *blockReader) problem(row int, col, format string, args ...any) {
	r.report(Problem{Loc: r.loc(row), Column: col, Msg: fmt.Sprintf(format, args...)})
}

// finish ends the sheet: a block still open without column names is
// reported, as a block whose next row is not its column names is (unless
// its entity row was already refused).
func (r *blockReader) finish() {
	if b := r.cur; b != nil && b.header == nil && b.model != nil {
		r.problem(b.instrRow, "", "the block has no column-name row (expected right under the \"entity:\" row)")
	}
	r.cur = nil
}

// startBlock begins a block whose instructions (row 1) are given.
func (r *blockReader) startBlock(row int, instr string, cells []cell) {
	r.finish()
	b := &block{instrRow: row, instructions: instr, byCol: map[int]*column{}}
	for _, part := range strings.Split(instr, ";") {
		part = strings.Trim(strings.TrimSpace(part), "\\ \t\r\n")
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, ":")
		if !ok {
			continue // unknown free text is kept in Instructions and ignored
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "entity":
			b.modelName = strings.TrimSpace(val)
		case "hierarchy":
			b.hierarchy = strings.TrimSpace(val)
		}
	}
	col := ColumnName(cells[0].col)
	if b.modelName == "" {
		r.problem(row, col, "the instruction row has no entity (expected \"entity: data/User; hierarchy: ...\")")
	} else if b.model = schema.Get(b.modelName); b.model == nil {
		r.problem(row, col, "%v", schema.ErrUnknownModel(b.modelName))
	} else {
		b.modelName = b.model.Name
	}
	r.cur = b
	r.blocks = append(r.blocks, row)
	r.titleRows = 0
	r.dataSeen = false
}

// startOpenBlock begins a CSV block whose model comes from --model.
func (r *blockReader) startOpenBlock(row int) bool {
	if r.opts.Model == "" {
		r.problem(row, "", "the first row is not an \"entity:\" row; give the model with --model (and --hierarchy)")
		return false
	}
	b := &block{instrRow: row - 1, modelName: r.opts.Model, hierarchy: r.opts.Hierarchy, byCol: map[int]*column{}}
	b.instructions = "entity: " + r.opts.Model
	if b.hierarchy != "" {
		b.instructions += "; hierarchy: " + b.hierarchy
	}
	if b.model = schema.Get(b.modelName); b.model == nil {
		r.report(Problem{Loc: Location{File: r.opts.DisplayName}, Msg: fmt.Sprintf("--model: %v", schema.ErrUnknownModel(r.opts.Model))})
		return false
	}
	b.modelName = b.model.Name
	r.cur = b
	return true
}

// row handles one sheet row; cells holds its non-empty cells in column order.
func (r *blockReader) row(row int, cells []cell) error {
	if len(cells) > 0 && isEntityRow(cells[0].text) {
		var parts []string
		for _, c := range cells {
			parts = append(parts, c.text)
		}
		r.startBlock(row, strings.Join(parts, ";"), cells)
		return nil
	}
	b := r.cur
	if b == nil {
		if len(cells) > 0 && !r.warnedLoose {
			r.warnedLoose = true
			r.problem(row, ColumnName(cells[0].col), "row is outside any block: a block starts with an \"entity: MODEL\" row")
		}
		return nil
	}
	if b.header == nil {
		if row != b.instrRow+1 && !r.csv {
			r.problem(b.instrRow, "", "the block has no column-name row (expected right under the \"entity:\" row)")
			r.cur = nil
			return nil
		}
		r.readHeader(row, cells)
		return nil
	}
	if !r.csv && row <= b.instrRow+3 {
		// Rows 3 and 4 hold group and column titles, never data; a row
		// that looks like data there means the titles were deleted.
		if c, ok := dataCell(b, cells); ok {
			r.problem(row, ColumnName(c.col), "data in block row %d: rows 3 and 4 of a block hold titles and are never read; put the title rows back above the data", row-b.instrRow+1)
		}
		return nil
	}
	if len(cells) == 0 {
		return nil
	}
	if r.csv && !r.dataSeen {
		// The record right after the column names: a group row makes it
		// and the next record titles (the VOSS layout).
		switch {
		case r.titleRows == 0 && isGroupRow(cells):
			r.titleRows = 2
		case r.titleRows == 2:
			r.titleRows = 1 // the title row under the group row
		case r.titleRows == 0 && isTitleRow(b, cells):
			r.titleRows = 1
		default:
			r.dataSeen = true
		}
		if !r.dataSeen {
			return nil
		}
	}
	if b.model == nil {
		return nil // the unknown model was reported once at its entity row
	}
	return r.fn(r.record(row, cells))
}

// dataCell returns the first cell of a title row (block row 3 or 4) that
// no title would hold: a boolean, number or date; an action word in the
// # Action column; an e-mail address.
func dataCell(b *block, cells []cell) (cell, bool) {
	for _, c := range cells {
		if c.typed || strings.Contains(c.text, "@") {
			return c, true
		}
		if col := b.byCol[c.col]; col != nil && col.base == "action" {
			switch strings.ToLower(strings.TrimSpace(c.text)) {
			case "add", "modify", "update", "delete":
				return c, true
			}
		}
	}
	return cell{}, false
}

// checkMerges reports merged ranges (such as "A5:A7") that span a data
// row of a block: the merged value is in the first cell only, so the other
// rows would silently get no value, or the block's.
func (r *blockReader) checkMerges(refs []string) {
	for _, ref := range refs {
		first, last, ok := strings.Cut(ref, ":")
		if !ok {
			continue
		}
		r1, r2 := rowFromRef(first), rowFromRef(last)
		c1 := colFromRef(first)
		if r1 < 1 || r2 < r1 || c1 < 1 {
			continue
		}
		// Only two blocks can hold the range's first data row: the one r1
		// is in, and the next one (any later block starts later still).
		next := sort.SearchInts(r.blocks, r1+1) // first block starting after r1
		for i := max(next-1, 0); i <= next && i < len(r.blocks); i++ {
			end := int(^uint(0) >> 1)
			if i+1 < len(r.blocks) {
				end = r.blocks[i+1] - 1
			}
			if max(r1, r.blocks[i]+4) <= min(r2, end) {
				r.problem(r1, ColumnName(c1), "merged cells %s span data rows: the rows after the first would silently get no value; unmerge them and fill each row", ref)
				break
			}
		}
	}
}

// rowFromRef returns the row number of a cell reference such as "AB12".
func rowFromRef(ref string) int {
	n, err := strconv.Atoi(strings.TrimLeft(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$"))
	if err != nil {
		return -1
	}
	return n
}

func isEntityRow(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 7 && strings.EqualFold(s[:7], "entity:")
}

// isGroupRow reports whether a CSV row is the VOSS group-title row: every
// non-empty cell is "Base" or "Attributes", in any case.
func isGroupRow(cells []cell) bool {
	for _, c := range cells {
		switch strings.ToLower(strings.TrimSpace(c.text)) {
		case "base", "attributes":
		default:
			return false
		}
	}
	return len(cells) > 0
}

// isTitleRow reports whether a CSV row right under the column names, with
// no group row above it, is a title row all the same: its cell under the
// # Action column repeats the title "# Action" (as earlier bulkprov CSVs
// were written). No action is spelled with a "#", so no data row is lost.
func isTitleRow(b *block, cells []cell) bool {
	for _, c := range cells {
		if col := b.byCol[c.col]; col != nil && col.base == "action" {
			return normaliseBase(c.text) == "action" && strings.HasPrefix(strings.TrimSpace(c.text), "#")
		}
	}
	return false
}

// baseColumns maps normalised base-column names to their canonical names.
var baseColumns = map[string]string{
	"action": "action", "hierarchynode": "hierarchy", "hierarchy": "hierarchy",
	"uniqueidentifier": "pkid", "pkid": "pkid", "searchfields": "search",
	"comment": "comment", "device": "device", "cfttemplate": "cft", "template": "cft",
}

func normaliseBase(name string) string {
	n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "#")))
	n = strings.NewReplacer(" ", "", "_", "", "-", "").Replace(n)
	return baseColumns[n]
}

func (r *blockReader) readHeader(row int, cells []cell) {
	b := r.cur
	b.header = []column{}
	seen := map[string]string{}
	for _, c := range cells {
		if c.col > r.opts.Limits.MaxColumns {
			break
		}
		letters := ColumnName(c.col)
		col := column{col: c.col, name: strings.TrimSpace(c.text)}
		var key string
		if strings.HasPrefix(col.name, "#") {
			col.base = normaliseBase(col.name)
			if col.base == "" {
				r.problem(row, letters, "unknown base column %q (expected # Action, # Hierarchy Node, # Unique Identifier, # Search Fields, # Comment, # Device or # CFT Template)", col.name)
				col.broken = true
			}
			key = "#" + col.base
		} else if b.model != nil {
			segs, err := splitPath(col.name)
			if err != nil {
				r.problem(row, letters, "column %q: %v", col.name, err)
				col.broken = true
			} else if f, canon := b.model.Lookup(strings.Join(segs, ".")); f == nil {
				msg := fmt.Sprintf("unknown column %q for %s", col.name, b.model.Name)
				if s := b.model.Suggest(strings.Join(segs, ".")); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				r.problem(row, letters, "%s", msg)
				col.broken = true
			} else if f.Type == schema.Object || f.Type == schema.Array {
				r.problem(row, letters, "column %q names an %s; name one of its fields instead", col.name, f.Type)
				col.broken = true
			} else if f.ReadOnly {
				r.problem(row, letters, "column %q is read-only: the server sets it", col.name)
				col.broken = true
			} else {
				col.field, col.canon, col.segs = f, canon, strings.Split(canon, ".")
			}
			key = strings.ToLower(col.canon)
		}
		if key != "" && key != "#" && !col.broken {
			if prev, dup := seen[key]; dup {
				r.problem(row, letters, "duplicate column %q (also in column %s)", col.name, prev)
				col.broken = true
			} else {
				seen[key] = letters
			}
		}
		b.header = append(b.header, col)
		b.headerNames = append(b.headerNames, col.name)
	}
	b.columns = map[string]string{}
	for i := range b.header {
		c := &b.header[i]
		b.byCol[c.col] = c
		if c.canon != "" && !c.broken {
			b.columns[c.canon] = ColumnName(c.col)
		}
	}
	if len(b.header) == 0 {
		r.problem(row, "", "the block has an empty column-name row")
	}
}

// splitPath turns "a.[0].b", "a[0].b" and "a.0.b" into ["a", "[0]", "b"].
func splitPath(name string) ([]string, error) {
	var segs []string
	for _, part := range strings.Split(name, ".") {
		part = strings.TrimSpace(part)
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				if isDigits(part) {
					segs = append(segs, "["+part+"]")
				} else {
					segs = append(segs, part)
				}
				break
			}
			if i > 0 {
				segs = append(segs, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				return nil, fmt.Errorf("unclosed array index")
			}
			idx := part[i+1 : j]
			if !isDigits(idx) {
				return nil, fmt.Errorf("bad array index [%s] (expected a number from 0)", idx)
			}
			n, _ := strconv.Atoi(idx)
			if n > 999 {
				return nil, fmt.Errorf("array index [%s] is too large (at most 999)", idx)
			}
			segs = append(segs, "["+strconv.Itoa(n)+"]")
			part = part[j+1:]
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("empty column name")
	}
	return segs, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (r *blockReader) record(row int, cells []cell) *Record {
	b := r.cur
	rec := &Record{
		Model:        b.modelName,
		Action:       Add,
		Hierarchy:    b.hierarchy,
		Fields:       map[string]any{},
		Columns:      b.columns,
		Loc:          r.loc(row),
		Header:       b.headerNames,
		Cells:        make([]string, len(b.header)),
		Instructions: b.instructions,
	}
	pos := map[int]int{}
	for i, c := range b.header {
		pos[c.col] = i
	}
	for _, c := range cells {
		col := b.byCol[c.col]
		letters := ColumnName(c.col)
		if col == nil {
			if strings.TrimSpace(c.text) != "" {
				r.problem(row, letters, "value in a column without a name")
			}
			continue
		}
		rec.Cells[pos[c.col]] = c.text
		if col.broken {
			continue
		}
		r.numberProblems(row, letters, c, col)
		r.setCell(rec, row, letters, c, col)
	}
	if rec.Search != nil && len(rec.Search) == 0 {
		rec.Search = nil
	}
	return rec
}

// numberProblems reports a cell whose number lost digits, or a string
// column's number in scientific notation, without showing a secret.
func (r *blockReader) numberProblems(row int, letters string, c cell, col *column) {
	if c.lost && (col.field == nil || col.field.Type != schema.Integer) {
		shown := c.text
		if col.field != nil && col.field.Secret {
			shown = "in this cell"
		}
		r.problem(row, letters, "the number %s has more digits than a spreadsheet number holds (15): its last digits are already lost; format the column as Text and type the value again", shown)
	}
	if c.sci && col.field != nil && col.field.Type == schema.String {
		shown := c.text
		if col.field.Secret {
			shown = "the value in this cell"
		}
		r.problem(row, letters, "%s is a number in scientific notation, as Excel writes a long number in a CSV: its digits are lost; format the column as Text in the workbook and save the CSV again", shown)
	}
}

// setCell puts one cell's value where its column says: the row's action,
// hierarchy, pkid, search, comment, or a field of the record.
func (r *blockReader) setCell(rec *Record, row int, letters string, c cell, col *column) {
	text := c.text
	switch col.base {
	case "action":
		switch a := strings.ToLower(strings.TrimSpace(text)); a {
		case "", "add":
			rec.Action = Add
		case "modify", "update":
			rec.Action = Modify
		case "delete":
			rec.Action = Delete
		default:
			r.problem(row, letters, "bad action %q (expected add, modify or delete)", text)
		}
	case "hierarchy":
		if h := strings.TrimSpace(text); h != "" {
			rec.Hierarchy = h
		}
	case "pkid":
		rec.Pkid = strings.TrimSpace(text)
	case "search":
		rec.Search = r.search(row, letters, text)
	case "comment":
		rec.Comment = text
	case "device", "cft":
	default:
		var v any = text
		if c.bool {
			v = c.text == "true"
		} else if text == " " {
			v = "" // a single space means "set to empty" (VOSS)
		} else if text == "" {
			return
		}
		if err := setPath(rec.Fields, col.segs, v); err != nil {
			r.problem(row, letters, "%v", err)
		}
	}
}

// search reads a search cell's field=value (or field:value) pairs,
// separated by ';', reporting each bad pair.
func (r *blockReader) search(row int, letters, text string) map[string]string {
	m := map[string]string{}
	for _, pair := range strings.Split(text, ";") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			k, v, ok = strings.Cut(pair, ":")
		}
		if !ok || strings.TrimSpace(k) == "" {
			r.problem(row, letters, "bad search field %q (expected field=value pairs separated by ;)", strings.TrimSpace(pair))
			continue
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m
}

// setPath stores v at the path segs of node, creating objects and arrays
// on the way. Paths come from the schema, so object and array never clash.
func setPath(node map[string]any, segs []string, v any) error {
	name := segs[0]
	if len(segs) == 1 {
		node[name] = v
		return nil
	}
	if schema.IsIndex(segs[1]) {
		arr, _ := node[name].([]any)
		n, err := strconv.Atoi(segs[1][1 : len(segs[1])-1])
		if err != nil {
			return fmt.Errorf("bad array index %s", segs[1])
		}
		for len(arr) <= n {
			arr = append(arr, nil)
		}
		node[name] = arr
		if len(segs) == 2 {
			arr[n] = v
			return nil
		}
		m, ok := arr[n].(map[string]any)
		if !ok {
			m = map[string]any{}
			arr[n] = m
		}
		return setPath(m, segs[2:], v)
	}
	m, ok := node[name].(map[string]any)
	if !ok {
		m = map[string]any{}
		node[name] = m
	}
	return setPath(m, segs[1:], v)
}
