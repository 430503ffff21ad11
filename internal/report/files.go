package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/loader"
)

// Write writes the document to path in the format its extension names:
// .json, .csv, .xlsx or .html. The file is written atomically (a temporary
// file renamed into place) and created 0600.
func Write(path string, d *Document, recs []*loader.Record) error {
	if err := CheckFormat(path); err != nil {
		return err
	}
	return WriteAtomic(path, func(w io.Writer) error {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json":
			return JSON(w, d)
		case ".csv":
			return CSV(w, d)
		case ".xlsx":
			return XLSX(w, d, recs)
		}
		return HTML(w, d)
	})
}

// CSV writes one line per field change, formula-escaped; a back-out
// plan's not-restorable values follow as lines of status "not restorable".
// (The run's facts — config, back-out file — are in the other formats: a
// CSV stays one table.)
func CSV(w io.Writer, d *Document) error {
	cw := csv.NewWriter(w)
	rows := Rows(d)
	for _, n := range d.NotRestorable {
		s := n.Source
		sheet, row := s.Sheet, s.Row
		if s.Entry != "" {
			sheet, row = s.Entry, s.Index
		}
		rows = append(rows, []string{s.File, sheet, fmt.Sprint(row), "", "", n.Kind, n.Key, "none", "not restorable", n.Field, "", "",
			"write-only value: set it again by hand or with a new apply"})
	}
	rows = append(rows, runErrorRows(d)...)
	for _, r := range rows {
		for i := range r {
			r[i] = EscapeFormula(r[i])
		}
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// runErrorRows are the CSV rows of a run that was refused or stopped
// (exit 2, 3, 4) before it had any operation: its error, then each input
// problem, in the error column, so the CSV names what was wrong as the
// other formats do. A run with operations names its failures on them (and
// a row of no operation would miscount them).
func runErrorRows(d *Document) [][]string {
	if d.Run == nil || len(d.Ops) > 0 || (d.Run.Error == "" && len(d.Run.Problems) == 0) {
		return nil
	}
	row := func(msg string) []string {
		r := make([]string, len(changeHeader))
		r[len(r)-1] = msg // the error column
		return r
	}
	var out [][]string
	if d.Run.Error != "" {
		out = append(out, row(d.Run.Error))
	}
	for _, p := range d.Run.Problems {
		out = append(out, row(p))
	}
	return out
}

// Sheet names of the report workbook. Every sheet but the failed rows
// starts with "#", which the loader skips, so the workbook can be fixed and
// fed back as it is.
const (
	SummarySheet = "#Summary"
	ChangesSheet = "#Changes"
	FailedSheet  = "Failed rows"
)

// SummaryRows are the run-metadata block every report format renders
// (the HTML's run table, the xlsx #Summary sheet; JSON carries the same
// in "run"): what ran, when, against what, on which inputs and config,
// with what result, rows first. Counts are ints, so a workbook holds them
// as numbers. A field added to Run is added here once, for every format.
func SummaryRows(d *Document) [][2]any {
	var out [][2]any
	add := func(k string, v any) { out = append(out, [2]any{k, v}) }
	if r := d.Run; r != nil {
		add("command", "bulkprov "+r.Command)
		add("version", r.Version)
		add("started", r.Started.UTC().Format(time.RFC3339))
		add("finished", r.Finished.UTC().Format(time.RFC3339))
		add("duration", r.Duration().Round(time.Millisecond).String())
		add("exit", r.Exit)
		if r.Error != "" {
			add("error", r.Error)
		}
		for _, p := range r.Problems {
			add("problem", p)
		}
		if r.Targets.VOSS != "" {
			add("voss", r.Targets.VOSS)
		}
		for _, name := range sortedNames(r.Targets.CUPI) {
			add("cupi "+name, r.Targets.CUPI[name])
		}
		for _, in := range r.Inputs {
			add("input "+in.File, "sha256 "+in.SHA256)
		}
		switch c := r.Config; {
		case c == nil:
		case c.SHA256 == "":
			add("config", "(none: built-in defaults)")
		default:
			add("config "+c.File, "sha256 "+c.SHA256)
		}
		if r.Plan != nil {
			add("plan "+r.Plan.File, "sha256 "+r.Plan.SHA256)
		}
		for _, a := range r.Approvals {
			add("approved by "+a.Principal, "key "+a.Key)
		}
		if r.Backout != "" {
			add("backout", r.Backout)
		}
	}
	for _, kv := range d.Account().Facts(d.IsApply()) {
		add(kv.Name, kv.Value)
	}
	if len(d.NotRestorable) > 0 {
		add("not restorable", len(d.NotRestorable))
	}
	return out
}

func sortedNames(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NotRestorableSheet lists a back-out plan's write-only values.
const NotRestorableSheet = "#Not restorable"

// XLSX writes a summary sheet, a filterable changes sheet and, for runs
// with failures, a sheet of the failed rows in a bulk-load layout with the
// reason in "# Comment", ready to fix and re-feed; for a back-out plan, the
// values it cannot restore; for a plan with warnings, the warnings. Counts, row numbers and numeric values are
// numbers; every sheet has its columns sized, its header row frozen and
// filterable, and declares its true used range.
func XLSX(w io.Writer, d *Document, recs []*loader.Record) error {
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetSheetName("Sheet1", SummarySheet)
	summary := [][]any{{"bulkprov " + d.Kind + " report"}, {}}
	for _, kv := range SummaryRows(d) {
		v := kv[1]
		if s, ok := v.(string); ok {
			v = EscapeFormula(s)
		}
		summary = append(summary, []any{kv[0], v})
	}
	if err := putRows(f, SummarySheet, summary); err != nil {
		return err
	}
	if err := notRestorableSheet(f, d); err != nil {
		return err
	}
	if err := warningsSheet(f, d); err != nil {
		return err
	}
	if err := changesSheet(f, d); err != nil {
		return err
	}
	if err := failedSheet(f, d, recs); err != nil {
		return err
	}
	return f.Write(w)
}

// notRestorableSheet writes a back-out plan's values it cannot restore,
// if any, in a sheet of their own.
func notRestorableSheet(f *excelize.File, d *Document) error {
	if len(d.NotRestorable) == 0 {
		return nil
	}
	rows := [][]any{{"file", "sheet", "row", "kind", "key", "field"}}
	for _, n := range d.NotRestorable {
		s := n.Source
		sheet, row := s.Sheet, s.Row
		if s.Entry != "" {
			sheet, row = s.Entry, s.Index
		}
		rows = append(rows, []any{EscapeFormula(s.File), EscapeFormula(sheet), row, n.Kind, EscapeFormula(n.Key), n.Field})
	}
	if _, err := f.NewSheet(NotRestorableSheet); err != nil {
		return err
	}
	if err := putRows(f, NotRestorableSheet, rows); err != nil {
		return err
	}
	return headerRow(f, NotRestorableSheet, len(rows[0]), len(rows))
}

// WarningsSheet lists what a plan found about rows that is not a failure.
const WarningsSheet = "#Warnings"

// warningsSheet writes the plan's warnings, if any, in a sheet of their
// own (each is also in the error column of its operation's changes).
func warningsSheet(f *excelize.File, d *Document) error {
	if len(d.Warnings) == 0 {
		return nil
	}
	rows := [][]any{{"file", "sheet", "row", "target", "kind", "key", "warning"}}
	for _, w := range d.Warnings {
		s := w.Src()
		sheet, row := s.Sheet, s.Row
		if s.Entry != "" {
			sheet, row = s.Entry, s.Index
		}
		rows = append(rows, []any{EscapeFormula(s.File), EscapeFormula(sheet), row, w.Target, w.Kind, EscapeFormula(w.Key), EscapeFormula(w.Message)})
	}
	if _, err := f.NewSheet(WarningsSheet); err != nil {
		return err
	}
	if err := putRows(f, WarningsSheet, rows); err != nil {
		return err
	}
	return headerRow(f, WarningsSheet, len(rows[0]), len(rows))
}

// changesSheet writes the changes sheet, streamed.
func changesSheet(f *excelize.File, d *Document) error {
	if _, err := f.NewSheet(ChangesSheet); err != nil {
		return err
	}
	// The changes sheet is streamed: its used range, filter, widths and
	// frozen header are declared before its first row (excelize drops a
	// filter set on a streamed sheet after it is flushed).
	var widths []int
	n := 0
	changeRows(d, func(r []any) {
		n++
		for i, v := range r {
			for len(widths) <= i {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], cellWidth(v))
		}
	})
	if err := SetDimension(f, ChangesSheet, len(widths), n); err != nil {
		return err
	}
	if n > 1 {
		end, _ := excelize.CoordinatesToCellName(len(widths), n)
		if err := f.AutoFilter(ChangesSheet, "A1:"+end, nil); err != nil {
			return err
		}
	}
	sw, err := f.NewStreamWriter(ChangesSheet)
	if err != nil {
		return err
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, colWidth(wd)); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(frozenHeader()); err != nil {
		return err
	}
	i := 0
	var werr error
	changeRows(d, func(r []any) {
		i++
		for j, v := range r {
			if s, ok := v.(string); ok {
				r[j] = EscapeFormula(s)
			}
		}
		cellRef, _ := excelize.CoordinatesToCellName(1, i)
		if err := sw.SetRow(cellRef, r); err != nil && werr == nil {
			werr = err
		}
	})
	if werr != nil {
		return werr
	}
	return sw.Flush()
}

// putRows writes rows into an in-memory sheet from A1, sizes its columns
// and declares its used range.
func putRows(f *excelize.File, sheet string, rows [][]any) error {
	cols := 0
	var widths []int
	for i, r := range rows {
		cellRef, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cellRef, &r); err != nil {
			return err
		}
		cols = max(cols, len(r))
		for j, v := range r {
			for len(widths) <= j {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], cellWidth(v))
		}
	}
	for j, wd := range widths {
		name, _ := excelize.ColumnNumberToName(j + 1)
		if err := f.SetColWidth(sheet, name, name, colWidth(wd)); err != nil {
			return err
		}
	}
	return SetDimension(f, sheet, cols, len(rows))
}

// headerRow freezes an in-memory sheet's first row and puts a filter on it.
func headerRow(f *excelize.File, sheet string, cols, rows int) error {
	if err := f.SetPanes(sheet, frozenHeader()); err != nil {
		return err
	}
	if rows < 2 {
		return nil
	}
	end, _ := excelize.CoordinatesToCellName(cols, rows)
	return f.AutoFilter(sheet, "A1:"+end, nil)
}

func frozenHeader() *excelize.Panes {
	return &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}
}

// SetDimension declares a sheet's used range, A1 to the last column and
// row written (<dimension ref="A1:K57">): readers that trust it (openpyxl
// in read-only mode) otherwise see one cell. A streamed sheet must be
// given it before its stream writer is made.
func SetDimension(f *excelize.File, sheet string, cols, rows int) error {
	if cols < 1 || rows < 1 {
		return f.SetSheetDimension(sheet, "A1")
	}
	end, err := excelize.CoordinatesToCellName(cols, rows)
	if err != nil {
		return err
	}
	return f.SetSheetDimension(sheet, "A1:"+end)
}

// cellWidth is the characters a cell's value shows.
func cellWidth(v any) int {
	switch t := v.(type) {
	case nil:
		return 0
	case string:
		return len([]rune(t))
	case excelize.Cell:
		return cellWidth(t.Value)
	}
	return len(fmt.Sprint(v))
}

// colWidth is a column's width for its widest cell, within 8 and 60.
func colWidth(chars int) float64 { return float64(min(max(chars+2, 8), 60)) }
