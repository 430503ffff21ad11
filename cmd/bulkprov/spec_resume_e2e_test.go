package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli.md, "One account of a run": an operation an interrupted run did is
// counted as the create or update it was, "also for a resumed run". A
// password set whose answer the killed run never journaled is settled by
// the resume from TimeChanged (it landed); the fresh plan then sees it
// unchanged, and it was counted unchanged — a write of this run counted as
// nothing done. The journal here is the one a run killed after that set
// leaves: the set's outcome line and the completion line missing, and the
// state folder without the run's records (saved at the end of a run).
func TestResumedRunCountsSettledWriteAsDone(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	env := append([]string{"BULKPROV_STATE_DIR=" + state}, creds...)
	sim := startSim(t)
	wb := filepath.Join(dir, "users.xlsx")
	writeRows(t, wb, []userRow{baseUser(81), baseUser(82)})
	cp := filepath.Join(dir, "run.journal")
	rep := filepath.Join(dir, "run.json")
	args := []string{"apply", "--quiet", "--voss", sim.url, "--cupi", sim.url, "--checkpoint", cp, "--report", rep, wb}
	if r := bulkprov(t, env, args...); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	var kept [][]byte
	dropped := ""
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		var e struct{ Type, Op, Kind string }
		_ = json.Unmarshal(line, &e)
		if e.Type == "complete" || (dropped == "" && e.Type == "outcome" && e.Kind == "cupi/credential/password") {
			if e.Type == "outcome" {
				dropped = e.Op
			}
			continue
		}
		kept = append(kept, line)
	}
	if dropped == "" {
		t.Fatalf("no password outcome in the journal:\n%s", b)
	}
	if err := os.WriteFile(cp, bytes.Join(kept, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"applied-secrets.json", "written-values"} {
		os.Remove(filepath.Join(state, f))
	}
	r := bulkprov(t, env, args...)
	if r.code != 0 || !strings.Contains(r.stderr, "1 to verify") {
		t.Fatalf("resumed apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var doc struct {
		Operations []struct {
			ID, Kind, Action, Status string
		} `json:"operations"`
	}
	b, _ = os.ReadFile(rep)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, op := range doc.Operations {
		if op.Status != "done" {
			t.Errorf("%s %s: %s %s, want every operation of the run done (the resume settled the password set as landed)", op.ID, op.Kind, op.Action, op.Status)
		}
	}
	if !strings.Contains(r.stdout, " 0 unchanged.") {
		t.Errorf("resumed summary: %s", r.stdout)
	}
}

// cli.md, "One account of a run": rows not_run are "a row none of whose
// operations ran because its target was down or the run stopped", and
// every output shows the same counts. A VOSS down before the plan could be
// read (exit 3) left every output counting no rows at all: the JSON's
// rows.total 0, the metrics' rows 0, the audit's rows 0. Each input row is
// a row not run.
func TestTargetDownBeforePlanCountsRowsNotRun(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	env := append([]string{"BULKPROV_STATE_DIR=" + state}, creds...)
	sim := startSim(t)
	wb := filepath.Join(dir, "users.xlsx")
	writeRows(t, wb, []userRow{baseUser(95), baseUser(96), baseUser(97)})
	rep, prom := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.prom")
	r := bulkprov(t, env, "apply", "--quiet", "--retries", "1", "--voss", "http://127.0.0.1:1", "--cupi", sim.url,
		"--report", rep, "--metrics-file", prom, wb)
	if r.code != 3 {
		t.Fatalf("apply with VOSS down: exit %d, want 3\n%s", r.code, r.stderr)
	}
	var doc struct {
		Rows struct {
			Total  int `json:"total"`
			NotRun int `json:"not_run"`
		} `json:"rows"`
	}
	b, _ := os.ReadFile(rep)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Rows.Total != 3 || doc.Rows.NotRun != 3 {
		t.Errorf("JSON rows %+v, want 3 rows, 3 not run", doc.Rows)
	}
	if m, _ := os.ReadFile(prom); !strings.Contains(string(m), `bulkprov_last_run_rows{command="apply",status="not_run"} 3`) {
		t.Errorf("metrics rows:\n%s", m)
	}
	recs := auditLines(t, filepath.Join(state, "audit.jsonl"))
	if rows, _ := recs[len(recs)-1]["rows"].(map[string]any); rows == nil || rows["not_run"] != float64(3) {
		t.Errorf("audit rows %v, want 3 not run", recs[len(recs)-1]["rows"])
	}
}
