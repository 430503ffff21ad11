package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/simserve"
)

// TestProxyFaultsAndVOSSThrottle drives apply against the simulator's
// stricter choices at once: writes committed and then answered 504 by a
// proxy, a VOSS throttle answering 503 without Retry-After, and a CUPI
// whose credential refusal is worded in a way nothing may key on. The run
// must finish with every row done, no duplicate create, and nothing left
// to do.
func TestProxyFaultsAndVOSSThrottle(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 30)
	sim := startSim(t, "--fail-after-commit", "0.1", "--fail-after-commit-status", "504",
		"--voss-rate-limit", "15", "--voss-throttle-status", "503", "--voss-throttle-retry-after", "0",
		"--cupi-reuse-message", "Opération refusée", "--fault-seed", "5")
	r := bulkprov(t, creds, "apply", "--voss", sim.url, "--cupi", sim.url, "--quiet", wb)
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	if d := simserve.Duplicates(sim.writes(t)); len(d) > 0 {
		t.Fatalf("duplicate creates: %v", d)
	}
	r = bulkprov(t, creds, "plan", "--voss", sim.url, "--cupi", sim.url, wb)
	if !strings.Contains(r.stdout, "0 to create, 0 to update, 0 to delete") {
		t.Fatalf("operations lost: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
}
