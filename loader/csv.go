package loader

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// readCSV reads a CSV in the workbook's block layout (first row "entity:")
// or, otherwise, with column names in the first row and the model given by
// --model. The separator, "," or ";", is detected from the first line.
func readCSV(f io.Reader, size int64, opts Options, fn func(*Record) error, report func(Problem)) error {
	if size > opts.Limits.MaxBytes {
		return fmt.Errorf("%s: %w", opts.DisplayName, &LimitError{What: "bytes", Limit: opts.Limits.MaxBytes, Flag: "max-bytes"})
	}
	br := bufio.NewReaderSize(io.LimitReader(f, opts.Limits.MaxBytes+1), 64<<10)
	head, _ := br.Peek(4096)
	if bytes.HasPrefix(head, magicZip) {
		return fmt.Errorf("%s: this is a zip archive (an .xlsx workbook?), not a CSV; name it .xlsx", opts.DisplayName)
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.Comma = detectSeparator(head)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	b := &blockReader{opts: opts, sheet: "csv", csv: true, fn: fn, report: report}
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("%s:csv:%d:%s: %v", opts.DisplayName, pe.Line, ColumnName(pe.Column), pe.Err)
			}
			return fmt.Errorf("%s: %w", opts.DisplayName, err)
		}
		if row > opts.Limits.MaxRows {
			return fmt.Errorf("%s: %w", opts.DisplayName, &LimitError{What: "rows", Limit: int64(opts.Limits.MaxRows), Flag: "max-rows"})
		}
		if len(rec) > opts.Limits.MaxColumns {
			return fmt.Errorf("%s: row %d: %w", opts.DisplayName, row, &LimitError{What: "columns", Limit: int64(opts.Limits.MaxColumns), Flag: "max-columns"})
		}
		var cells []cell
		for i, v := range rec {
			if v == "" {
				continue
			}
			if !utf8.ValidString(v) {
				b.problem(row, ColumnName(i+1), "cell is not valid UTF-8 (save the CSV as UTF-8)")
				continue
			}
			if utf8.RuneCountInString(v) > opts.Limits.MaxCellChars {
				b.problem(row, ColumnName(i+1), "cell has more than %d characters (--max-cell-chars)", opts.Limits.MaxCellChars)
				continue
			}
			cells = append(cells, cell{col: i + 1, text: v})
		}
		if row == 1 && (len(cells) == 0 || !isEntityRow(cells[0].text)) {
			if !b.startOpenBlock(2) {
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

// detectSeparator picks ";" when the first line has more semicolons than
// commas outside quotes, else ",".
func detectSeparator(head []byte) rune {
	commas, semis, inQuote := 0, 0, false
	for _, c := range head {
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '\n':
			goto done
		case c == ',':
			commas++
		case c == ';':
			semis++
		}
	}
done:
	// The entity row "entity: x; hierarchy: y" has semicolons inside one
	// cell; that line is then quoted when the separator is ",".
	if semis > commas {
		return ';'
	}
	return ','
}
