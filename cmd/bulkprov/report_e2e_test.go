package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/internal/report"
)

// A bad output path is found before any server is contacted: exit 2, no
// request reaches the simulator, and no file is left behind.
func TestBadOutputPathsExit2BeforeAnyRequest(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 3)
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	cases := [][]string{
		{"apply", "--report", filepath.Join(dir, "reports", "nightly.xlsx")},
		{"apply", "--report", filepath.Join(dir, "x.pdf")},
		{"apply", "--checkpoint", filepath.Join(dir, "nope", "run.journal")},
		{"plan", "--report", filepath.Join(dir, "missing", "plan.html")},
		{"plan", "--out", filepath.Join(dir, "missing", "plan.json")},
		{"plan", "--out", filepath.Join(dir, "plan.xlsx")},
		{"plan", "--report", dir},
	}
	before := sim.requests(t)
	for _, c := range cases {
		r := bulkprov(t, creds, append(append(c, target...), wb)...)
		if r.code != 2 || !strings.Contains(r.stderr, "nothing was written") {
			t.Errorf("%v: exit %d, want 2\n%s", c, r.code, r.stderr)
		}
	}
	if after := sim.requests(t); after != before {
		t.Errorf("%d request(s) reached the simulator", after-before)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("files left behind: %v", ents)
	}
}

// runReport is the part of the JSON report these tests read.
type runReport struct {
	Run struct {
		Command  string    `json:"command"`
		Version  string    `json:"version"`
		Started  time.Time `json:"started"`
		Finished time.Time `json:"finished"`
		Targets  struct {
			VOSS string            `json:"voss"`
			CUPI map[string]string `json:"cupi"`
		} `json:"targets"`
		Inputs []struct{ File, SHA256 string } `json:"inputs"`
		Plan   *struct{ File, SHA256 string }  `json:"plan"`
		Exit   int                             `json:"exit"`
	} `json:"run"`
	Rows struct {
		Total, OK, Failed int
		NotRun            int `json:"not_run"`
	} `json:"rows"`
	Summary map[string]int `json:"summary"`
	Ops     []struct {
		Target, Cluster, Status, Kind, Action, Key string
	} `json:"operations"`
}

func readReport(t *testing.T, path string) runReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r runReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// A report workbook with a failed row is valid input as it is, and once
// the row is fixed it applies. The JSON report says what ran, where, with
// which inputs and with what result, rows first.
func TestFailedRowsRefeedAndReportContract(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 3)
	f, err := excelize.OpenFile(wb)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.SetCellValue("Sheet1", "F6", "") // row 6: no DtmfAccessId, so its CUPI user cannot be created
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	rj, rx := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.xlsx")
	r := bulkprov(t, creds, append([]string{"apply", "--report", rj}, append(target, wb)...)...)
	if r.code != 1 || !strings.Contains(r.stdout, "Apply: 3 rows: 2 ok, 1 failed.") || !strings.Contains(r.stdout, "DtmfAccessId") {
		t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rep := readReport(t, rj)
	if rep.Run.Command != "apply" || rep.Run.Version == "" || rep.Run.Exit != 1 || rep.Run.Started.IsZero() || rep.Run.Finished.Before(rep.Run.Started) ||
		rep.Run.Targets.VOSS != sim.url || rep.Run.Targets.CUPI["default"] != sim.url ||
		len(rep.Run.Inputs) != 1 || rep.Run.Inputs[0].File != wb || len(rep.Run.Inputs[0].SHA256) != 64 {
		t.Errorf("run: %+v", rep.Run)
	}
	if rep.Rows.Total != 3 || rep.Rows.OK != 2 || rep.Rows.Failed != 1 {
		t.Errorf("rows: %+v", rep.Rows)
	}
	for _, op := range rep.Ops {
		if (op.Target == "cupi") != (op.Cluster == "default") {
			t.Errorf("op on %s has cluster %q", op.Target, op.Cluster)
		}
	}
	// The report workbook: the same run facts on its Summary, and a sheet of
	// the failed row with its reason, fed back as it is.
	bulkprov(t, creds, append([]string{"apply", "--report", rx}, append(target, wb)...)...)
	x, err := excelize.OpenFile(rx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(x.GetSheetList(), ","); got != "#Summary,#Changes,Failed rows" {
		t.Fatalf("sheets: %s", got)
	}
	summary, _ := x.GetRows("#Summary")
	if !strings.Contains(fmt.Sprint(summary), sim.url) || !strings.Contains(fmt.Sprint(summary), rep.Run.Inputs[0].SHA256) {
		t.Errorf("summary sheet lacks the run facts: %q", summary)
	}
	rows, _ := x.GetRows("Failed rows")
	if len(rows) != 5 || rows[1][len(rows[1])-1] != "# Comment" || !strings.Contains(rows[4][len(rows[4])-1], "DtmfAccessId") ||
		!strings.Contains(rows[4][len(rows[4])-1], "type them again: password") {
		t.Fatalf("failed rows: %q", rows)
	}
	x.Close()
	if r := bulkprov(t, nil, "validate", rx); r.code != 0 {
		t.Fatalf("the report workbook is not valid input: exit %d\n%s", r.code, r.stderr)
	}
	x, _ = excelize.OpenFile(rx)
	_ = x.SetCellValue("Failed rows", "F5", "900001")
	if err := x.Save(); err != nil {
		t.Fatal(err)
	}
	x.Close()
	r = bulkprov(t, creds, append([]string{"apply", "--report", rj}, append(target, rx)...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "Apply: 1 row: 1 ok, 0 failed.") {
		t.Fatalf("the fixed row: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// A plain CSV (column names, --model) has no entity row: its failed rows
// get one, so they are still a bulk-load sheet.
func TestFailedRowsFromPlainCSV(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "cupi.csv")
	if err := os.WriteFile(csv, []byte("Alias,FirstName\nnobody1,Ann\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rx := filepath.Join(dir, "plan.xlsx")
	r := bulkprov(t, nil, "plan", "--sim", "--model", "cupi/User", "--report", rx, csv)
	if r.code != 1 {
		t.Fatalf("plan: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	x, err := excelize.OpenFile(rx)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, _ := x.GetRows("Failed rows")
	if len(rows) != 5 || rows[0][0] != "entity: cupi/User" || rows[4][0] != "nobody1" {
		t.Fatalf("failed rows: %q", rows)
	}
	if r := bulkprov(t, nil, "validate", rx); r.code != 0 {
		t.Fatalf("not valid input: %s", r.stderr)
	}
}

// A run that stops because a target is unreachable still writes its
// report, with exit 3 in it.
func TestUnreachableStillWritesReport(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 2)
	rj := filepath.Join(dir, "r.json")
	r := bulkprov(t, creds, "apply", "--voss", "http://127.0.0.1:1", "--cupi", "http://127.0.0.1:1", "--retries", "1", "--report", rj, wb)
	if r.code != 3 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if rep := readReport(t, rj); rep.Run.Exit != 3 || rep.Run.Targets.VOSS != "http://127.0.0.1:1" {
		t.Fatalf("report: %+v", rep.Run)
	}
}

// A server that accepts connections but never answers is announced on
// stderr while plan waits, instead of minutes of silence.
func TestHungServerAnnounced(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the quiet threshold")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 1)
	u := "http://" + ln.Addr().String()
	r := bulkprov(t, creds, "plan", "--voss", u, "--cupi", u, "--timeout", "4s", "--retries", "1", wb)
	if r.code == 0 || !regexp.MustCompile(`voss: no answer for [23]s; still waiting`).MatchString(r.stderr) {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

// A server that sends an answer's headers and then stalls its body is
// hung as much as one that never answers: it is announced too, not only
// when --timeout gives up on it.
func TestStalledAnswerAnnounced(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the quiet threshold")
	}
	stop := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"a":`))
		w.(http.Flusher).Flush()
		select { // the rest never comes
		case <-stop:
		case <-r.Context().Done():
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	defer close(stop)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 1)
	u := "http://" + ln.Addr().String()
	r := bulkprov(t, creds, "plan", "--voss", u, "--cupi", u, "--timeout", "6s", "--retries", "1", wb)
	if r.code == 0 || !regexp.MustCompile(`voss: no answer for [2-5]s; still waiting`).MatchString(r.stderr) {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

// A target with nothing to answer is idle, not hung: once VOSS's part of
// an apply is written, the minutes Unity Connection still takes must not
// be announced as "voss: no answer".
func TestIdleTargetNotAnnounced(t *testing.T) {
	if testing.Short() {
		t.Skip("waits past the quiet threshold")
	}
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 30)
	sim := startSim(t, "--cupi-service-time", "150ms")
	start := time.Now()
	r := bulkprov(t, creds, "apply", "--voss", sim.url, "--cupi", sim.url, "--voss-rate", "0", "--timeout", "4s", "--quiet", wb)
	if took := time.Since(start); r.code != 0 || took < 3*time.Second {
		t.Fatalf("exit %d after %v (want 0, and over the 2 s quiet threshold for the check to mean anything)\n%s", r.code, took, r.stderr)
	}
	if strings.Contains(r.stderr, "voss: no answer") {
		t.Fatalf("an idle VOSS was announced as not answering:\n%s", r.stderr)
	}
}

// Output levels: plan lists every change (--quiet: summary and failures);
// apply shows the summary and failures (--verbose: every change too);
// failures are never hidden.
func TestOutputLevels(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 3)
	f, _ := excelize.OpenFile(wb)
	_ = f.SetCellValue("Sheet1", "F6", "")
	_ = f.Save()
	f.Close()
	const change, failure = "+ voss data/User", "! cupi cupi/user crash00001: the CUPI user crash00001 does not exist"
	for _, c := range []struct {
		args          []string
		changes, fail bool
	}{
		{[]string{"plan"}, true, true},
		{[]string{"plan", "--quiet"}, false, true},
		{[]string{"apply"}, false, true},
		{[]string{"apply", "--quiet"}, false, true},
		{[]string{"apply", "--verbose"}, true, true},
	} {
		r := bulkprov(t, nil, append(c.args, "--sim", wb)...)
		if r.code != 1 || strings.Contains(r.stdout, change) != c.changes || strings.Contains(r.stdout, failure) != c.fail ||
			!strings.Contains(r.stdout, "3 rows: 2 ok, 1 failed.") {
			t.Errorf("%v: exit %d, changes listed %v (want %v), failure listed %v\n%s", c.args, r.code,
				strings.Contains(r.stdout, change), c.changes, strings.Contains(r.stdout, failure), r.stdout)
		}
		if strings.Contains(r.stderr, "progress:") == slices.Contains(c.args, "--quiet") && c.args[0] == "apply" {
			t.Errorf("%v: progress shown %v\n%s", c.args, strings.Contains(r.stderr, "progress:"), r.stderr)
		}
	}
}

// The README's worked example, run as written: its sh block is taken from
// README.md and run by bash in a folder that holds the binary as
// ./bulkprov and the samples, with a free port in place of 8080.
func TestREADMEWorkedExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "**Worked example")
	if i < 0 {
		t.Fatal("README has no worked example")
	}
	start := strings.Index(text[i:], "```sh\n")
	end := strings.Index(text[i+start+6:], "```")
	script := text[i+start+6 : i+start+6+end]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	script = strings.ReplaceAll(script, "127.0.0.1:8080", "127.0.0.1:"+port)
	dir := t.TempDir()
	abs, _ := filepath.Abs("../../samples")
	if err := os.Symlink(abs, filepath.Join(dir, "samples")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(dir, "bulkprov")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n"+script)
	cmd.Dir = dir
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "BULKPROV_") && !strings.HasPrefix(e, "XDG_STATE_HOME=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	// Its state folder is the default one, under XDG_STATE_HOME: a temp
	// folder here (with BULKPROV_STATE_DIR dropped, it was the user's
	// real ~/.local/state/bulkprov — issue 24).
	cmd.Env = append(cmd.Env, "XDG_STATE_HOME="+filepath.Join(dir, "xdg-state"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's worked example fails as written: %v\n%s", err, out)
	}
	plans := strings.Split(string(out), "Plan: ")
	if len(plans) != 3 || !strings.Contains(plans[1], "0 failed. Operations: 65 to create") || !strings.Contains(plans[2], "Operations: 0 to create, 0 to update, 0 to delete") {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "replay.html")); err != nil {
		t.Fatal(err)
	}
}

// The change board's copy and what runs are tied by one hash: the plan's
// HTML carries the SHA-256 of the --out plan file, and the report of
// apply --plan carries the same.
func TestPlanHashTiesReports(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 2)
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	plan, html := filepath.Join(dir, "plan.json"), filepath.Join(dir, "plan.html")
	r := bulkprov(t, creds, append([]string{"plan", "--out", plan, "--report", html}, append(target, wb)...)...)
	if r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(plan)
	sum := fmt.Sprintf("%x", sha256.Sum256(b))
	page, _ := os.ReadFile(html)
	if !strings.Contains(string(page), sum) || !strings.Contains(r.stderr, sum) || !strings.Contains(r.stderr, "apply --plan "+plan+" --voss "+sim.url) {
		t.Fatalf("the plan's page or hint lacks the plan file's sha256 %s\n%s", sum, r.stderr)
	}
	rj := filepath.Join(dir, "run.json")
	// The plan names its targets: apply --plan needs no target flags.
	if r := bulkprov(t, creds, "apply", "--plan", plan, "--report", rj); r.code != 0 || !strings.Contains(r.stderr, "targets from the plan: voss="+sim.url) {
		t.Fatalf("apply --plan: exit %d\n%s", r.code, r.stderr)
	}
	if rep := readReport(t, rj); rep.Run.Plan == nil || rep.Run.Plan.SHA256 != sum {
		t.Fatalf("apply --plan report: plan %+v, want sha256 %s", rep.Run.Plan, sum)
	}
	// Applied twice: one line that says so, not a line per operation.
	r = bulkprov(t, creds, append([]string{"apply", "--plan", plan}, target...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "already hold what this plan makes") || strings.Count(r.stderr, "\n") > 2 {
		t.Fatalf("re-applied plan: exit %d\n%s", r.code, r.stderr)
	}
}

// The look-ups an admin needs: list names what a config may refer to, and
// template writes a blank sheet that validates and, filled in, applies.
func TestListAndTemplate(t *testing.T) {
	parallelE2E(t)
	r := bulkprov(t, nil, "list", "--sim", "--hierarchy", "sys.hcs.CS-P.CS-NB.AAAGlobal", "roles")
	if r.code != 0 || !strings.Contains(r.stdout, "voss  AAAGlobalENTCustomerAdministrator\n") || !strings.Contains(r.stdout, "cupi  Help Desk Administrator\n") {
		t.Fatalf("list roles: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for what, want := range map[string]string{"hierarchies": "voss  sys.hcs.CS-P.CS-NB.AAAGlobal\n", "policies": "cupi  Default Credential Policy\n", "templates": "cupi  voicemailusertemplate\n"} {
		if r := bulkprov(t, nil, "list", "--sim", what); r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("list %s: exit %d\n%s%s", what, r.code, r.stdout, r.stderr)
		}
	}
	if r := bulkprov(t, nil, "list", "--sim", "rolez"); r.code != 2 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("list rolez: exit %d\n%s", r.code, r.stderr)
	}
	dir := t.TempDir()
	for _, m := range []string{"data/User", "relation/HcsAdminUserREL", "cupi/User", "cupi/AuthzServer"} {
		out := filepath.Join(dir, strings.ReplaceAll(m, "/", "_")+".xlsx")
		if r := bulkprov(t, nil, "template", m, "--out", out); r.code != 0 {
			t.Fatalf("template %s: exit %d\n%s", m, r.code, r.stderr)
		}
		if r := bulkprov(t, nil, "validate", out); r.code != 0 {
			t.Errorf("the blank %s sheet is not valid input:\n%s", m, r.stderr)
		}
	}
	wb := filepath.Join(dir, "data_User.xlsx")
	f, err := excelize.OpenFile(wb)
	if err != nil {
		t.Fatal(err)
	}
	header, _ := f.GetRows("data_User")
	if len(header) != 4 || header[2][0] != "Base" || !slices.Contains(header[3], "Account Information / Locked") {
		t.Fatalf("rows 1-4: %q", header)
	}
	row := make([]any, len(header[1]))
	for i, c := range header[1] {
		switch c {
		case "# Hierarchy Node":
			row[i] = "sys.hcs.CS-P.CS-NB.AAAGlobal"
		case "username":
			row[i] = "filled001"
		case "role":
			row[i] = "Help Desk Administrator"
		case "DtmfAccessId":
			row[i] = "800001"
		}
	}
	_ = f.SetSheetRow("data_User", "A5", &row)
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := bulkprov(t, nil, "apply", "--sim", wb); r.code != 0 || !strings.Contains(r.stdout, "1 row: 1 ok, 0 failed") {
		t.Fatalf("the filled template: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A JSON-zip input has no sheet layout, yet its failed rows come back as a
// bulk-load sheet: the replay without the secrets file fails the users
// whose security answers the server requires — already in the plan, as
// failed operations; the report workbook is valid input and, fed back with
// the answers, applies.
func TestFailedJSONItemsRefeed(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim := startSim(t, "--seed", "../../samples/tenant.xlsx")
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	zip := filepath.Join(dir, "users.zip")
	if r := bulkprov(t, creds, append([]string{"export", "--model", "data/User", "--hierarchy", "sys.hcs.CS-P.CS-NB.AAAGlobal", "--out", zip}, target...)...); r.code != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	cfg := []string{"--config", "../../samples/replay.json"}
	// The plan already knows: the missing answers are failed operations.
	r := bulkprov(t, creds, append(append(append([]string{"plan", "--quiet"}, target...), cfg...), zip)...)
	if r.code != 1 || !strings.Contains(r.stdout, "60 rows: 45 ok, 15 failed") || strings.Count(r.stdout, "security_questions.[0].answer: this field is required (a write-only value") != 15 {
		t.Fatalf("replay plan without answers: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	rx := filepath.Join(dir, "run.xlsx")
	r = bulkprov(t, creds, append(append(append([]string{"apply", "--report", rx}, target...), cfg...), zip)...)
	if r.code != 1 || !strings.Contains(r.stdout, "60 rows: 45 ok, 15 failed") {
		t.Fatalf("replay without answers: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	x, err := excelize.OpenFile(rx)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows(report.FailedSheet)
	x.Close()
	data := 0 // one block per hierarchy: entity row, names, two title rows, rows
	for _, r := range rows {
		if len(r) > 0 && strings.HasPrefix(r[0], "failed: ") {
			data++
		}
	}
	if data != 15 || !strings.HasPrefix(rows[0][0], "entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal") || rows[1][0] != "# Comment" ||
		!strings.Contains(rows[4][0], "security_questions.[0].answer: this field is required") {
		t.Fatalf("failed rows of a JSON zip: %d failed rows\n%q", data, rows[:min(len(rows), 5)])
	}
	if r := bulkprov(t, nil, "validate", rx); r.code != 0 {
		t.Fatalf("the report workbook is not valid input:\n%s", r.stderr)
	}
	r = bulkprov(t, creds, append(append(append([]string{"apply"}, target...), append(cfg, "--secrets", "../../samples/answers.csv")...), rx)...)
	if r.code != 0 || !strings.Contains(r.stdout, "15 rows: 15 ok, 0 failed") {
		t.Fatalf("re-fed with the answers: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
}
