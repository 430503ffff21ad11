// Package report renders plans and apply results: a readable text diff
// for the terminal, and JSON, CSV, xlsx and self-contained HTML reports.
// Secrets never appear: write-only fields show as "***". Values copied from
// sheets are escaped against formula injection in CSV and xlsx output.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/bulkprov/bulkprov/internal/engine"
	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// Document is what every report format renders.
type Document struct {
	Kind    string            `json:"kind"` // "plan" or "apply"
	Run     *Run              `json:"run,omitempty"`
	Summary engine.Summary    `json:"summary"`
	Ops     []*engine.Op      `json:"operations"`
	Inputs  []engine.Input    `json:"inputs,omitempty"`
	Targets string            `json:"targets,omitempty"`
	Metrics []TargetMetrics   `json:"metrics,omitempty"`
	Extra   map[string]string `json:"info,omitempty"`
	// NotRestorable lists, for a back-out plan, the write-only values the
	// undo cannot put back (the terminal prints the same list).
	NotRestorable []engine.NotRestorable `json:"not_restorable,omitempty"`
	// Unkept marks, by operation id, the writes of a value the server did
	// not keep before (engine.Unkept).
	Unkept map[string]engine.Unkept `json:"-"`
	// ResentSecrets counts the secrets of existing objects the run sends
	// again for want of a record (a new or lost state folder): the
	// account's resent_secrets.
	ResentSecrets int `json:"resent_secrets,omitempty"`
	// Estimate is a plan's forecast of its apply's duration (estimate.go).
	Estimate *Estimate `json:"estimate,omitempty"`
	// Warnings are what the plan found about rows that is not a failure
	// (engine.Warning): every format lists them, and says each beside the
	// operation it concerns.
	Warnings []engine.Warning `json:"warnings,omitempty"`

	warnOnce sync.Once
	warnOf   map[string][]string // operation id -> its warnings

	// NotPlanned counts the input rows of a run that stopped (a target
	// down, access refused) before any of them was planned: rows not run.
	NotPlanned int `json:"-"`
}

// Account is the document's one account (see Account): every format
// renders it.
func (d *Document) Account() Account {
	a := Tally(d.Ops)
	a.Rows.Total += d.NotPlanned
	a.Rows.NotRun += d.NotPlanned
	a.ResentSecrets = d.ResentSecrets
	a.Unkept = len(d.Unkept)
	a.Warnings = len(d.Warnings)
	return a
}

// IsApply reports whether the document is an apply's (apply --revert
// included): its operations were executed, not only planned.
func (d *Document) IsApply() bool { return strings.HasPrefix(d.Kind, "apply") }

// TargetMetrics are one target's request figures of a run.
type TargetMetrics struct {
	Target    string  `json:"target"`
	Requests  int     `json:"requests"`
	PerSecond float64 `json:"requests_per_second"`
	P50Ms     float64 `json:"p50_ms"`
	P95Ms     float64 `json:"p95_ms"`
	Status503 int     `json:"status_503"`
	Status429 int     `json:"status_429"`
	Retries   int     `json:"retries"`
	BackoffS  float64 `json:"backoff_s"`
	// PaceWaitS is the time requests waited for the target's
	// requests-per-second budget: not in the latencies.
	PaceWaitS float64       `json:"pace_wait_s,omitempty"`
	MaxLimit  int           `json:"max_workers"`
	Timeline  []engine.Tick `json:"timeline,omitempty"`
}

// New builds a document from a plan.
func New(kind string, p *engine.Plan) *Document {
	d := &Document{Kind: kind, Summary: Tally(p.Ops).Summary(), Ops: p.Ops, Inputs: p.Inputs, Targets: p.Targets, NotRestorable: p.NotRestorable, ResentSecrets: p.ResentSecrets, Unkept: p.Unkept,
		Warnings: p.Warnings}
	d.Summary.Unkept = len(p.Unkept)
	return d
}

// Visible returns the operations a person should see: everything but
// noops (a noop that failed, that an interrupted earlier part of the run
// did, or that was never planned because the run stopped first, is shown).
func (d *Document) Visible() []*engine.Op {
	var out []*engine.Op
	for _, op := range d.Ops {
		if op.Action != engine.Noop || op.Status == engine.Failed || op.Status == engine.Done || op.Status == engine.Skipped {
			out = append(out, op)
		}
	}
	return out
}

// Value renders a field value for people: secrets as ***, strings quoted.
func Value(v any, secret bool) string {
	if secret && v != nil {
		return engine.SecretMarker
	}
	switch t := v.(type) {
	case nil:
		return "(none)"
	case string:
		return fmt.Sprintf("%q", t)
	case json.Number:
		return t.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

var symbols = map[engine.Action]string{engine.Create: "+", engine.Update: "~", engine.Delete: "-", engine.Noop: " "}

// TextOptions choose what Print shows.
type TextOptions struct {
	// Color paints with ANSI colours (callers honour NO_COLOR and terminals).
	Color bool
	// Changes lists every changed object with its field changes; without
	// it only failed operations are listed. The summary is always shown.
	Changes bool
}

// Text writes the human diff with every changed object listed.
func Text(w io.Writer, d *Document, color bool) {
	Print(w, d, TextOptions{Color: color, Changes: true})
}

// Print writes the human diff: operations grouped by source row, one line
// per field change (with Changes), failures always with their reasons,
// then the summary line.
func Print(w io.Writer, d *Document, o TextOptions) {
	paint := func(code, s string) string {
		if !o.Color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	colors := map[engine.Action]string{engine.Create: "32", engine.Update: "33", engine.Delete: "31"}
	var lastRow *engine.Source
	for _, op := range d.Visible() {
		_, unkept := d.Unkept[op.ID]
		if !o.Changes && op.Status != engine.Failed && !unkept {
			continue
		}
		if src := op.Src(); lastRow == nil || src != *lastRow {
			lastRow = &src
			fmt.Fprintf(w, "\n%s\n", paint("1", src.String()))
		}
		sym := symbols[op.Action]
		if op.Status == engine.Failed {
			fmt.Fprintf(w, "  %s %s %s %s: %s\n", paint("31", "!"), op.Target, op.Kind, op.Key, d.errorText(op))
			continue
		}
		status := ""
		if d.IsApply() && op.Status != engine.Planned || op.Status == engine.Skipped {
			status = " [" + op.Status.String() + "]"
		}
		fmt.Fprintf(w, "  %s %s %s %s%s\n", paint(colors[op.Action], sym), op.Target, op.Kind, op.Key, status)
		if unkept {
			fmt.Fprintf(w, "      %s\n", d.errorText(op))
		}
		for _, c := range op.Changes {
			switch {
			case c.Secret:
				fmt.Fprintf(w, "      %s: %s\n", c.Field, map[bool]string{true: "*** (will be set)", false: "*** (set)"}[c.Old == nil])
			case op.Action == engine.Create:
				fmt.Fprintf(w, "      %s: %s\n", c.Field, Value(c.New, false))
			case op.Action == engine.Delete:
				fmt.Fprintf(w, "      %s: %s\n", c.Field, Value(c.Old, false))
			default:
				fmt.Fprintf(w, "      %s: %s → %s\n", c.Field, Value(c.Old, false), Value(c.New, false))
			}
		}
	}
	if lastRow != nil {
		fmt.Fprintln(w)
	}
	// Warnings are said whatever is listed: each names its row.
	for _, wn := range d.Warnings {
		fmt.Fprintf(w, "%s %s\n", paint("33", "warning:"), wn)
	}
	acct := d.Account()
	// What was not run is said once per reason (a target down, found so
	// at plan time or mid-run, is one line, not one per operation).
	for _, r := range acct.Skipped {
		if strings.HasPrefix(r.Reason, "not run") || strings.HasPrefix(r.Reason, "not attempted") {
			fmt.Fprintf(w, "%s (%d %s of %d %s)\n", r.Reason, r.Count, plural(r.Count, "operation"), r.Rows, plural(r.Rows, "row"))
		}
	}
	fmt.Fprintln(w, AccountLine(d.IsApply(), acct))
}

// RowLine counts rows, the unit people count: "300 rows: 298 ok, 2 failed".
func RowLine(c RowCounts) string {
	noun := "rows"
	if c.Total == 1 {
		noun = "row"
	}
	s := fmt.Sprintf("%d %s: %d ok, %d failed", c.Total, noun, c.OK, c.Failed)
	if c.NotRun > 0 {
		s += fmt.Sprintf(", %d not run", c.NotRun)
	}
	return s
}

// SummaryLine is the one-line summary of a plan or run: rows first, then
// operations.
func SummaryLine(d *Document) string {
	return AccountLine(d.IsApply(), d.Account())
}

// AccountLine is the summary line of an account: "Apply: ROWS. Operations:
// D done, F failed, S skipped, U unchanged." or the plan's.
func AccountLine(apply bool, a Account) string {
	rows := RowLine(a.Rows)
	if apply {
		return "Apply: " + rows + ". " + a.ApplyLine() + unkeptLine(a.Unkept) + warningsLine(a.Warnings)
	}
	return "Plan: " + rows + ". " + a.PlanLine() + unkeptLine(a.Unkept) + warningsLine(a.Warnings)
}

// JSON writes the report schema of spec/cli.md.
func JSON(w io.Writer, d *Document) error {
	type source struct {
		File  string `json:"file"`
		Sheet string `json:"sheet,omitempty"`
		Row   int    `json:"row,omitempty"`
		Entry string `json:"entry,omitempty"`
		Index *int   `json:"index,omitempty"`
	}
	type change struct {
		Field string `json:"field"`
		Old   any    `json:"old"`
		New   any    `json:"new"`
	}
	type op struct {
		Source  source      `json:"source"`
		Target  string      `json:"target"`
		Cluster string      `json:"cluster,omitempty"`
		Kind    string      `json:"kind"`
		Key     string      `json:"key"`
		Action  string      `json:"action"`
		Changes []change    `json:"changes"`
		Status  string      `json:"status"`
		Error   string      `json:"error,omitempty"`
		ID      string      `json:"id"`
		Created string      `json:"created_id,omitempty"`
		Unkept  *unkeptJSON `json:"unkept,omitempty"`
	}
	type warning struct {
		Source    source `json:"source"`
		Target    string `json:"target"`
		Kind      string `json:"kind"`
		Key       string `json:"key"`
		Operation string `json:"operation"`
		Message   string `json:"message"`
	}
	acct := d.Account()
	out := struct {
		Run     *Run            `json:"run,omitempty"`
		Rows    RowCounts       `json:"rows"`
		Summary engine.Summary  `json:"summary"`
		Account Account         `json:"account"`
		Ops     []op            `json:"operations"`
		Inputs  []engine.Input  `json:"inputs,omitempty"`
		Metrics []TargetMetrics `json:"metrics,omitempty"`
		// NotRestorable is a back-out plan's list of write-only values
		// the undo cannot put back.
		NotRestorable []engine.NotRestorable `json:"not_restorable,omitempty"`
		Estimate      *Estimate              `json:"estimate,omitempty"`
		// Warnings are what the plan found about rows that is not a
		// failure, each naming its row and operation.
		Warnings []warning `json:"warnings"`
	}{Run: d.Run, Rows: acct.Rows, Summary: acct.Summary(), Account: acct, Inputs: d.Inputs, Metrics: d.Metrics, NotRestorable: d.NotRestorable, Estimate: d.Estimate, Ops: []op{},
		Warnings: []warning{}}
	for _, wn := range d.Warnings {
		s := wn.Src()
		src := source{File: s.File, Sheet: s.Sheet, Row: s.Row, Entry: s.Entry}
		if s.Entry != "" {
			i := s.Index
			src.Index = &i
		}
		out.Warnings = append(out.Warnings, warning{Source: src, Target: wn.Target, Kind: wn.Kind, Key: wn.Key, Operation: wn.Op, Message: wn.Message})
	}
	// The operations are converted and encoded one at a time as they are
	// written: a run's report is never held whole.
	conv := func(i int) any {
		o := d.Ops[i]
		s := o.Src()
		src := source{File: s.File, Sheet: s.Sheet, Row: s.Row, Entry: s.Entry}
		if s.Entry != "" {
			i := s.Index
			src.Index = &i
		}
		j := op{Source: src, Target: o.Target, Cluster: Cluster(o), Kind: o.Kind, Key: o.Key, Action: o.Action.String(), Status: o.Status.String(),
			Error: o.Error, ID: o.ID, Created: o.CreatedID, Changes: []change{}, Unkept: d.unkeptOf(o)}
		for _, c := range o.Changes {
			ch := change{Field: c.Field, Old: c.Old, New: c.New}
			if c.Secret {
				if c.Old != nil {
					ch.Old = engine.SecretMarker
				}
				ch.New = engine.SecretMarker
			}
			j.Changes = append(j.Changes, ch)
		}
		return j
	}
	if err := json.WriteIndentArray(w, out, "operations", "  ", len(d.Ops), conv); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Cluster names the Unity Connection cluster of a CUPI operation
// ("default" for --cupi); empty for other targets.
func Cluster(o *engine.Op) string {
	if o.Target != "cupi" {
		return ""
	}
	if o.Cluster == "" {
		return engine.DefaultCluster
	}
	return o.Cluster
}

// EscapeFormula makes a value safe to open in a spreadsheet: text starting
// with = + - @ (or a tab or carriage return) gets a leading apostrophe.
func EscapeFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Rows flattens the document to one row per field change (or per op when
// it has none), for CSV.
func Rows(d *Document) [][]string {
	var out [][]string
	changeRows(d, func(r []any) {
		row := make([]string, len(r))
		for i, v := range r {
			row[i] = textCell(v)
		}
		out = append(out, row)
	})
	return out
}

// changeHeader are the columns of the flat change list (CSV, xlsx).
var changeHeader = []string{"file", "sheet", "row", "target", "cluster", "kind", "key", "action", "status", "field", "old", "new", "error"}

// changeRows calls fn with the header, then one row per field change (or
// per operation when it has none): the row number as an int, numeric old
// and new values as numbers, booleans as booleans, everything else as
// text. fn may keep or change the slice it is given.
func changeRows(d *Document, fn func([]any)) {
	head := make([]any, len(changeHeader))
	for i, h := range changeHeader {
		head[i] = h
	}
	fn(head)
	for _, op := range d.Ops {
		s := op.Src()
		row := s.Row
		sheet := s.Sheet
		if s.Entry != "" {
			sheet, row = s.Entry, s.Index
		}
		base := []any{s.File, sheet, row, op.Target, Cluster(op), op.Kind, op.Key, op.Action.String(), op.Status.String()}
		if len(op.Changes) == 0 {
			fn(append(append([]any{}, base...), "", "", "", d.errorText(op)))
			continue
		}
		for _, c := range op.Changes {
			fn(append(append([]any{}, base...), c.Field, typedCell(c.Old, c.Secret), typedCell(c.New, c.Secret), d.errorText(op)))
		}
	}
}

// typedCell is a value for a spreadsheet cell: numbers as numbers,
// booleans as booleans, text as text, anything else as its JSON.
func typedCell(v any, secret bool) any {
	if v == nil {
		return ""
	}
	if secret {
		return engine.SecretMarker
	}
	switch t := v.(type) {
	case string, bool, int, int64, float64:
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	}
	return strings.Trim(Value(v, false), "\"")
}

// textCell is a typed cell as CSV text, as it always was.
func textCell(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	}
	return strings.Trim(Value(v, false), "\"")
}

// Counts tallies operations by a key, for the HTML chart.
func Counts(ops []*engine.Op, key func(*engine.Op) string) [][2]any {
	m := map[string]int{}
	for _, op := range ops {
		m[key(op)]++
	}
	var out [][2]any
	for k, v := range m {
		out = append(out, [2]any{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0].(string) < out[j][0].(string) })
	return out
}
