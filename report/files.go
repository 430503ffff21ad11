package report

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/engine"
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

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"value": func(c engine.Change, old bool) string {
		v := c.New
		if old {
			v = c.Old
		}
		if v == nil {
			return ""
		}
		return Value(v, c.Secret)
	},
	"pct": func(n, total int) float64 {
		if total == 0 {
			return 0
		}
		return float64(n) * 100 / float64(total)
	},
	"points": func(ticks []engine.Tick, field string) string {
		var b strings.Builder
		maxV := 1e-9
		val := func(t engine.Tick) float64 {
			switch field {
			case "latency":
				return t.LatMs
			case "backoff":
				return t.Backoff
			}
			return float64(t.Requests)
		}
		for _, t := range ticks {
			maxV = max(maxV, val(t))
		}
		if len(ticks) == 1 {
			ticks = append(ticks, ticks[0]) // a run shorter than one bucket still draws a line
		}
		n := len(ticks) - 1
		for i, t := range ticks {
			fmt.Fprintf(&b, "%.1f,%.1f ", 10+float64(i)*600/float64(n), 105-val(t)*95/maxV)
		}
		return b.String()
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bulkprov {{.Kind}} report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;width:100%} th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2} .create{color:#176b1a} .update{color:#8a6100} .delete{color:#a31515} .failed{background:#fde8e8}
.bar{height:14px;display:inline-block;background:#4a7bd0;vertical-align:middle} table.counts{width:auto;min-width:50%} td.barcell{width:320px}
svg{border:1px solid #ccc;background:#fafafa} .cards span{display:inline-block;margin-right:1.5em;font-size:1.2em}
code{font-size:12px}
</style></head><body>
<h1>bulkprov {{.Kind}} report</h1>
<table id="run" class="counts">{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<p class="cards"><span class="create">+{{.Summary.Create}} create</span><span class="update">~{{.Summary.Update}} update</span><span class="delete">-{{.Summary.Delete}} delete</span><span>{{.Summary.Noop}} unchanged</span><span class="failed">{{.Summary.Failed}} failed</span>{{if eq .Kind "apply"}}<span>{{.Summary.Done}} done</span><span>{{.Summary.Skip}} skipped</span>{{end}}</p>
{{$total := len .Ops}}
<h2>By kind</h2><table id="by-kind" class="counts">{{range .ByKind}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="barcell"><span class="bar" style="width:{{pct (index . 1) $total}}%"></span></td></tr>{{end}}</table>
<h2>By action</h2><table id="by-action" class="counts">{{range .ByAction}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="barcell"><span class="bar" style="width:{{pct (index . 1) $total}}%"></span></td></tr>{{end}}</table>
<h2>By hierarchy</h2><table id="by-hierarchy" class="counts">{{range .ByHierarchy}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="barcell"><span class="bar" style="width:{{pct (index . 1) $total}}%"></span></td></tr>{{end}}</table>
{{range .Metrics}}<h2>{{.Target}}: {{.Requests}} requests, {{printf "%.1f" .PerSecond}}/s, p50 {{printf "%.1f" .P50Ms}} ms, p95 {{printf "%.1f" .P95Ms}} ms, {{.Status503}}×503, {{.Status429}}×429, back-off {{printf "%.1f" .BackoffS}} s</h2>
{{if .Timeline}}<svg width="620" height="115" role="img" aria-label="timeline of {{.Target}}"><polyline fill="none" stroke="#4a7bd0" points="{{points .Timeline "requests"}}"/><polyline fill="none" stroke="#d08a4a" points="{{points .Timeline "latency"}}"/><polyline fill="none" stroke="#a31515" points="{{points .Timeline "backoff"}}"/></svg>
<p><small>per quarter second, each line scaled to its own maximum: blue requests, orange mean latency, red time spent backing off</small></p>{{end}}{{end}}
<h2>Changes</h2>
<table id="changes"><thead><tr><th>source</th><th>target</th><th>kind</th><th>key</th><th>action</th><th>status</th><th>field</th><th>old</th><th>new</th><th>error</th></tr></thead><tbody>
{{range .Visible}}{{$op := .}}{{if .Changes}}{{range .Changes}}<tr class="{{$op.Action}} {{$op.Status}}"><td>{{$op.Source}}</td><td>{{$op.Target}}</td><td>{{$op.Kind}}</td><td>{{$op.Key}}</td><td>{{$op.Action}}</td><td>{{$op.Status}}</td><td>{{.Field}}</td><td>{{value . true}}</td><td>{{value . false}}</td><td>{{$op.Error}}</td></tr>{{end}}{{else}}<tr class="{{.Action}} {{.Status}}"><td>{{.Source}}</td><td>{{.Target}}</td><td>{{.Kind}}</td><td>{{.Key}}</td><td>{{.Action}}</td><td>{{.Status}}</td><td></td><td></td><td></td><td>{{.Error}}</td></tr>{{end}}{{end}}
</tbody></table>
<h2>Inputs</h2><table id="inputs"><tr><th>file</th><th>bytes</th><th>sha256</th></tr>{{range .Inputs}}<tr><td>{{.Path}}</td><td>{{.Size}}</td><td><code>{{.SHA256}}</code></td></tr>{{end}}</table>
</body></html>
`))

// HTML writes one self-contained page for a change board.
func HTML(w io.Writer, d *Document) error {
	data := struct {
		*Document
		ByKind, ByAction, ByHierarchy [][2]any
		Visible                       []*engine.Op
		Facts                         [][2]string
	}{Document: d, Visible: d.Visible(), Facts: SummaryRows(d),
		ByKind:   Counts(d.Ops, func(o *engine.Op) string { return o.Kind }),
		ByAction: Counts(d.Ops, func(o *engine.Op) string { return string(o.Action) }),
		ByHierarchy: Counts(d.Ops, func(o *engine.Op) string {
			if o.Hierarchy == "" {
				return "(Unity Connection)"
			}
			return o.Hierarchy
		}),
	}
	return page.Execute(w, data)
}
