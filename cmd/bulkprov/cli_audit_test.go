package main

import (
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
