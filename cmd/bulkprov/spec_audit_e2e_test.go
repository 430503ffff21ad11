package main

import (
	"encoding/json"
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
