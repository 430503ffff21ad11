package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli.md, "Approval and audit": every plan, apply and approve — also one
// refused before any request — appends a line with at least time, user,
// host, command, targets, inputs, plan_sha256, approvers, backout, rows,
// exit and prev. A plan without --out, an apply refused for its --report
// and a plain apply each carry every field (empty where the run had none).
func TestAuditRecordCarriesEveryField(t *testing.T) {
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	log := filepath.Join(dir, "audit.jsonl")
	runs := []struct {
		want int
		args []string
	}{
		{0, []string{"plan", "--sim", "--quiet", "--audit-log", log, "../../samples/tenant.xlsx"}},
		{2, []string{"apply", "--sim", "--quiet", "--audit-log", log, "--report", filepath.Join(dir, "r.pdf"), "../../samples/tenant.xlsx"}},
		{0, []string{"apply", "--sim", "--quiet", "--audit-log", log, "../../samples/tenant.xlsx"}},
	}
	for _, run := range runs {
		if r := bulkprov(t, env, run.args...); r.code != run.want {
			t.Fatalf("%v: exit %d, want %d\n%s", run.args, r.code, run.want, r.stderr)
		}
	}
	recs := auditLines(t, log)
	if len(recs) != len(runs) {
		t.Fatalf("%d audit records, want %d", len(recs), len(runs))
	}
	fields := []string{"time", "user", "host", "command", "targets", "inputs", "plan_sha256", "approvers", "backout", "rows", "exit", "prev"}
	for i, rec := range recs {
		for _, f := range fields {
			if v, ok := rec[f]; !ok || v == nil {
				t.Errorf("record %d (%v, exit %v) has no %q: %v", i+1, rec["command"], rec["exit"], f, rec)
			}
		}
		if rows, ok := rec["rows"].(map[string]any); !ok || rows["total"] == nil {
			t.Errorf("record %d: rows %v, want an object with total", i+1, rec["rows"])
		}
	}
}

// cli.md, "One account of a run": a run refused before any request (exit
// 2) still writes its --report, naming what was wrong — in every format:
// the CSV names the input problems too (it held only its header row), and
// the JSON's run.inputs stays a list (it was null).
func TestRefusedRunReportNamesWhatWasWrong(t *testing.T) {
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	csvPath, jsonPath := filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.json")
	r := bulkprov(t, env, "apply", "--sim", "--quiet", "--report", csvPath, "--report", jsonPath, "../../samples/bad/errors.xlsx")
	if r.code != 2 {
		t.Fatalf("apply of an invalid workbook: exit %d, want 2\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "emial") || !strings.Contains(string(b), "problem(s) in the input") {
		t.Errorf("the CSV report of a refused run does not name what was wrong:\n%s", b)
	}
	var doc struct {
		Run struct {
			Inputs []any `json:"inputs"`
			Exit   int   `json:"exit"`
		} `json:"run"`
	}
	b, _ = os.ReadFile(jsonPath)
	if err := json.Unmarshal(b, &doc); err != nil || doc.Run.Exit != 2 {
		t.Fatalf("JSON report: %v, exit %d", err, doc.Run.Exit)
	}
	if doc.Run.Inputs == nil {
		t.Errorf("run.inputs is null in the JSON report of a refused run, want a list")
	}
}

// cli.md: a bad --out, --backout or --checkpoint is exit 2 before any
// server is contacted, and "a run refused before any request (exit 2)
// still writes its --report, naming what was wrong": the --report of such
// a run was not written at all. A --report that names a file the run
// reads is never written over.
func TestRefusedForAnOutputPathStillWritesReport(t *testing.T) {
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	wb := filepath.Join(dir, "users.xlsx")
	writeRows(t, wb, []userRow{baseUser(91)})
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"plan", "--out", filepath.Join(dir, "plan.txt")}, "--out"},
		{[]string{"plan", "--formulas", "bogus"}, "--formulas"},
		{[]string{"apply", "--backout", filepath.Join(dir, "nope", "b.json")}, "--backout"},
		{[]string{"apply", "--checkpoint", filepath.Join(dir, "nope", "run.journal")}, "--checkpoint"},
		{[]string{"apply", "--keep", "-1"}, "--keep"},
	}
	for i, c := range cases {
		rep := filepath.Join(dir, fmt.Sprintf("r%d.json", i))
		csvRep := filepath.Join(dir, fmt.Sprintf("r%d.csv", i))
		args := append(append([]string{}, c.args...), "--sim", "--quiet", "--report", rep, "--report", csvRep, wb)
		r := bulkprov(t, env, args...)
		if r.code != 2 {
			t.Fatalf("%v: exit %d, want 2\n%s", c.args, r.code, r.stderr)
		}
		b, err := os.ReadFile(rep)
		if err != nil {
			t.Errorf("%v: refused (exit 2) without writing its --report: %v", c.args, err)
			continue
		}
		var doc struct {
			Run struct {
				Exit  int    `json:"exit"`
				Error string `json:"error"`
			} `json:"run"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || doc.Run.Exit != 2 || !strings.Contains(doc.Run.Error, c.says) {
			t.Errorf("%v: report run %+v (%v), want exit 2 naming %s", c.args, doc.Run, err, c.says)
		}
		if b, _ := os.ReadFile(csvRep); !strings.Contains(string(b), c.says) {
			t.Errorf("%v: CSV report does not name %s:\n%s", c.args, c.says, b)
		}
	}
	// A report over a file the run reads: refused, and the file is intact.
	cfg := filepath.Join(dir, "config.json")
	os.WriteFile(cfg, []byte(`{"defaultHierarchy": "sys.hcs.CS-P.CS-NB.AAAGlobal"}`), 0o600)
	before, _ := os.ReadFile(cfg)
	if r := bulkprov(t, env, "apply", "--sim", "--quiet", "--config", cfg, "--report", cfg, wb); r.code != 2 {
		t.Fatalf("--report over --config: exit %d\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(cfg); !bytes.Equal(before, after) {
		t.Errorf("--report over --config wrote it:\n%s", after)
	}
}
