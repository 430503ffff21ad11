package loader

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The workbook reader decodes the sheet XML itself, token by token (see
// the package doc for why), through xmlPart, which bounds what a hostile
// part can cost. Only one row is held in memory at a time; the
// shared-string table is held whole, bounded by --max-shared-strings and
// the uncompressed-bytes limit.

type workbook struct {
	z        *safeZip
	opts     Options
	sheets   []sheetRef
	sst      string   // the shared strings, end to end
	sstEnd   []uint32 // end offset in sst of each shared string
	dateXf   []bool   // by style index: the cell's number format is a date
	padXf    []int    // by style index: the width a zero-padded format (0000000) shows, or 0
	date1904 bool
}

type sheetRef struct {
	name string
	part string
}

func readXLSX(ra io.ReaderAt, size int64, opts Options, fn func(*Record) error, report func(Problem)) error {
	z, err := openZip(ra, size, opts.DisplayName, opts.Limits, "xlsx workbook")
	if err != nil {
		return err
	}
	wb := &workbook{z: z, opts: opts}
	if err := wb.readStructure(); err != nil {
		return err
	}
	for _, s := range wb.sheets {
		if strings.HasPrefix(s.name, "#") {
			continue // VOSS skips sheets whose name starts with #
		}
		if err := wb.readSheet(s, fn, report); err != nil {
			return err
		}
	}
	return nil
}

func (wb *workbook) fail(format string, args ...any) error {
	return fmt.Errorf("%s: not a valid xlsx workbook: %s", wb.opts.DisplayName, fmt.Sprintf(format, args...))
}

func (wb *workbook) decoder(name string) (*xmlPart, io.Closer, error) {
	f := wb.z.find(name)
	if f == nil {
		return nil, nil, nil
	}
	rc, err := wb.z.open(f)
	if err != nil {
		return nil, nil, err
	}
	p := newXMLPart(rc, wb.opts.Limits)
	// Element budgets of the parts read whole: far above what real
	// workbooks hold, far below what a zip-compressed flood can.
	switch {
	case strings.EqualFold(name, "xl/sharedStrings.xml"):
		lim := wb.opts.Limits.MaxSharedStrings
		p.maxElems = 4*lim + maxPartElements
		p.tooMany = &LimitError{What: fmt.Sprintf("XML elements in the shared-string table (4 per shared string allowed, and %d)", maxPartElements), Limit: int64(p.maxElems), Flag: "max-shared-strings"}
	case strings.EqualFold(name, "xl/styles.xml"):
		p.maxElems = 4 * maxPartElements
	case !strings.Contains(name, "worksheets/"):
		p.maxElems = maxPartElements
	}
	if p.tooMany == nil {
		p.tooMany = fmt.Errorf("more than %d XML elements", p.maxElems)
	}
	return p, rc, nil
}

// maxPartElements bounds the XML elements of the workbook and
// relationship parts (styles: four times as many); sheets are bounded by
// their structure and their row and column limits instead.
const maxPartElements = 1 << 20

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// tokens walks the XML part name, calling fn for each start element and
// with the character data of text elements.
func (wb *workbook) walk(name string, fn func(se xml.StartElement) error) error {
	d, c, err := wb.decoder(name)
	if err != nil || d == nil {
		return err
	}
	defer c.Close()
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return wb.partError(name, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if err := fn(se); err != nil {
				return err
			}
		}
	}
}

func (wb *workbook) partError(name string, err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %s: %w", wb.opts.DisplayName, name, err)
	}
	return wb.fail("%s: %v", name, err)
}

func (wb *workbook) readStructure() error {
	if wb.z.find("xl/workbook.xml") == nil {
		if wb.z.find("content.xml") != nil {
			return wb.fail("this is an OpenDocument (.ods) file; save it as .xlsx")
		}
		return wb.fail("no xl/workbook.xml")
	}
	rels := map[string]string{}
	err := wb.walk("xl/_rels/workbook.xml.rels", func(se xml.StartElement) error {
		if se.Name.Local == "Relationship" {
			if len(rels) >= wb.opts.Limits.MaxEntries {
				return wb.fail("more relationships than the archive has entries")
			}
			t := attr(se, "Target")
			if strings.HasPrefix(t, "/") {
				t = strings.TrimPrefix(t, "/")
			} else {
				t = path.Join("xl", t)
			}
			rels[attr(se, "Id")] = t
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = wb.walk("xl/workbook.xml", func(se xml.StartElement) error {
		switch se.Name.Local {
		case "workbookPr":
			v := attr(se, "date1904")
			wb.date1904 = v == "1" || v == "true"
		case "sheet":
			id := ""
			for _, a := range se.Attr {
				if a.Name.Local == "id" {
					id = a.Value
				}
			}
			part, ok := rels[id]
			if !ok {
				return wb.fail("sheet %q has no part", attr(se, "name"))
			}
			if len(wb.sheets) >= wb.opts.Limits.MaxEntries {
				return wb.fail("more sheets than the archive has entries")
			}
			wb.sheets = append(wb.sheets, sheetRef{name: attr(se, "name"), part: part})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := wb.readStyles(); err != nil {
		return err
	}
	return wb.readSharedStrings()
}

func (wb *workbook) readStyles() error {
	custom := map[int]string{}
	inXfs := false
	var xfFmts []int
	d, c, err := wb.decoder("xl/styles.xml")
	if err != nil || d == nil {
		return err
	}
	defer c.Close()
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return wb.partError("xl/styles.xml", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "numFmt":
				if len(custom) >= maxStyles {
					return wb.fail("xl/styles.xml: more than %d number formats", maxStyles)
				}
				id, _ := strconv.Atoi(attr(t, "numFmtId"))
				custom[id] = attr(t, "formatCode")
			case "cellXfs":
				inXfs = true
			case "xf":
				if inXfs {
					if len(xfFmts) >= maxStyles {
						return wb.fail("xl/styles.xml: more than %d cell formats", maxStyles)
					}
					id, _ := strconv.Atoi(attr(t, "numFmtId"))
					xfFmts = append(xfFmts, id)
				}
			}
		case xml.EndElement:
			if t.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
	}
	wb.dateXf = make([]bool, len(xfFmts))
	wb.padXf = make([]int, len(xfFmts))
	for i, id := range xfFmts {
		if code, ok := custom[id]; ok {
			wb.dateXf[i] = isDateFormat(code)
			wb.padXf[i] = zeroPadWidth(code)
		} else {
			wb.dateXf[i] = (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58)
		}
	}
	return nil
}

// zeroPadWidth returns the width of a number format that shows whole
// numbers padded with zeros ("0000000", as extension columns are often
// formatted), or 0: such a cell is read as shown, as the program's own
// CSV export writes it.
func zeroPadWidth(code string) int {
	code = strings.Trim(code, "\"")
	if len(code) < 2 || len(code) > 64 || strings.Trim(code, "0") != "" {
		return 0
	}
	return len(code)
}

// isDateFormat reports whether an Excel number format code shows a date or
// time: it has d, m, y, h or s outside quoted text and [colour] brackets.
func isDateFormat(code string) bool {
	inQuote, inBracket := false, false
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '\\' || c == '_' || c == '*':
			i++
		case c == '[':
			inBracket = true
		case c == ']':
			inBracket = false
		case inBracket:
		default:
			switch c | 0x20 {
			case 'd', 'm', 'y', 'h', 's':
				return true
			}
		}
	}
	return false
}

// maxOtherElements bounds the elements of a sheet outside its cell data
// (views, formats, merges, page setup): a real sheet has a few hundred,
// plus one per merged range.
const maxOtherElements = 1 << 20

// maxStyles bounds the number formats and cell formats read from
// styles.xml (Excel allows 64,000 cell formats).
const maxStyles = 1 << 20

// readSharedStrings reads the shared-string table into one string and the
// end offset of each entry: an empty entry costs 4 bytes, not a string
// header, and a cell's text is a substring, not a copy.
func (wb *workbook) readSharedStrings() error {
	d, c, err := wb.decoder("xl/sharedStrings.xml")
	if err != nil || d == nil {
		return err
	}
	defer c.Close()
	var sb strings.Builder
	depthPh := 0
	inT := false
	max := wb.opts.Limits.MaxSharedStrings
	for {
		tok, err := d.Token()
		if err == io.EOF {
			wb.sst = sb.String()
			return nil
		}
		if err != nil {
			return wb.partError("xl/sharedStrings.xml", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				if len(wb.sstEnd) >= max {
					return wb.partError("xl/sharedStrings.xml", &LimitError{What: "shared strings", Limit: int64(max), Flag: "max-shared-strings"})
				}
			case "rPh":
				depthPh++
			case "t":
				inT = depthPh == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if sb.Len() > math.MaxUint32 {
					return wb.partError("xl/sharedStrings.xml", &LimitError{What: "bytes of shared strings", Limit: math.MaxUint32, Flag: "max-bytes"})
				}
				wb.sstEnd = append(wb.sstEnd, uint32(sb.Len()))
			case "rPh":
				depthPh--
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				sb.Write(t)
			}
		}
	}
}

// sharedString returns entry i of the shared-string table.
func (wb *workbook) sharedString(i int) (string, bool) {
	if i < 0 || i >= len(wb.sstEnd) {
		return "", false
	}
	start := uint32(0)
	if i > 0 {
		start = wb.sstEnd[i-1]
	}
	return wb.sst[start:wb.sstEnd[i]], true
}

// rawCell is a cell as found in the sheet XML.
type rawCell struct {
	ref, typ, style string
	v, is, f        strings.Builder
	formula         bool
}

func (wb *workbook) readSheet(s sheetRef, fn func(*Record) error, report func(Problem)) error {
	d, c, err := wb.decoder(s.part)
	if err != nil {
		return err
	}
	if d == nil {
		return wb.fail("sheet %q: missing part %s", s.name, s.part)
	}
	defer c.Close()
	br := &blockReader{opts: wb.opts, sheet: s.name, fn: fn, report: report}
	lim := wb.opts.Limits
	var (
		rowNum, colNum int
		cells          []cell
		rc             *rawCell
		text           *strings.Builder
		inRow          bool
		merges         []string
		inData         bool // inside sheetData
		dataDepth      int  // nesting depth of sheetData, once met
		others         int  // elements outside sheetData
		inPh           int  // depth of phonetic guides (rPh) in an inline string
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			br.checkMerges(merges)
			br.finish()
			return nil
		}
		if err != nil {
			return wb.partError(s.part, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			// Inside sheetData only rows, inside a row only cells: an
			// element flood there is refused at its first element, not
			// decoded to the byte limit. Elsewhere, elements are counted.
			if inData {
				switch d.depth - dataDepth {
				case 1:
					if t.Name.Local != "row" {
						return wb.fail("sheet %q: unexpected element <%s> in sheetData (after row %d)", s.name, t.Name.Local, rowNum)
					}
				case 2:
					if t.Name.Local != "c" && t.Name.Local != "extLst" {
						return wb.fail("sheet %q: unexpected element <%s> in row %d", s.name, t.Name.Local, rowNum)
					}
				case 3:
					switch t.Name.Local {
					case "v", "f", "is", "extLst":
					default:
						return wb.fail("sheet %q: unexpected element <%s> in cell %s%d", s.name, t.Name.Local, ColumnName(colNum), rowNum)
					}
				}
			} else if others++; others > maxOtherElements {
				return wb.fail("sheet %q: more than %d elements outside the cell data", s.name, maxOtherElements)
			}
			switch t.Name.Local {
			case "sheetData":
				if !inData && dataDepth == 0 {
					inData, dataDepth = true, d.depth
				}
			case "dimension":
				if err := wb.checkDimension(s, attr(t, "ref")); err != nil {
					return err
				}
			case "row":
				if r := attr(t, "r"); r != "" {
					n, err := strconv.Atoi(r)
					if err != nil || n < 1 {
						return wb.fail("sheet %q: bad row number %q", s.name, r)
					}
					if n <= rowNum {
						return wb.fail("sheet %q: row %d after row %d (rows must be in order)", s.name, n, rowNum)
					}
					rowNum = n
				} else {
					rowNum++
				}
				if rowNum > lim.MaxRows {
					return fmt.Errorf("%s: sheet %q: %w", wb.opts.DisplayName, s.name, &LimitError{What: "rows per sheet", Limit: int64(lim.MaxRows), Flag: "max-rows"})
				}
				inRow, colNum, cells = true, 0, cells[:0]
			case "c":
				rc = &rawCell{ref: attr(t, "r"), typ: attr(t, "t"), style: attr(t, "s")}
				if rc.ref != "" {
					n := colFromRef(rc.ref)
					if n <= colNum && n > 0 {
						return wb.fail("sheet %q: cell %s after column %s (cells must be in order)", s.name, rc.ref, ColumnName(colNum))
					}
					colNum = n
				} else {
					colNum++
				}
				if colNum > lim.MaxColumns || colNum < 1 {
					return fmt.Errorf("%s: sheet %q row %d: %w", wb.opts.DisplayName, s.name, rowNum, &LimitError{What: "columns", Limit: int64(lim.MaxColumns), Flag: "max-columns"})
				}
			case "v":
				if rc != nil {
					text = &rc.v
				}
			case "t":
				if rc != nil && inPh == 0 {
					text = &rc.is
				}
			case "f":
				if rc != nil {
					rc.formula = true
					text = &rc.f
				}
			case "mergeCell":
				if len(merges) >= lim.MaxRows {
					return wb.fail("sheet %q: more merged ranges than rows", s.name)
				}
				merges = append(merges, attr(t, "ref"))
			case "rPh":
				inPh++
				text = nil
			}
		case xml.CharData:
			if text != nil {
				text.Write(t)
				if text.Len() > 4*lim.MaxCellChars+4 {
					return fmt.Errorf("%s: sheet %q %s%d: %w", wb.opts.DisplayName, s.name, ColumnName(colNum), rowNum, &LimitError{What: "characters per cell", Limit: int64(lim.MaxCellChars), Flag: "max-cell-chars"})
				}
			}
		case xml.EndElement:
			if inData && d.depth < dataDepth {
				inData = false // sheetData is over
			}
			switch t.Name.Local {
			case "v", "t", "f":
				text = nil
			case "rPh":
				inPh = max(inPh-1, 0)
			case "c":
				if rc != nil && inRow {
					if cl, ok := wb.cellValue(br, rowNum, colNum, rc); ok {
						cells = append(cells, cl)
					}
				}
				rc = nil
			case "row":
				inRow = false
				if err := br.row(rowNum, cells); err != nil {
					return err
				}
			}
		}
	}
}

func (wb *workbook) checkDimension(s sheetRef, ref string) error {
	_, last, ok := strings.Cut(ref, ":")
	if !ok {
		return nil
	}
	col := colFromRef(last)
	row, _ := strconv.Atoi(strings.TrimLeft(last, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$"))
	lim := wb.opts.Limits
	if row > lim.MaxRows {
		return fmt.Errorf("%s: sheet %q: declared size %s %w", wb.opts.DisplayName, s.name, ref, &LimitError{What: "rows per sheet", Limit: int64(lim.MaxRows), Flag: "max-rows"})
	}
	if col > lim.MaxColumns {
		return fmt.Errorf("%s: sheet %q: declared size %s %w", wb.opts.DisplayName, s.name, ref, &LimitError{What: "columns", Limit: int64(lim.MaxColumns), Flag: "max-columns"})
	}
	return nil
}

// colFromRef returns the 1-based column of a cell reference such as "AB12".
func colFromRef(ref string) int {
	n := 0
	for i := 0; i < len(ref); i++ {
		c := ref[i] | 0x20
		if c == '$' {
			continue
		}
		if c < 'a' || c > 'z' {
			break
		}
		n = n*26 + int(c-'a'+1)
		if n > 1<<20 {
			return -1
		}
	}
	return n
}

// cellValue converts a raw cell into its text, reporting cells that cannot
// be read exactly. It returns false for an empty cell.
func (wb *workbook) cellValue(br *blockReader, row, col int, rc *rawCell) (cell, bool) {
	letters := ColumnName(col)
	v := rc.v.String()
	if rc.formula {
		if c, done, ok := wb.formulaCell(br, row, col, rc); done {
			return c, ok
		}
	}
	out := cell{col: col}
	switch rc.typ {
	case "s":
		i, err := strconv.Atoi(v)
		text, ok := wb.sharedString(i)
		if err != nil || !ok {
			br.problem(row, letters, "shared string %q does not exist", v)
			return cell{}, false
		}
		out.text = text
	case "inlineStr":
		out.text = rc.is.String()
	case "str", "d":
		out.text = v
	case "b":
		out.bool, out.typed = true, true
		out.text = strconv.FormatBool(v == "1" || strings.EqualFold(v, "true"))
	case "e":
		br.problem(row, letters, "cell holds the error value %s", v)
		return cell{}, false
	default:
		if v == "" {
			return cell{}, false
		}
		var ok bool
		if out, ok = wb.numberCell(br, row, col, v, rc.style); !ok {
			return cell{}, false
		}
	}
	if out.text == "" {
		return cell{}, false
	}
	if n := utf8.RuneCountInString(out.text); n > wb.opts.Limits.MaxCellChars {
		br.problem(row, letters, "cell has %d characters, over the limit of %d (--max-cell-chars)", n, wb.opts.Limits.MaxCellChars)
		return cell{}, false
	}
	return out, true
}

// formulaCell decides a formula cell: a constant boolean formula is its
// value; a formula with no saved value, or any formula unless --formulas
// cached, is refused. done is false when the saved value is to be read as
// any other cell's.
func (wb *workbook) formulaCell(br *blockReader, row, col int, rc *rawCell) (c cell, done, ok bool) {
	letters := ColumnName(col)
	switch f := strings.ToUpper(strings.TrimSpace(rc.f.String())); {
	case f == "TRUE()" || f == "FALSE()":
		// Constant formulas: LibreOffice writes every boolean this way.
		return cell{col: col, text: strconv.FormatBool(f == "TRUE()"), bool: true, typed: true}, true, true
	case rc.v.String() == "" && rc.typ != "inlineStr":
		br.problem(row, letters, "formula cell with no saved value (the program that wrote the file did not calculate it): type the value itself")
		return cell{}, true, false
	case wb.opts.Formulas != "cached":
		br.problem(row, letters, "formula cell: VOSS does not evaluate formulas; type the value itself, or pass --formulas cached to use the value saved with the file")
		return cell{}, true, false
	}
	return cell{}, false, false
}

// numberCell converts a number cell's value v: a date where its style is
// a date format, the digits as written for a whole number (marked lost
// beyond 15 digits), else the shortest form of its 15 significant digits;
// zero-padded where its style pads.
func (wb *workbook) numberCell(br *blockReader, row, col int, v, style string) (cell, bool) {
	out := cell{col: col}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		br.problem(row, ColumnName(col), "bad number %q", v)
		return cell{}, false
	}
	out.typed = true
	si, _ := strconv.Atoi(style)
	switch {
	case si >= 0 && si < len(wb.dateXf) && wb.dateXf[si]:
		out.text = excelDate(f, wb.date1904)
	case math.Abs(f) >= 1e15:
		// A spreadsheet number holds 15 significant digits: whatever
		// was typed, the digits after the fifteenth are gone. Refused
		// in text fields (record), kept for whole-number fields.
		out.text, out.lost = v, true
	case isDigits(strings.TrimPrefix(v, "-")):
		out.text = v
	default:
		g, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
		out.text = strconv.FormatFloat(g, 'f', -1, 64)
	}
	// Zero padding applies to a whole number however it is written
	// ("1000", or "1000.0" as Apache POI writes it).
	if si >= 0 && si < len(wb.padXf) && wb.padXf[si] > len(out.text) && isDigits(out.text) && !out.lost {
		out.text = strings.Repeat("0", wb.padXf[si]-len(out.text)) + out.text
	}
	return out, true
}

// excelDate turns an Excel date serial into ISO 8601: a date alone when it
// has no time part, else date and time to the second.
func excelDate(serial float64, date1904 bool) string {
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if date1904 {
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	days := math.Floor(serial)
	secs := math.Round((serial - days) * 86400)
	t := epoch.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
	if secs == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02T15:04:05")
}
