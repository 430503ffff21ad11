package main

import (
	"path/filepath"
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
