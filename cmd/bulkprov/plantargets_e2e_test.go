package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A saved plan is applied to the targets it was planned against: a plan
// made against one VOSS/CUPI pair and applied with --voss/--cupi naming
// another is refused before any request (exit 2), naming both; the same
// targets spelled another way (scheme case, trailing slash) are the same.
func TestApplyPlanToOtherTargetsRefused(t *testing.T) {
	a, b := startSim(t), startSim(t)
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	planFile := filepath.Join(dir, "plan.json")
	csv := "../../samples/tenant.xlsx"
	if r := bulkprov(t, env, "plan", "--voss", a.url, "--cupi", a.url, "--out", planFile, csv); r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	before := b.requests(t)
	r := bulkprov(t, env, "apply", "--quiet", "--plan", planFile, "--voss", b.url, "--cupi", b.url, csv)
	if r.code != 2 {
		t.Fatalf("apply --plan against other targets: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, a.url) || !strings.Contains(r.stderr, b.url) {
		t.Errorf("the refusal does not name both targets:\n%s", r.stderr)
	}
	if n := b.requests(t) - before; n != 0 {
		t.Errorf("the refused apply sent %d request(s) to the other target", n)
	}
	if w := b.writes(t); len(w) != 0 {
		t.Errorf("the other target was written: %v", w)
	}

	// The plan's own targets, spelled otherwise, are accepted.
	same := strings.Replace(a.url, "http://", "HTTP://", 1) + "/"
	if r := bulkprov(t, env, "apply", "--quiet", "--plan", planFile, "--voss", same, "--cupi", a.url, csv); r.code != 0 {
		t.Fatalf("apply --plan against its own targets spelled otherwise: exit %d\n%s", r.code, r.stderr)
	}
}
