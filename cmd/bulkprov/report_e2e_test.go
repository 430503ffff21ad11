package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// A bad output path is found before any server is contacted: exit 2, no
// request reaches the simulator, and no file is left behind.
func TestBadOutputPathsExit2BeforeAnyRequest(t *testing.T) {
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
	Rows    struct{ Total, OK, Failed, Skipped int } `json:"rows"`
	Summary map[string]int                           `json:"summary"`
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
	if r.code == 0 || !strings.Contains(r.stderr, "no answer for 2s; still waiting") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

// Output levels: plan lists every change (--quiet: summary and failures);
// apply shows the summary and failures (--verbose: every change too);
// failures are never hidden.
func TestOutputLevels(t *testing.T) {
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
		if !strings.HasPrefix(e, "BULKPROV_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
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
