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

// CSV writes one line per field change, formula-escaped.
func CSV(w io.Writer, d *Document) error {
	cw := csv.NewWriter(w)
	for _, r := range Rows(d) {
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

// Sheet names of the report workbook. Every sheet but the failed rows
// starts with "#", which the loader skips, so the workbook can be fixed and
// fed back as it is.
const (
	SummarySheet = "#Summary"
	ChangesSheet = "#Changes"
	FailedSheet  = "Failed rows"
)

// SummaryRows are the facts at the top of every report: what ran, when,
// against what, on which inputs, with what result, rows first.
func SummaryRows(d *Document) [][2]string {
	var out [][2]string
	add := func(k, v string) { out = append(out, [2]string{k, v}) }
	if r := d.Run; r != nil {
		add("command", "bulkprov "+r.Command)
		add("version", r.Version)
		add("started", r.Started.UTC().Format(time.RFC3339))
		add("finished", r.Finished.UTC().Format(time.RFC3339))
		add("duration", r.Duration().Round(time.Millisecond).String())
		add("exit", fmt.Sprint(r.Exit))
		if r.Targets.VOSS != "" {
			add("voss", r.Targets.VOSS)
		}
		for _, name := range sortedNames(r.Targets.CUPI) {
			add("cupi "+name, r.Targets.CUPI[name])
		}
		for _, in := range r.Inputs {
			add("input "+in.File, "sha256 "+in.SHA256)
		}
		if r.Plan != nil {
			add("plan "+r.Plan.File, "sha256 "+r.Plan.SHA256)
		}
		for _, a := range r.Approvals {
			add("approved by "+a.Principal, "key "+a.Key)
		}
	}
	c := CountRows(d.Ops)
	add("rows", fmt.Sprint(c.Total))
	add("rows ok", fmt.Sprint(c.OK))
	add("rows failed", fmt.Sprint(c.Failed))
	if c.Skipped > 0 {
		add("rows not run", fmt.Sprint(c.Skipped))
	}
	s := d.Summary
	for _, kv := range []struct {
		k string
		v int
	}{{"create", s.Create}, {"update", s.Update}, {"delete", s.Delete}, {"unchanged", s.Noop}, {"failed", s.Failed}} {
		add("operations "+kv.k, fmt.Sprint(kv.v))
	}
	if d.Kind == "apply" {
		add("operations done", fmt.Sprint(s.Done))
		add("operations skipped", fmt.Sprint(s.Skip))
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

// XLSX writes a summary sheet, a filterable changes sheet and, for runs
// with failures, a sheet of the failed rows in a bulk-load layout with the
// reason in "# Comment", ready to fix and re-feed.
func XLSX(w io.Writer, d *Document, recs []*loader.Record) error {
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetSheetName("Sheet1", SummarySheet)
	summary := [][]any{{"bulkprov " + d.Kind + " report"}, {}}
	for _, kv := range SummaryRows(d) {
		summary = append(summary, []any{kv[0], EscapeFormula(kv[1])})
	}
	for i, r := range summary {
		cellRef, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(SummarySheet, cellRef, &r); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(SummarySheet, "A", "A", 24)
	if _, err := f.NewSheet(ChangesSheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(ChangesSheet)
	if err != nil {
		return err
	}
	rows := Rows(d)
	for i, r := range rows {
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = EscapeFormula(v)
		}
		cellRef, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cellRef, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if len(rows) > 1 {
		end, _ := excelize.CoordinatesToCellName(len(rows[0]), len(rows))
		_ = f.AutoFilter(ChangesSheet, "A1:"+end, nil)
	}
	if err := failedSheet(f, d, recs); err != nil {
		return err
	}
	return f.Write(w)
}
