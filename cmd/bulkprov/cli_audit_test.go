package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli.md's synopsis is `export [TARGETS] --model MODEL --out FILE`: a VOSS
// model exports without --hierarchy (from --config's defaultHierarchy, else
// the whole tree), and the file round-trips through plan.
func TestExportVOSSWithoutHierarchy(t *testing.T) {
	dir := t.TempDir()
	sim := startSim(t, "--seed", "../../samples/tenant.xlsx")
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	for _, ext := range []string{".xlsx", ".zip"} {
		out := filepath.Join(dir, "users"+ext)
		r := bulkprov(t, creds, append([]string{"export", "--model", "data/User", "--out", out}, target...)...)
		if r.code != 0 {
			t.Fatalf("export %s without --hierarchy: exit %d\n%s", ext, r.code, r.stderr)
		}
		r = bulkprov(t, creds, append([]string{"plan", "--config", "../../samples/config.json"}, append(target, out)...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "0 to create, 0 to update, 0 to delete") || strings.Contains(r.stdout, " 0 unchanged") {
			t.Fatalf("plan of the export (%s): exit %d\n%s\n%s", ext, r.code, r.stdout, r.stderr)
		}
	}
}

// An apply refused with exit 2 ("nothing was written") leaves no journal
// behind: a --plan whose target changed since it was made.
func TestRefusedPlanLeavesNoCheckpoint(t *testing.T) {
	dir := t.TempDir()
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	plan := filepath.Join(dir, "plan.json")
	if r := bulkprov(t, creds, append([]string{"plan", "--out", plan}, append(target, "../../samples/tenant.xlsx")...)...); r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	// Someone else creates one of the planned users.
	if r := bulkprov(t, creds, append([]string{"apply", "--quiet", "--checkpoint", filepath.Join(dir, "other.journal")}, append(target, "../../samples/tenant.json.zip")...)...); r.code > 1 {
		t.Fatalf("drift: exit %d\n%s", r.code, r.stderr)
	}
	cp := filepath.Join(dir, "run.journal")
	r := bulkprov(t, creds, append([]string{"apply", "--plan", plan, "--checkpoint", cp}, target...)...)
	if r.code != 2 {
		t.Fatalf("apply --plan after drift: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(cp); err == nil {
		b, _ := os.ReadFile(cp)
		t.Fatalf("a refused apply (exit 2, nothing written) left its checkpoint %s behind:\n%s", cp, b)
	}
}
