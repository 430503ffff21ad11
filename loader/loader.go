// Package loader reads the inputs bulkprov provisions from — VOSS bulk-load
// workbooks (.xlsx), CSV files in the same layout, and VOSS JSON exports
// (.json, .json.zip, .zip) — into typed records that remember where in the
// source they came from. Readers stream: memory does not grow with the
// number of rows. Every problem found is reported with its location; a
// reader stops early only when going on would be unsafe (a breached limit,
// a file that is not what its name says).
//
// The workbook reader decodes the sheet XML itself rather than through
// excelize, because it earns its place three ways. Exactness: excelize's
// row iterator gives each cell as formatted text, hiding what this reader
// must see — a TRUE/FALSE boolean from the text "TRUE", a date serial from
// a number, a number that has already lost digits from a text of digits,
// and whether the cell holds a formula, with or without a saved value
// (LibreOffice writes every boolean as the formula TRUE() or FALSE()).
// Bounds: every XML part is read strictly, with element nesting, text runs,
// shared-string entries, rows and columns counted as they stream, so a
// small hostile workbook is refused in bounded memory and time; excelize
// decodes leniently and counts none of these. Speed: it reads as fast as a
// bare excelize row loop (BENCHMARKS.md). Tests still write workbooks with
// excelize, and the corpus in testdata/realworld holds workbooks written
// by LibreOffice, excelize and openpyxl.
//
// JSON exports have one reader, ReadFrom on a .json or .zip name, for the
// export files given as input and for the bulk export responses of a live
// VOSS (targets/voss), under the same limits.
package loader

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Action is what a row asks for.
type Action string

// Actions of a bulk-load row. Upsert is the JSON import rule: add when the
// business key is absent, modify when present.
const (
	Add    Action = "add"
	Modify Action = "modify"
	Delete Action = "delete"
	Upsert Action = "upsert"
)

// Location is where a record (or a problem) sits in its source.
type Location struct {
	File  string `json:"file"`
	Sheet string `json:"sheet,omitempty"` // workbook sheet or "csv"
	Row   int    `json:"row,omitempty"`   // 1-based row number
	Entry string `json:"entry,omitempty"` // zip entry name for JSON exports
	Index int    `json:"index,omitempty"` // 0-based item index within a JSON entry
}

// String formats the location as FILE:SHEET:ROW or FILE:ENTRY:INDEX.
func (l Location) String() string {
	switch {
	case l.Entry != "":
		return fmt.Sprintf("%s:%s:%d", l.File, l.Entry, l.Index)
	case l.Sheet != "":
		return fmt.Sprintf("%s:%s:%d", l.File, l.Sheet, l.Row)
	}
	return l.File
}

// Record is one row (or one JSON item): one model instance to act on.
type Record struct {
	Model     string            // model type, e.g. "data/User"
	Action    Action            // add, modify, delete or upsert
	Hierarchy string            // hierarchy path; empty for CUPI models
	Pkid      string            // "# Unique Identifier", wins over Search
	Search    map[string]string // "# Search Fields" pairs
	Comment   string            // "# Comment", kept for reports
	// Fields is the typed field tree: string, bool, int64, map[string]any
	// for objects and []any for arrays. An absent key means "leave alone";
	// an empty string means "set to empty".
	Fields map[string]any
	// Columns maps each canonical field path to the column letters it was
	// read from (workbooks and CSV only).
	Columns map[string]string
	Loc     Location
	// Header is the block's column names in sheet order, so a failed row can
	// be written back in the input's own layout; Cells are this row's cells
	// in the same order, as read.
	Header []string
	Cells  []string
	// Instructions is the block's row-1 text ("entity: ...; hierarchy: ...").
	Instructions string
}

// Problem is one thing wrong with an input, at a location.
type Problem struct {
	Loc    Location
	Column string // column letters, or a field path for JSON items
	Msg    string
}

// String formats the problem as FILE:SHEET:ROW:COLUMN: message (or
// FILE:ENTRY:INDEX: message for JSON items, naming the field in the message).
func (p Problem) String() string {
	loc := p.Loc.String()
	if p.Column != "" && p.Loc.Entry == "" {
		loc += ":" + p.Column
	}
	if p.Column != "" && p.Loc.Entry != "" {
		return fmt.Sprintf("%s: %s: %s", loc, p.Column, p.Msg)
	}
	return loc + ": " + p.Msg
}

// Options tune how inputs are read.
type Options struct {
	Limits Limits
	// Formulas is "error" (the default: a formula cell is a problem, as VOSS
	// does not evaluate formulas) or "cached" (use the value saved with the file).
	Formulas string
	// Model and Hierarchy give the model type and hierarchy of a CSV whose
	// first row holds column names rather than an "entity:" row, and the
	// default hierarchy of JSON items without one.
	Model     string
	Hierarchy string
	// DisplayName is the file name used in locations; defaults to the path.
	DisplayName string
}

// Limits bound what a hostile input can make bulkprov do.
type Limits struct {
	MaxBytes     int64 // uncompressed bytes per workbook or zip (declared and actual)
	MaxEntries   int   // zip entries
	MaxRows      int   // rows per sheet
	MaxColumns   int   // columns per row
	MaxCellChars int   // characters per cell
	MaxJSONDepth int   // nesting depth of JSON documents
	// MaxXMLDepth bounds the element nesting of a workbook's XML parts.
	MaxXMLDepth int
	// MaxSharedStrings bounds the entries of a workbook's shared-string table.
	MaxSharedStrings int
}

// DefaultLimits are the limits of inputs.md.
var DefaultLimits = Limits{
	MaxBytes:     256 << 20,
	MaxEntries:   10000,
	MaxRows:      1000000,
	MaxColumns:   16384,
	MaxCellChars: 32767,
	MaxJSONDepth: 64,
	MaxXMLDepth:  64,
	// MaxSharedStrings: Excel itself stops near 2^31 characters; five
	// million distinct strings is far beyond any provisioning workbook.
	MaxSharedStrings: 5_000_000,
}

// LimitError reports a breached limit; it names the flag that raises it.
type LimitError struct {
	What  string
	Limit int64
	Flag  string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("input exceeds the limit of %d %s (raise it with --%s if the file is trusted)", e.Limit, e.What, e.Flag)
}

// ErrStop may be returned by a record callback to stop reading early
// without an error.
var ErrStop = errors.New("stop")

// Read streams the records of the file at path to fn, in source order, and
// every problem found while reading to report. It returns an error when the
// file cannot be read at all or a limit is breached; problems in individual
// rows are reported and reading goes on.
func Read(path string, opts Options, fn func(*Record) error, report func(Problem)) error {
	opts = opts.withDefaults(path)
	if Kind(path) == "" {
		return fmt.Errorf("%s: unsupported input type (expected .xlsx, .csv, .json, .json.zip or .zip)", opts.DisplayName)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", opts.DisplayName, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", opts.DisplayName, err)
	}
	return ReadFrom(path, f, st.Size(), opts, fn, report)
}

// ReadFrom is Read on size bytes of ra: name gives the kind (by its
// extension) and, unless opts.DisplayName is set, the name in locations.
// It serves inputs held in memory, such as the bulk export responses of a
// live VOSS and fuzz inputs.
func ReadFrom(name string, ra io.ReaderAt, size int64, opts Options, fn func(*Record) error, report func(Problem)) error {
	opts = opts.withDefaults(name)
	var err error
	switch kind := Kind(name); kind {
	case "xlsx":
		err = readXLSX(ra, size, opts, fn, report)
	case "csv":
		err = readCSV(ra, size, opts, fn, report)
	case "json":
		err = readJSONFile(io.NewSectionReader(ra, 0, size), BaseName(name), opts, fn, report)
	case "zip":
		err = readJSONZip(ra, size, opts, fn, report)
	default:
		return fmt.Errorf("%s: unsupported input type (expected .xlsx, .csv, .json, .json.zip or .zip)", opts.DisplayName)
	}
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// Kind returns the input kind of path by its extension: "xlsx", "csv",
// "json", "zip", or "" when unsupported.
func Kind(path string) string {
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".xlsx"):
		return "xlsx"
	case strings.HasSuffix(lower, ".csv"):
		return "csv"
	case strings.HasSuffix(lower, ".zip"):
		return "zip"
	case strings.HasSuffix(lower, ".json"):
		return "json"
	}
	return ""
}

func (o Options) withDefaults(path string) Options {
	d := DefaultLimits
	l := &o.Limits
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxRows <= 0 {
		l.MaxRows = d.MaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = d.MaxColumns
	}
	if l.MaxCellChars <= 0 {
		l.MaxCellChars = d.MaxCellChars
	}
	if l.MaxJSONDepth <= 0 {
		l.MaxJSONDepth = d.MaxJSONDepth
	}
	if l.MaxXMLDepth <= 0 {
		l.MaxXMLDepth = d.MaxXMLDepth
	}
	if l.MaxSharedStrings <= 0 {
		l.MaxSharedStrings = d.MaxSharedStrings
	}
	if o.Formulas == "" {
		o.Formulas = "error"
	}
	if o.DisplayName == "" {
		o.DisplayName = path
	}
	return o
}

// ColumnName returns the spreadsheet letters of a 1-based column number.
func ColumnName(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

// BaseName is filepath.Base, exported for callers that label inputs.
func BaseName(p string) string { return filepath.Base(p) }
