package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// maxStaticFailures caps the failed rows listed in the page's failures
// section; the change list below lists them all, first.
const maxStaticFailures = 1000

// failedRow is one input row with failed operations, for the failures
// section.
type failedRow struct {
	Source string
	Ops    []*engine.Op
}

// failedRows groups the failed operations by input row, in source order.
func failedRows(ops []*engine.Op) []failedRow {
	var out []failedRow
	at := map[engine.Source]int{}
	for _, op := range ops {
		if op.Status != engine.Failed {
			continue
		}
		src := op.Src()
		i, ok := at[src]
		if !ok {
			i = len(out)
			at[src] = i
			out = append(out, failedRow{Source: src.String()})
		}
		out[i].Ops = append(out[i].Ops, op)
	}
	return out
}

// chart draws one timeline series as an SVG line chart with axes: time in
// seconds along x, the series' unit along y (0 and its maximum marked).
func chart(ticks []engine.Tick, title, unit string, val func(engine.Tick) float64) template.HTML {
	const w, h, left, right, top, bottom = 400.0, 140.0, 56.0, 12.0, 18.0, 28.0
	maxV := 0.0
	for _, t := range ticks {
		maxV = max(maxV, val(t))
	}
	scale := maxV
	if scale == 0 {
		scale = 1
	}
	n := len(ticks)
	span := float64(max(n-1, 1))
	secs := float64(n) * engine.TickWidth.Seconds()
	x := func(i int) float64 { return left + float64(i)*(w-left-right)/span }
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-v/scale) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%.0f" height="%.0f" role="img" aria-label="%s">`, w, h, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="12" class="t">%s</text>`, left, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="ax"/>`, left, top, left, h-bottom)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="ax"/>`, left, h-bottom, w-right, h-bottom)
	marks := []float64{0, maxV / 2, maxV}
	if maxV == 0 {
		marks = marks[:1]
	}
	for _, v := range marks {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="yl">%s</text>`, left-4, y(v)+4, axisLabel(v, unit))
	}
	for _, f := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="xl">%.1fs</text>`, left+f*(w-left-right), h-bottom+16, f*secs)
	}
	b.WriteString(`<polyline class="ln" points="`)
	for i, t := range ticks {
		fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(val(t)))
	}
	if n == 1 { // a run shorter than one bucket still draws a line
		fmt.Fprintf(&b, "%.1f,%.1f", w-right, y(val(ticks[0])))
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()) // only numbers and escaped text
}

func axisLabel(v float64, unit string) string {
	if v >= 10 || v == 0 {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// HTML writes one self-contained page for a change board: what ran and
// with what result (rows first), the failures grouped by row, counts by
// kind, action and hierarchy, request timelines with axes, the values a
// back-out plan cannot restore, and the change list — every listed
// operation with every field change, failed rows first. All of it is in
// the page as written: nothing is folded, paged or drawn by a script, so a
// printout or a PDF of the page carries every value (the print stylesheet
// drops the filter box and keeps rows whole across pages). The one script
// is a filter box that hides rows; the page reads the same without it.
// The change list is written row by row as it is rendered.
func HTML(w io.Writer, d *Document) error {
	vis := d.Visible()
	failures := failedRows(d.Ops)
	more := 0
	if len(failures) > maxStaticFailures {
		more = len(failures) - maxStaticFailures
		failures = failures[:maxStaticFailures]
	}
	type timeline struct {
		Target                  string
		Requests, Latency, Wait template.HTML
	}
	var tls []timeline
	for _, m := range d.Metrics {
		if len(m.Timeline) == 0 {
			continue
		}
		tls = append(tls, timeline{Target: m.Target,
			Requests: chart(m.Timeline, m.Target+": requests per ¼ s", "", func(t engine.Tick) float64 { return float64(t.Requests) }),
			Latency:  chart(m.Timeline, m.Target+": mean latency", "ms", func(t engine.Tick) float64 { return t.LatMs }),
			Wait:     chart(m.Timeline, m.Target+": time backing off", "s", func(t engine.Tick) float64 { return t.Backoff }),
		})
	}
	rows := changeList(vis)
	acct := d.Account()
	bw := bufio.NewWriterSize(w, 64<<10)
	err := pageHead.Execute(bw, struct {
		*Document
		Facts                 [][2]any
		Rows                  RowCounts
		Account               Account
		Line                  string
		ByAction, ByHierarchy [][2]any
		Failures              []failedRow
		MoreFailures          int
		Timelines             []timeline
		Listed, ListedRows    int
	}{Document: d, Facts: SummaryRows(d), Rows: acct.Rows, Account: acct, Line: AccountLine(d.IsApply(), acct), Failures: failures, MoreFailures: more, Timelines: tls,
		Listed: len(vis), ListedRows: len(rows),
		ByAction: [][2]any{{"create", acct.ByAction.Create}, {"update", acct.ByAction.Update}, {"delete", acct.ByAction.Delete},
			{"noop (unchanged)", acct.ByAction.Noop}},
		ByHierarchy: Counts(d.Ops, func(o *engine.Op) string {
			if o.Hierarchy == "" {
				return "(Unity Connection)"
			}
			return o.Hierarchy
		}),
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		writeChangeRow(bw, r, vis, d)
	}
	if err := pageTail.Execute(bw, d); err != nil {
		return err
	}
	return bw.Flush()
}

// listedRow is one input row of the change list: its source and the
// indices of its operations.
type listedRow struct {
	src    engine.Source
	failed bool
	ops    []int
}

// changeList groups ops by input row, failed rows first, each group in
// source order.
func changeList(ops []*engine.Op) []listedRow {
	at := map[engine.Source]int{}
	var rows []listedRow
	for i, op := range ops {
		s := op.Src()
		ri, ok := at[s]
		if !ok {
			ri = len(rows)
			at[s] = ri
			rows = append(rows, listedRow{src: s})
		}
		rows[ri].ops = append(rows[ri].ops, i)
		rows[ri].failed = rows[ri].failed || op.Status == engine.Failed
	}
	sorted := make([]listedRow, 0, len(rows))
	for _, failed := range []bool{true, false} {
		for _, r := range rows {
			if r.failed == failed {
				sorted = append(sorted, r)
			}
		}
	}
	return sorted
}

var htmlSymbols = map[engine.Action]string{engine.Create: "+", engine.Update: "~", engine.Delete: "-", engine.Noop: "="}

// writeChangeRow writes one input row of the change list: a heading row,
// then one table row per operation with every field change in full.
func writeChangeRow(w *bufio.Writer, r listedRow, ops []*engine.Op, d *Document) {
	esc := template.HTMLEscapeString
	cls := "r"
	if r.failed {
		cls = "r f"
	}
	n := len(r.ops)
	noun := " operations"
	if n == 1 {
		noun = " operation"
	}
	fmt.Fprintf(w, "<tbody class=\"%s\"><tr class=\"src\"><th colspan=\"6\">%s (%d%s)</th></tr>\n", cls, esc(r.src.String()), n, noun)
	for _, i := range r.ops {
		op := ops[i]
		sym := htmlSymbols[op.Action]
		if op.Status == engine.Failed {
			sym = "!"
		}
		tr := "<tr>"
		if op.Status == engine.Failed {
			tr = `<tr class="failed">`
		}
		fmt.Fprintf(w, "%s<td>%s</td><td>%s %s</td><td>%s</td><td>%s</td><td>%s</td><td>",
			tr, sym, esc(op.Target), esc(op.Kind), esc(op.Key), op.Action, op.Status)
		if e := d.errorText(op); e != "" {
			fmt.Fprintf(w, "<div class=\"err\">%s</div>", esc(e))
		}
		if len(op.Changes) > 0 {
			w.WriteString("<ul>")
			for _, c := range op.Changes {
				var v string
				switch {
				case c.Secret:
					v = map[bool]string{true: "*** (will be set)", false: "*** (set)"}[c.Old == nil]
				case op.Action == engine.Create:
					v = Value(c.New, false)
				case op.Action == engine.Delete:
					v = Value(c.Old, false)
				default:
					v = Value(c.Old, false) + " → " + Value(c.New, false)
				}
				fmt.Fprintf(w, "<li>%s: %s</li>", esc(c.Field), esc(v))
			}
			w.WriteString("</ul>")
		}
		w.WriteString("</td></tr>\n")
	}
	w.WriteString("</tbody>\n")
}

var funcs = template.FuncMap{
	"pct": func(n, total int) float64 {
		if total == 0 {
			return 0
		}
		return float64(n) * 100 / float64(total)
	},
}

var pageHead = template.Must(template.New("head").Funcs(funcs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bulkprov {{.Kind}} report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse} th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2} #run th{background:none;font-weight:normal;color:#555} #run td{overflow-wrap:anywhere}
.cards span{display:inline-block;margin-right:1.5em;font-size:1.2em} .rows{font-weight:bold}
.create{color:#176b1a} .update{color:#8a6100} .delete{color:#a31515} .failed{background:#fde8e8}
.bar{height:14px;display:inline-block;background:#4a7bd0;vertical-align:middle} td.barcell{width:320px}
svg{margin:4px 8px 4px 0} svg .ax{stroke:#888} svg .ln{fill:none;stroke:#4a7bd0;stroke-width:1.5} svg text{font-size:11px;fill:#555}
svg .yl{text-anchor:end} svg .xl{text-anchor:middle} svg .t{font-weight:bold}
#failures li{color:#a31515} #failures h3{font-size:1em;margin:.6em 0 0}
#changes{width:100%} #changes tr.src th{background:#e8eef8} #changes td{overflow-wrap:anywhere}
#changes ul{margin:0;padding-left:1.2em} .err{color:#a31515}
#changes td:nth-child(1),#changes td:nth-child(2),#changes td:nth-child(4),#changes td:nth-child(5){white-space:nowrap}
#tools{margin:8px 0} #tools input[type=search]{width:24em} #shown{margin-left:1em;color:#555}
code{font-size:12px;overflow-wrap:anywhere}
@media print{
 @page{margin:12mm}
 body{margin:0;font-size:9pt;color:#000}
 #tools,.barcell{display:none}
 #changes tbody,#changes tr,#failures li,svg{break-inside:avoid}
 #changes thead{display:table-header-group}
 th{background:none!important} .failed,tr.src th{background:none}
 a{color:#000}
}
</style></head><body>
<h1>bulkprov {{.Kind}} report</h1>
<table id="run">{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<p class="cards"><span class="rows">{{.Rows.Total}} rows: {{.Rows.OK}} ok, {{.Rows.Failed}} failed{{if .Rows.NotRun}}, {{.Rows.NotRun}} not run{{end}}</span></p>
<p class="cards" id="summary">{{.Line}}</p>
{{if .IsApply}}<p class="cards"><span>{{.Account.ByStatus.Done}} done</span><span class="failed">{{.Account.ByStatus.Failed}} failed</span><span>{{.Account.ByStatus.Skipped}} skipped</span><span>{{.Account.ByStatus.Planned}} unchanged</span></p>
{{else}}{{$todo := .Account.ToDo}}<p class="cards"><span class="create">+{{$todo.Create}} create</span><span class="update">~{{$todo.Update}} update</span><span class="delete">-{{$todo.Delete}} delete</span><span>{{.Account.Unchanged}} unchanged</span><span class="failed">{{.Account.ByStatus.Failed}} failed</span></p>
{{end}}
{{if .Failures}}<h2>Failures</h2><div id="failures">{{range .Failures}}<h3>{{.Source}}</h3><ul>{{range .Ops}}<li>{{.Target}} {{.Kind}} {{.Key}}: {{.Error}}</li>{{end}}</ul>{{end}}
{{if .MoreFailures}}<p>… and {{.MoreFailures}} more rows with failures: they are listed first in the change list below.</p>{{end}}</div>{{end}}
{{if .Warnings}}<h2>Warnings</h2><p>What the plan found that is not a failure: read each before applying.</p>
<table id="warnings"><tr><th>row</th><th>target / kind</th><th>key</th><th>warning</th></tr>{{range .Warnings}}<tr><td>{{.Where}}</td><td>{{.Target}} {{.Kind}}</td><td>{{.Key}}</td><td>{{.Message}}</td></tr>{{end}}</table>
{{end}}{{if .NotRestorable}}<h2>Not restorable</h2><p>Write-only values this back-out cannot put back; set them again by hand or with a new apply.</p>
<table id="not-restorable"><tr><th>source</th><th>kind</th><th>key</th><th>field</th></tr>{{range .NotRestorable}}<tr><td>{{.Source}}</td><td>{{.Kind}}</td><td>{{.Key}}</td><td>{{.Field}}</td></tr>{{end}}</table>{{end}}
{{$total := len .Ops}}
<h2>By kind</h2><table id="by-kind"><tr><th>kind</th><th>create</th><th>update</th><th>delete</th><th>noop (unchanged)</th><th>failed</th></tr>{{range .Account.ByKind}}<tr><td>{{.Kind}}</td><td>{{.Create}}</td><td>{{.Update}}</td><td>{{.Delete}}</td><td>{{.Noop}}</td><td>{{.Failed}}</td></tr>{{end}}</table>
<h2>By action</h2><table id="by-action">{{range .ByAction}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="barcell"><span class="bar" style="width:{{pct (index . 1) $total}}%"></span></td></tr>{{end}}</table>
<h2>By hierarchy</h2><table id="by-hierarchy">{{range .ByHierarchy}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="barcell"><span class="bar" style="width:{{pct (index . 1) $total}}%"></span></td></tr>{{end}}</table>
{{range .Metrics}}<h2>{{.Target}}: {{.Requests}} requests, {{printf "%.1f" .PerSecond}}/s, p50 {{printf "%.1f" .P50Ms}} ms, p95 {{printf "%.1f" .P95Ms}} ms, {{.Status503}}×503, {{.Status429}}×429, back-off {{printf "%.1f" .BackoffS}} s{{if .PaceWaitS}}, {{printf "%.1f" .PaceWaitS}} s waiting for the rate budget (not in the latencies){{end}}</h2>{{end}}
{{range .Timelines}}<div class="timeline">{{.Requests}}{{.Latency}}{{.Wait}}</div>{{end}}
<h2>Changes</h2>
<p>{{.Listed}} operations on {{.ListedRows}} rows, each with every field change (unchanged objects are counted above, not listed); rows with failures first.</p>
<div id="tools" hidden><input type="search" id="filter" placeholder="filter: user, field, value, error…" aria-label="filter"> <label><input type="checkbox" id="failed-only"> failures only</label> <span id="shown"></span></div>
<table id="changes"><thead><tr><th></th><th>target / kind</th><th>key</th><th>action</th><th>status</th><th>changes</th></tr></thead>
`))

var pageTail = template.Must(template.New("tail").Parse(`</table>
<script>
// The change list is all in the page; this only hides the rows a filter
// leaves out (#q=TEXT&failed=1 in the address opens the page filtered).
(() => {
  const tools = document.getElementById("tools"), filter = document.getElementById("filter"), failedOnly = document.getElementById("failed-only"), shown = document.getElementById("shown");
  const rows = Array.from(document.querySelectorAll("#changes tbody"));
  tools.hidden = false;
  const apply = () => {
    const q = filter.value.trim().toLowerCase();
    let n = 0;
    for (const r of rows) {
      const keep = (!failedOnly.checked || r.classList.contains("f")) && (q === "" || r.textContent.toLowerCase().includes(q));
      r.hidden = !keep;
      if (keep) n++;
    }
    shown.textContent = "showing " + n + " of " + rows.length + " rows";
  };
  const params = new URLSearchParams(location.hash.slice(1));
  filter.value = params.get("q") || "";
  failedOnly.checked = params.get("failed") === "1";
  const remember = () => {
    const p = new URLSearchParams();
    if (filter.value) p.set("q", filter.value);
    if (failedOnly.checked) p.set("failed", "1");
    history.replaceState(null, "", p.toString() ? "#" + p : location.pathname);
  };
  let timer;
  filter.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { remember(); apply(); }, 150); });
  failedOnly.addEventListener("change", () => { remember(); apply(); });
  apply();
  document.body.dataset.ready = "1";
})();
</script>
<h2>Inputs</h2><table id="inputs"><tr><th>file</th><th>bytes</th><th>sha256</th></tr>{{range .Inputs}}<tr><td>{{.Path}}</td><td>{{.Size}}</td><td><code>{{.SHA256}}</code></td></tr>{{end}}</table>
</body></html>
`))
