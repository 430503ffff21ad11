package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// readMetrics parses a --metrics-file with the Prometheus text parser.
func readMetrics(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s is not Prometheus text exposition: %v", path, err)
	}
	for name := range fams {
		if !strings.HasPrefix(name, "bulkprov_") {
			t.Errorf("metric %s does not start with bulkprov_", name)
		}
	}
	return fams
}

// metricValue is the value of the gauge name whose labels include want;
// ok is false when there is none.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		for k, v := range want {
			if labelValue(m, k) != v {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

// An operator's nightly, end to end against the built binary: plan says
// how long the apply will take (and its report carries the estimate and
// the build's version); apply with --log-format json writes only JSON
// objects to stderr, its backout: and progress: lines with their fields;
// --metrics-file is replaced after a run that exits 0, 1 and 3, keeps the
// last success across failures, and carries every metric the example
// alerting rules under deploy/ use.
func TestOperatorsNightly(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state"), "XDG_STATE_HOME=" + filepath.Join(dir, "xdg")}, creds...)
	good, bad := filepath.Join(dir, "good.xlsx"), filepath.Join(dir, "bad.xlsx")
	writeUsers(t, good, 5)
	writeUsers(t, bad, 10) // crash00007 fails on every write
	sim := startSim(t, "--fail-keys", "crash00007=500", "--cupi-service-time", "2ms")
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--retries", "1"}
	prom := filepath.Join(dir, "bulkprov.prom")

	// plan: the estimate line, the report's estimate and version.
	planJSON := filepath.Join(dir, "plan.json")
	r := bulkprov(t, env, append([]string{"plan", "--report", planJSON, "--metrics-file", prom}, append(target, good)...)...)
	if r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if last := lines[len(lines)-1]; !regexp.MustCompile(`^Estimate: apply about [0-9.]+(ms|s|m[0-9]+s), bound by (voss|cupi) \(.+ requests at .+\)$`).MatchString(last) {
		t.Errorf("plan's output does not end with the estimate: %q", last)
	}
	var rep struct {
		Run      struct{ Version string }
		Estimate *struct {
			Seconds float64 `json:"seconds"`
			BoundBy string  `json:"bound_by"`
		}
	}
	b, _ := os.ReadFile(planJSON)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Estimate == nil || rep.Estimate.BoundBy == "" || rep.Estimate.Seconds < 0 {
		t.Errorf("plan report's estimate: %s", b[:min(len(b), 400)])
	}
	if v := bulkprov(t, nil, "version"); !strings.HasPrefix(rep.Run.Version, version+" (revision ") || !strings.Contains(v.stdout, "go: ") ||
		!strings.HasSuffix(rep.Run.Version, strings.TrimSpace(v.stdout[strings.Index(v.stdout, "go: ")+4:])) {
		t.Errorf("run.version %q does not match bulkprov version:\n%s", rep.Run.Version, v.stdout)
	}
	fams := readMetrics(t, prom)
	if v, ok := metricValue(fams, "bulkprov_estimate_seconds", map[string]string{"command": "plan"}); !ok || v < 0 {
		t.Errorf("plan's metrics lack the estimate")
	}

	// apply that succeeds, then one with a failed row: JSON stderr, the
	// last success kept.
	apply := func(wb string, extra ...string) result {
		return bulkprov(t, env, append(append([]string{"apply", "--metrics-file", prom}, extra...), append(target, wb)...)...)
	}
	if r := apply(good); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s", r.code, r.stderr)
	}
	fams = readMetrics(t, prom)
	success, ok := metricValue(fams, "bulkprov_last_success_timestamp_seconds", map[string]string{"command": "apply"})
	if !ok || success <= 0 {
		t.Fatalf("no last success after exit 0")
	}
	r = apply(bad, "--log-format", "json")
	if r.code != 1 {
		t.Fatalf("apply with a failing row: exit %d, want 1\n%s", r.code, r.stderr)
	}
	seen := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Errorf("--log-format json: stderr line is not a JSON object: %q", l)
			continue
		}
		if msg, _ := obj["msg"].(string); msg != "" {
			seen[msg] = obj
		}
	}
	if bo := seen["backout"]; bo == nil || bo["path"] == nil || !strings.HasSuffix(bo["path"].(string), ".backout.json") {
		t.Errorf("no backout object with its path: %v", seen)
	}
	if pr := seen["progress"]; pr == nil || pr["total"] == nil || pr["done"] != pr["total"] || pr["failed"] != 1.0 {
		t.Errorf("no progress object with done, total, failed: %v", pr)
	}
	fams = readMetrics(t, prom)
	checks := []struct {
		name   string
		labels map[string]string
		ok     func(float64) bool
	}{
		{"bulkprov_last_run_exit_code", map[string]string{"command": "apply"}, func(v float64) bool { return v == 1 }},
		{"bulkprov_last_success_timestamp_seconds", map[string]string{"command": "apply"}, func(v float64) bool { return v == success }},
		{"bulkprov_last_run_rows", map[string]string{"status": "failed"}, func(v float64) bool { return v == 1 }},
		{"bulkprov_last_run_rows", map[string]string{"status": "ok"}, func(v float64) bool { return v == 9 }},
		{"bulkprov_last_run_operations", map[string]string{"action": "create", "status": "failed"}, func(v float64) bool { return v >= 1 }},
		{"bulkprov_last_run_operations", map[string]string{"action": "create", "status": "done"}, func(v float64) bool { return v >= 5 }},
		{"bulkprov_last_run_requests", map[string]string{"target": "voss"}, func(v float64) bool { return v > 0 }},
		{"bulkprov_last_run_requests", map[string]string{"target": "cupi", "cluster": "default"}, func(v float64) bool { return v > 0 }},
		{"bulkprov_last_run_throttled_responses", map[string]string{"target": "voss", "code": "429"}, func(v float64) bool { return v >= 0 }},
		{"bulkprov_last_run_backoff_seconds", map[string]string{"target": "cupi"}, func(v float64) bool { return v >= 0 }},
		{"bulkprov_last_run_duration_seconds", nil, func(v float64) bool { return v > 0 }},
		{"bulkprov_last_run_timestamp_seconds", nil, func(v float64) bool { return v >= success }},
	}
	for _, c := range checks {
		if v, ok := metricValue(fams, c.name, c.labels); !ok || !c.ok(v) {
			t.Errorf("%s%v = %v (present %v)", c.name, c.labels, v, ok)
		}
	}

	// A target that is down: exit 3, the file still replaced.
	r = bulkprov(t, env, "apply", "--voss", "http://127.0.0.1:1", "--cupi", "http://127.0.0.1:1", "--retries", "1", "--metrics-file", prom, good)
	if r.code != 3 {
		t.Fatalf("apply against a closed port: exit %d, want 3\n%s", r.code, r.stderr)
	}
	fams = readMetrics(t, prom)
	if v, _ := metricValue(fams, "bulkprov_last_run_exit_code", nil); v != 3 {
		t.Errorf("exit code metric %v after exit 3", v)
	}
	if v, _ := metricValue(fams, "bulkprov_last_success_timestamp_seconds", nil); v != success {
		t.Errorf("last success %v after exit 3, want %v kept", v, success)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "bulkprov.prom") && e.Name() != "bulkprov.prom" {
				t.Errorf("temporary file %s left beside the metrics file", e.Name())
			}
		}
	}

	// The example alerting rules parse as YAML and use only metrics the
	// file has.
	rules, err := os.ReadFile("../../deploy/prometheus/bulkprov-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		t.Fatalf("alerting rules: %v", err)
	}
	alerts := map[string]bool{}
	for _, g := range doc.Groups {
		for _, rule := range g.Rules {
			alerts[rule.Alert] = true
			if rule.Expr == "" || rule.Labels["severity"] == "" {
				t.Errorf("rule %s has no expr or severity", rule.Alert)
			}
			for _, name := range regexp.MustCompile(`bulkprov_[a-z_]+`).FindAllString(rule.Expr, -1) {
				if fams[name] == nil {
					t.Errorf("rule %s uses %s, which the metrics file does not have", rule.Alert, name)
				}
			}
		}
	}
	if !alerts["BulkprovNightlyNotSucceeded"] || !alerts["BulkprovFailedRows"] {
		t.Errorf("alerting rules lack the nightly or failed-rows alert: %v", alerts)
	}
}
