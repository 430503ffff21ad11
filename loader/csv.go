package loader

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

var bomUTF8 = []byte("\xef\xbb\xbf")

// readCSV reads a CSV in the workbook's block layout (first row "entity:")
// or, otherwise, with column names in the first row and the model given by
// --model. The separator, "," or ";", is detected from the column-name row.
// Locations are physical lines, as a text editor or Excel shows them: a
// record's line is the line it starts on.
func readCSV(ra io.ReaderAt, size int64, opts Options, fn func(*Record) error, report func(Problem)) error {
	if size > opts.Limits.MaxBytes {
		return fmt.Errorf("%s: %w", opts.DisplayName, &LimitError{What: "bytes", Limit: opts.Limits.MaxBytes, Flag: "max-bytes"})
	}
	head := make([]byte, 64<<10)
	n, _ := ra.ReadAt(head, 0)
	head = head[:n]
	if bytes.HasPrefix(head, magicZip) {
		return fmt.Errorf("%s: this is a zip archive (an .xlsx workbook?), not a CSV; name it .xlsx", opts.DisplayName)
	}
	if enc := otherEncoding(head); enc != "" {
		return fmt.Errorf("%s: the file is %s; save it as CSV UTF-8", opts.DisplayName, enc)
	}
	if i := bytes.IndexByte(head, '\r'); i >= 0 && i+1 < len(head) && bytes.IndexByte(head, '\n') < 0 {
		// encoding/csv ends lines at LF only: the whole file would be one
		// line, its users silently lost.
		return fmt.Errorf("%s: the lines of the file end with CR alone (the old Macintosh format, Excel's \"CSV (Macintosh)\"): save it as CSV UTF-8", opts.DisplayName)
	}
	if int64(len(head)) == size && len(bytes.TrimSpace(bytes.TrimPrefix(head, bomUTF8))) == 0 {
		return fmt.Errorf("%s: the file is empty", opts.DisplayName)
	}
	skip := int64(0)
	if bytes.HasPrefix(head, bomUTF8) {
		skip = 3
		head = head[3:]
	}
	body := io.NewSectionReader(ra, skip, size-skip)
	r := csv.NewReader(bufio.NewReaderSize(body, 64<<10))
	r.Comma = detectSeparator(head)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	b := &blockReader{opts: opts, sheet: "csv", csv: true, fn: fn, report: report}
	for n := 1; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			b.finish()
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				col := csvColumn(body, r.Comma, pe.StartLine, pe.Line, pe.Column)
				return fmt.Errorf("%s:csv:%d:%s: %v", opts.DisplayName, pe.Line, ColumnName(col), pe.Err)
			}
			return fmt.Errorf("%s: %w", opts.DisplayName, err)
		}
		row, _ := r.FieldPos(0)
		if n > opts.Limits.MaxRows {
			return fmt.Errorf("%s: %w", opts.DisplayName, &LimitError{What: "rows", Limit: int64(opts.Limits.MaxRows), Flag: "max-rows"})
		}
		if len(rec) > opts.Limits.MaxColumns {
			return fmt.Errorf("%s:csv:%d: %w", opts.DisplayName, row, &LimitError{What: "columns", Limit: int64(opts.Limits.MaxColumns), Flag: "max-columns"})
		}
		var cells []cell
		for i, v := range rec {
			if v == "" {
				continue
			}
			if !utf8.ValidString(v) {
				line, _ := r.FieldPos(i)
				return fmt.Errorf("%s:csv:%d:%s: the file is not UTF-8 (Latin-1 or Windows-1252?); save it as CSV UTF-8", opts.DisplayName, line, ColumnName(i+1))
			}
			if utf8.RuneCountInString(v) > opts.Limits.MaxCellChars {
				b.problem(row, ColumnName(i+1), "cell has more than %d characters (--max-cell-chars)", opts.Limits.MaxCellChars)
				continue
			}
			cells = append(cells, cell{col: i + 1, text: v, sci: isExcelSci(v)})
		}
		if n == 1 && (len(cells) == 0 || !isEntityRow(cells[0].text)) {
			if !b.startOpenBlock(row + 1) {
				return nil
			}
			b.readHeader(row, cells)
			continue
		}
		if err := b.row(row, cells); err != nil {
			return err
		}
	}
}

// otherEncoding names the encoding of a text that is not UTF-8 by its
// byte-order mark or its NUL bytes, or returns "".
func otherEncoding(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0, 0}):
		return "UTF-32 (little-endian)"
	case bytes.HasPrefix(head, []byte{0, 0, 0xFE, 0xFF}):
		return "UTF-32 (big-endian)"
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "UTF-16 (little-endian)"
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "UTF-16 (big-endian)"
	case len(head) >= 2 && head[0] != 0 && head[1] == 0:
		return "UTF-16 (little-endian, no byte-order mark)"
	case len(head) >= 2 && head[0] == 0 && head[1] != 0:
		return "UTF-16 (big-endian, no byte-order mark)"
	}
	return ""
}

// detectSeparator picks ";" when the column-name row — the first line, or
// the second when the first is an "entity:" line — has more semicolons
// than commas outside quotes, else ",". The entity line is no guide: its
// own "; hierarchy:" holds semicolons whatever the separator.
func detectSeparator(head []byte) rune {
	line, rest := firstLine(head)
	if isEntityRow(string(bytes.TrimLeft(line, "\" \t"))) {
		line, _ = firstLine(rest)
	}
	commas, semis, inQuote := 0, 0, false
	for _, c := range line {
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == ',':
			commas++
		case c == ';':
			semis++
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// firstLine splits b after its first line, a newline inside quotes not
// ending it.
func firstLine(b []byte) (line, rest []byte) {
	inQuote := false
	for i, c := range b {
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == '\n' && !inQuote:
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// csvColumn returns the 1-based field number at byte column col (1-based)
// of physical line line, in the record that starts at line start: the
// separators outside quotes before it, plus one. encoding/csv gives a byte
// offset; a person needs the column letter.
func csvColumn(body *io.SectionReader, sep rune, start, line, col int) int {
	sc := bufio.NewScanner(io.NewSectionReader(body, 0, body.Size()))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	field, inQuote := 1, false
	for n := 1; sc.Scan() && n <= line; n++ {
		if n < start {
			continue
		}
		text := sc.Bytes()
		if n == line && col-1 < len(text) {
			text = text[:max(col-1, 0)]
		}
		for _, c := range string(text) {
			switch {
			case c == '"':
				inQuote = !inQuote
			case c == sep && !inQuote:
				field++
			}
		}
	}
	return field
}

// isExcelSci reports whether s is a whole number as Excel writes one in
// scientific notation when its column is too narrow or it has 12 digits
// or more: a digit, up to 14 decimals, E+ and a power of 5 or more
// ("4.42071E+11"). Fewer digits than the power: the rest are lost.
func isExcelSci(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "-")
	mant, exp, ok := strings.Cut(strings.ToUpper(s), "E+")
	if !ok || len(mant) == 0 || mant[0] < '0' || mant[0] > '9' || !isDigits(exp) {
		return false
	}
	frac := ""
	if len(mant) > 1 {
		if mant[1] != '.' || !isDigits(mant[2:]) {
			return false
		}
		frac = mant[2:]
	}
	n, err := strconv.Atoi(exp)
	return err == nil && n >= 5 && len(frac) < n
}
