package main

import (
	"errors"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/report"
)

// --metrics-file: the run's figures in Prometheus's text exposition
// format, for node_exporter's textfile collector, written with the
// Prometheus client library (a private registry, WriteToTextfile: a temp
// file beside PATH renamed over it) at the end of every run, whatever its
// exit. deploy/prometheus/bulkprov-alerts.yaml alerts on them.

func registerMetricsFile(fs *flag.FlagSet, path *string) {
	fs.StringVar(path, "metrics-file", "", "at the end of the run, whatever its exit, replace `FILE.prom` with the run's metrics in Prometheus text format (for node_exporter's textfile collector)")
}

// metricsRun is what a metrics file is made of.
type metricsRun struct {
	command  string
	exit     int
	started  time.Time
	finished time.Time
	doc      *report.Document // nil when the run stopped before a plan
	targets  *engine.Targets  // nil when the run stopped before connecting
	estimate *report.Estimate
}

// writeMetricsFile replaces path with the run's metrics.
func writeMetricsFile(path string, m metricsRun) error {
	reg := prometheus.NewRegistry()
	cmd := prometheus.Labels{"command": m.command}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bulkprov_" + name, Help: help, ConstLabels: cmd}, labels)
		reg.MustRegister(g)
		return g
	}
	gauge("last_run_exit_code", "Exit code of the last run (0 done, 1 rows failed, 2 invalid, 3 unreachable or interrupted, 4 access refused).").WithLabelValues().Set(float64(m.exit))
	gauge("last_run_timestamp_seconds", "When the last run ended, in seconds since the Unix epoch.").WithLabelValues().Set(float64(m.finished.UnixMilli()) / 1000)
	gauge("last_run_duration_seconds", "How long the last run took.").WithLabelValues().Set(m.finished.Sub(m.started).Seconds())
	success := gauge("last_success_timestamp_seconds", "When the last run that exited 0 ended (carried over from the previous file by runs that did not).")
	if m.exit == exitOK {
		success.WithLabelValues().Set(float64(m.finished.UnixMilli()) / 1000)
	} else if t, ok := previousSuccess(path, m.command); ok {
		success.WithLabelValues().Set(t)
	}
	rows := gauge("last_run_rows", "Input rows of the last run by status: ok, failed, not_run.", "status")
	ops := gauge("last_run_operations", "Operations of the last run by action (create, update, delete, noop) and status (done, failed, skipped, planned).", "action", "status")
	for _, s := range []string{"ok", "failed", "not_run"} {
		rows.WithLabelValues(s).Set(0)
	}
	if m.doc != nil {
		// The run's one account, as every other output renders it.
		acct := m.doc.Account()
		c := acct.Rows
		rows.WithLabelValues("ok").Set(float64(c.OK))
		rows.WithLabelValues("failed").Set(float64(c.Failed))
		rows.WithLabelValues("not_run").Set(float64(c.NotRun))
		for _, a := range []engine.Action{engine.Create, engine.Update, engine.Delete, engine.Noop} {
			for _, s := range []engine.Status{engine.Done, engine.Failed, engine.Skipped, engine.Planned} {
				ops.WithLabelValues(a.String(), s.String()).Set(float64(acct.Count(a, s)))
			}
		}
		gauge("last_run_warnings", "What the last run's plan found about rows that is not a failure (a user created that exists under another hierarchy, an alias another user holds).").
			WithLabelValues().Set(float64(acct.Warnings))
	}
	if m.targets != nil {
		reqs := gauge("last_run_requests", "HTTP requests the last run sent, per target and Unity Connection cluster.", "target", "cluster")
		thr := gauge("last_run_throttled_responses", "Throttled answers (HTTP 503 and 429) the last run got, per target and cluster.", "target", "cluster", "code")
		retries := gauge("last_run_retries", "Requests the last run sent again, per target and cluster.", "target", "cluster")
		backoff := gauge("last_run_backoff_seconds", "Time the last run's requests spent backing off, per target and cluster.", "target", "cluster")
		for _, l := range m.targets.Limiters() {
			target, cluster := limiterLabels(l.Name)
			s := l.Stats()
			reqs.WithLabelValues(target, cluster).Set(float64(s.Requests))
			thr.WithLabelValues(target, cluster, "503").Set(float64(s.Status503))
			thr.WithLabelValues(target, cluster, "429").Set(float64(s.Status429))
			retries.WithLabelValues(target, cluster).Set(float64(s.Retries))
			backoff.WithLabelValues(target, cluster).Set(s.Backoff.Seconds())
		}
	}
	if m.estimate != nil {
		gauge("estimate_seconds", "The plan's estimate of the apply's duration, and the target that bounds it.", "bound_by").WithLabelValues(m.estimate.BoundBy).Set(m.estimate.Seconds)
	}
	return prometheus.WriteToTextfile(path, reg)
}

// limiterLabels splits a limiter's name ("voss", "cupi", "cupi[east]")
// into the target and cluster labels.
func limiterLabels(name string) (target, cluster string) {
	if name == "voss" {
		return "voss", ""
	}
	if len(name) > len("cupi[]") && name[:5] == "cupi[" && name[len(name)-1] == ']' {
		return "cupi", name[5 : len(name)-1]
	}
	return name, engine.DefaultCluster
}

// previousSuccess reads bulkprov_last_success_timestamp_seconds of command
// from the metrics file a previous run left at path.
func previousSuccess(path, command string) (float64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		return 0, false
	}
	fam := fams["bulkprov_last_success_timestamp_seconds"]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if labelValue(m, "command") == command && m.GetGauge() != nil {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// writeMetrics writes the reporter's --metrics-file for a run ending with
// code; a file that cannot be written turns a success into exit 1, as a
// report does.
func (r *reporter) writeMetrics(err error, code int) error {
	if r.metricsPath == "" || errors.Is(err, flag.ErrHelp) {
		return err
	}
	m := metricsRun{command: r.run.Command, exit: code, started: r.run.Started, finished: time.Now().UTC(), doc: r.doc}
	if r.conn != nil {
		m.targets = r.conn.targets
	}
	if r.doc != nil {
		m.estimate = r.doc.Estimate
	}
	if werr := writeMetricsFile(r.metricsPath, m); werr != nil {
		logEvent(r.io.err, slog.LevelWarn, "bulkprov: --metrics-file "+r.metricsPath+": "+werr.Error(), "--metrics-file "+r.metricsPath+": "+werr.Error(), "file", r.metricsPath)
		if code == exitOK {
			return silent(exitRowsFailed)
		}
	}
	return err
}
