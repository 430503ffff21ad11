package report

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine"
	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// maxStaticFailures caps the failed rows listed in the page's static
// failures section; the change list below filters them all.
const maxStaticFailures = 1000

// gzipAbove is the size of the change data above which the page carries it
// gzip-compressed (base64), unpacked by the browser (DecompressionStream):
// a 20,000-row plan stays a few MB.
const gzipAbove = 256 << 10

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

// changeData is the change list the page's script renders: dictionaries
// of sources ("file:sheet" or "file:entry"), kinds ("voss data/User") and
// field names, and one array per input row: [source, row, op...], each op
// [kind, key, action, status, changes, error?] with changes flat as
// [field, new, ...] for creates and [field, old, new, ...] otherwise.
// Failed rows come first.
type changeData struct {
	Sources []string `json:"s"`
	Kinds   []string `json:"k"`
	Fields  []string `json:"f"`
	Rows    [][]any  `json:"r"`
}

var actionCodes = map[engine.Action]int{engine.Create: 0, engine.Update: 1, engine.Delete: 2, engine.Noop: 3}
var statusCodes = map[engine.Status]int{engine.Planned: 0, engine.Done: 1, engine.Failed: 2, engine.Skipped: 3}

// changeRow is one input row of the change list: its source's index, its
// label (row number, item index, or none) and its operations.
type changeRow struct {
	source, label int
	noLabel       bool
	failed        bool
	ops           []int
}

// changeIndex finds, in one pass over ops, the change list's dictionaries
// (indices in order of first use) and its rows, failed rows first, each
// group in source order. The rows' arrays are built later, one at a time.
func changeIndex(ops []*engine.Op) (changeData, map[string]int, map[string]int, []changeRow) {
	var d changeData
	index := func(list *[]string, at map[string]int, s string) int {
		i, ok := at[s]
		if !ok {
			i = len(*list)
			at[s] = i
			*list = append(*list, s)
		}
		return i
	}
	srcAt, kindAt, fieldAt := map[string]int{}, map[string]int{}, map[string]int{}
	rowAt := map[engine.Source]int{}
	var rows []changeRow
	for i, op := range ops {
		s := op.Src()
		ri, ok := rowAt[s]
		if !ok {
			group, r := s.File+":"+s.Sheet, changeRow{label: s.Row}
			if s.Entry != "" {
				group, r.label = s.File+":"+s.Entry, s.Index
			} else if s.Sheet == "" {
				group, r.noLabel = s.File, true
			}
			r.source = index(&d.Sources, srcAt, group)
			ri = len(rows)
			rowAt[s] = ri
			rows = append(rows, r)
		}
		for _, c := range op.Changes {
			index(&d.Fields, fieldAt, c.Field)
		}
		index(&d.Kinds, kindAt, op.Target+" "+op.Kind)
		rows[ri].ops = append(rows[ri].ops, i)
		rows[ri].failed = rows[ri].failed || op.Status == engine.Failed
	}
	sorted := make([]changeRow, 0, len(rows))
	for _, failed := range []bool{true, false} {
		for _, r := range rows {
			if r.failed == failed {
				sorted = append(sorted, r)
			}
		}
	}
	return d, kindAt, fieldAt, sorted
}

// rowData is one row's array of the change list.
func rowData(r changeRow, ops []*engine.Op, kindAt, fieldAt map[string]int) []any {
	var label any = r.label
	if r.noLabel {
		label = ""
	}
	row := []any{r.source, label}
	for _, i := range r.ops {
		op := ops[i]
		ch := []any{}
		for _, c := range op.Changes {
			old, nw := c.Old, c.New
			if c.Secret {
				if old != nil {
					old = engine.SecretMarker
				}
				nw = engine.SecretMarker
			}
			ch = append(ch, fieldAt[c.Field])
			if op.Action != engine.Create {
				ch = append(ch, old)
			}
			ch = append(ch, nw)
		}
		o := []any{kindAt[op.Target+" "+op.Kind], op.Key, actionCodes[op.Action], statusCodes[op.Status], ch}
		if op.Error != "" {
			o = append(o, op.Error)
		}
		row = append(row, o)
	}
	return row
}

// encodeChangeData is the JSON of the change list of ops, gzip+base64
// above gzipAbove; enc names the encoding for the script ("json" or
// "gzip"). The rows are encoded one at a time into the compressor: only
// the compressed page data is held whole.
func encodeChangeData(ops []*engine.Op) (text, enc string, err error) {
	d, kindAt, fieldAt, rows := changeIndex(ops)
	var out switchingWriter
	// json.Marshal escapes <, > and &: safe inside <script>.
	put := func(v any) {
		b, merr := json.Marshal(v)
		if merr != nil && err == nil {
			err = merr
		}
		out.add(b)
	}
	out.addString(`{"s":`)
	put(d.Sources)
	out.addString(`,"k":`)
	put(d.Kinds)
	out.addString(`,"f":`)
	put(d.Fields)
	out.addString(`,"r":`)
	if rows == nil {
		out.addString("null")
	}
	for i, r := range rows {
		out.addString(map[bool]string{true: "[", false: ","}[i == 0])
		put(rowData(r, ops, kindAt, fieldAt))
	}
	if rows != nil {
		out.addString("]")
	}
	out.addString("}")
	if err != nil {
		return "", "", err
	}
	return out.result()
}

// switchingWriter holds what is written as it is up to gzipAbove bytes,
// and from there compresses all of it.
type switchingWriter struct {
	plain bytes.Buffer
	z     *gzip.Writer
	zbuf  bytes.Buffer
}

func (w *switchingWriter) add(p []byte) {
	if w.z == nil && w.plain.Len()+len(p) <= gzipAbove {
		w.plain.Write(p)
		return
	}
	if w.z == nil {
		w.z, _ = gzip.NewWriterLevel(&w.zbuf, gzip.BestCompression)
		w.z.Write(w.plain.Bytes())
		w.plain = bytes.Buffer{}
	}
	w.z.Write(p) // into a bytes.Buffer: no error
}

func (w *switchingWriter) addString(s string) { w.add([]byte(s)) }

// result is the text written, or its compressed form in base64.
func (w *switchingWriter) result() (text, enc string, err error) {
	if w.z == nil {
		return w.plain.String(), "json", nil
	}
	if err := w.z.Close(); err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(w.zbuf.Bytes()), "gzip", nil
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
// kind, action and hierarchy, request timelines with axes, and the change
// list — one line per operation with its field changes inside, failed rows
// first, a filter box, collapsible rows — rendered by an inline script
// from compact (and, when large, compressed) data.
func HTML(w io.Writer, d *Document) error {
	vis := d.Visible()
	data, enc, err := encodeChangeData(vis)
	if err != nil {
		return err
	}
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
	return page.Execute(w, struct {
		*Document
		Facts                         [][2]string
		Rows                          RowCounts
		ByKind, ByAction, ByHierarchy [][2]any
		Failures                      []failedRow
		MoreFailures                  int
		Timelines                     []timeline
		Data, Enc                     string
		Listed                        int
	}{Document: d, Facts: SummaryRows(d), Rows: CountRows(d.Ops), Failures: failures, MoreFailures: more, Timelines: tls,
		Data: data, Enc: enc, Listed: len(vis),
		ByKind:   Counts(d.Ops, func(o *engine.Op) string { return o.Kind }),
		ByAction: Counts(d.Ops, func(o *engine.Op) string { return o.Action.String() }),
		ByHierarchy: Counts(d.Ops, func(o *engine.Op) string {
			if o.Hierarchy == "" {
				return "(Unity Connection)"
			}
			return o.Hierarchy
		}),
	})
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(n, total int) float64 {
		if total == 0 {
			return 0
		}
		return float64(n) * 100 / float64(total)
	},
	"js": func(s string) template.JS { return template.JS(s) }, // JSON (with <, >, & escaped) or base64
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bulkprov {{.Kind}} report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse} th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2} #run th{background:none;font-weight:normal;color:#555}
.cards span{display:inline-block;margin-right:1.5em;font-size:1.2em} .rows{font-weight:bold}
.create{color:#176b1a} .update{color:#8a6100} .delete{color:#a31515} .failed{background:#fde8e8}
.bar{height:14px;display:inline-block;background:#4a7bd0;vertical-align:middle} td.barcell{width:320px}
svg{margin:4px 8px 4px 0} svg .ax{stroke:#888} svg .ln{fill:none;stroke:#4a7bd0;stroke-width:1.5} svg text{font-size:11px;fill:#555}
svg .yl{text-anchor:end} svg .xl{text-anchor:middle} svg .t{font-weight:bold}
#failures details{margin:4px 0} #failures summary{cursor:pointer;font-weight:bold} #failures li{color:#a31515}
#changes{width:100%} #changes tr.src th{cursor:pointer;background:#e8eef8} #changes tbody.closed tr.op{display:none}
#changes ul{margin:0;padding-left:1.2em} #changes summary{cursor:pointer;color:#555} .err{color:#a31515}
#tools{margin:8px 0} #tools input[type=search]{width:24em} #shown{margin-left:1em;color:#555}
code{font-size:12px}
</style></head><body>
<h1>bulkprov {{.Kind}} report</h1>
<table id="run">{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<p class="cards"><span class="rows">{{.Rows.Total}} rows: {{.Rows.OK}} ok, {{.Rows.Failed}} failed{{if .Rows.Skipped}}, {{.Rows.Skipped}} not run{{end}}</span></p>
<p class="cards"><span class="create">+{{.Summary.Create}} create</span><span class="update">~{{.Summary.Update}} update</span><span class="delete">-{{.Summary.Delete}} delete</span><span>{{.Summary.Noop}} unchanged</span><span class="failed">{{.Summary.Failed}} failed</span>{{if eq .Kind "apply"}}<span>{{.Summary.Done}} done</span><span>{{.Summary.Skip}} skipped</span>{{end}}</p>
{{if .Failures}}<h2>Failures</h2><div id="failures">{{range .Failures}}<details open><summary>{{.Source}}</summary><ul>{{range .Ops}}<li>{{.Target}} {{.Kind}} {{.Key}}: {{.Error}}</li>{{end}}</ul></details>{{end}}
{{if .MoreFailures}}<p>… and {{.MoreFailures}} more rows with failures: tick "failures only" in the change list below.</p>{{end}}</div>{{end}}
{{$total := len .Ops}}
<h2>By kind</h2><table id="by-kind">{{range .ByKind}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="barcell"><span class="bar" style="width:{{pct (index . 1) $total}}%"></span></td></tr>{{end}}</table>
<h2>By action</h2><table id="by-action">{{range .ByAction}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="barcell"><span class="bar" style="width:{{pct (index . 1) $total}}%"></span></td></tr>{{end}}</table>
<h2>By hierarchy</h2><table id="by-hierarchy">{{range .ByHierarchy}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="barcell"><span class="bar" style="width:{{pct (index . 1) $total}}%"></span></td></tr>{{end}}</table>
{{range .Metrics}}<h2>{{.Target}}: {{.Requests}} requests, {{printf "%.1f" .PerSecond}}/s, p50 {{printf "%.1f" .P50Ms}} ms, p95 {{printf "%.1f" .P95Ms}} ms, {{.Status503}}×503, {{.Status429}}×429, back-off {{printf "%.1f" .BackoffS}} s</h2>{{end}}
{{range .Timelines}}<div class="timeline">{{.Requests}}{{.Latency}}{{.Wait}}</div>{{end}}
<h2>Changes</h2>
<p>{{.Listed}} operations listed (unchanged ones are counted above, not listed), one line each with its field changes inside; rows with failures first. Click a row's heading to fold it.</p>
<div id="tools"><input type="search" id="filter" placeholder="filter: user, field, value, error…" aria-label="filter"> <label><input type="checkbox" id="failed-only"> failures only</label> <span id="shown"></span></div>
<noscript><p>The change list needs JavaScript; the .json, .csv and .xlsx reports carry the same operations.</p></noscript>
<table id="changes"><thead><tr><th></th><th>target / kind</th><th>key</th><th>action</th><th>status</th><th>changes</th></tr></thead></table>
<p><button id="more" hidden>show more</button></p>
<script id="data" type="application/json" data-enc="{{.Enc}}">{{js .Data}}</script>
<script>
(async () => {
  const el = document.getElementById("data");
  let text = el.textContent;
  if (el.dataset.enc === "gzip") {
    const bin = Uint8Array.from(atob(text), c => c.charCodeAt(0));
    text = await new Response(new Blob([bin]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  }
  const D = JSON.parse(text);
  document.body.dataset.parsed = Math.round(performance.now());
  const A = ["create", "update", "delete", "noop"], S = ["planned", "done", "failed", "skipped"], SYM = ["+", "~", "-", " "];
  const show = v => v === null || v === undefined ? "(none)" : JSON.stringify(v);
  const rows = D.r.map(r => {
    const ops = r.slice(2).map(o => ({kind: D.k[o[0]], key: o[1], a: o[2], st: o[3], ch: o[4], err: o[5] || ""}));
    return {src: D.s[r[0]] + (r[1] === "" ? "" : ":" + r[1]), ops, failed: ops.some(o => o.st === 2), text: null};
  });
  const haystack = r => {
    if (r.text === null) {
      const parts = [r.src];
      for (const o of r.ops) {
        parts.push(o.kind, o.key, A[o.a], S[o.st], o.err);
        const step = o.a === 0 ? 2 : 3;
        for (let i = 0; i < o.ch.length; i += step) parts.push(D.f[o.ch[i]], ...o.ch.slice(i + 1, i + step).map(show));
      }
      r.text = parts.join("\n").toLowerCase();
    }
    return r.text;
  };
  const h = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k);
    return e;
  };
  const changes = o => {
    const items = [];
    const step = o.a === 0 ? 2 : 3;
    for (let i = 0; i < o.ch.length; i += step) {
      const f = D.f[o.ch[i]];
      items.push(h("li", null, f + ": " + (o.a === 0 ? show(o.ch[i + 1]) : o.a === 2 ? show(o.ch[i + 1]) : show(o.ch[i + 1]) + " → " + show(o.ch[i + 2]))));
    }
    const cell = h("td");
    if (o.err) cell.append(h("div", {class: "err"}, o.err));
    if (items.length) cell.append(h("details", null, h("summary", null, items.length + (items.length === 1 ? " field" : " fields")), h("ul", null, ...items)));
    return cell;
  };
  const table = document.getElementById("changes"), shown = document.getElementById("shown"), more = document.getElementById("more");
  const filter = document.getElementById("filter"), failedOnly = document.getElementById("failed-only");
  let match = rows, limit = 0;
  const PAGE = 200;
  const render = () => {
    const end = Math.min(match.length, limit + PAGE);
    const frag = document.createDocumentFragment();
    for (let i = limit; i < end; i++) {
      const r = match[i];
      const body = h("tbody", {class: r.failed ? "row failed-row" : "row"});
      const head = h("tr", {class: "src"}, h("th", {colspan: "6"}, r.src + " (" + r.ops.length + (r.ops.length === 1 ? " operation)" : " operations)")));
      head.addEventListener("click", () => body.classList.toggle("closed"));
      body.append(head);
      for (const o of r.ops) {
        body.append(h("tr", {class: "op " + A[o.a] + " " + S[o.st]}, h("td", null, o.st === 2 ? "!" : SYM[o.a]), h("td", null, o.kind), h("td", null, o.key), h("td", null, A[o.a]), h("td", null, S[o.st]), changes(o)));
      }
      frag.append(body);
    }
    table.append(frag);
    limit = end;
    shown.textContent = "showing " + limit + " of " + match.length + " rows";
    more.hidden = limit >= match.length;
  };
  const apply = () => {
    const q = filter.value.trim().toLowerCase();
    match = rows.filter(r => (!failedOnly.checked || r.failed) && (q === "" || haystack(r).includes(q)));
    for (const b of table.querySelectorAll("tbody")) b.remove();
    limit = 0;
    render();
  };
  // The filter lives in the address too (#q=TEXT&failed=1), so a link
  // opens the page filtered.
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
  more.addEventListener("click", render);
  apply();
  document.body.dataset.ready = Math.round(performance.now()); // ms from navigation to the list shown
})();
</script>
<h2>Inputs</h2><table id="inputs"><tr><th>file</th><th>bytes</th><th>sha256</th></tr>{{range .Inputs}}<tr><td>{{.Path}}</td><td>{{.Size}}</td><td><code>{{.SHA256}}</code></td></tr>{{end}}</table>
</body></html>
`))
