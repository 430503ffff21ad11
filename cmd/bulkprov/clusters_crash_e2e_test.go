package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/simserve"
)

// crashTenants are the clusters of the crash test, each with its tenant's
// hierarchy and its DTMF prefix.
var crashTenants = []struct{ name, hierarchy, dtmf string }{
	{"aaa", "sys.hcs.CS-P.CS-NB.AAAGlobal", "71"},
	{"bbb", "sys.hcs.CS-P.CS-NB.BBBGlobal", "72"},
	{"ccc", "sys.hcs.CS-P.CS-NB.AAAGlobal.Site1", "73"}, // under aaa's prefix: the longest wins
}

// SIGKILL of `bulkprov apply` at seeded random moments while it writes to
// three Unity Connection clusters at once; the same command then resumes.
// On every cluster: nothing was created twice, nothing is missing (a plan
// of the same input has nothing to do), and no row reached a cluster other
// than its tenant's.
func TestClustersCrashResume(t *testing.T) {
	parallelE2E(t)
	kills := envInt("BULKPROV_CRASH_KILLS", 4)
	seed := uint64(envInt("BULKPROV_CRASH_SEED", 16))
	n := envInt("BULKPROV_CRASH_ROWS", 40) // rows per cluster
	dir := t.TempDir()
	names := make([]string, len(crashTenants))
	for i, c := range crashTenants {
		names[i] = c.name
	}
	// 4 ms per CUPI request at 5 slots: a cluster's 3 writes and its reads
	// per row take about a second for 40 rows, so the kills land mid-run.
	sim := startClusterSimArgs(t, names, "--cupi-service-time", "4ms", "--voss-service-time", "1ms")
	var inputs []string
	clusters := map[string]any{}
	for _, c := range crashTenants {
		p := filepath.Join(dir, c.name+".csv")
		var b strings.Builder
		fmt.Fprintf(&b, "\"entity: data/User; hierarchy: %s\"\n# Action,username,role,password,DtmfAccessId\n", c.hierarchy)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "add,%s%03d,Help Desk Administrator,Tenant-Pass-%03d,%s%03d\n", c.name, i, i, c.dtmf, i)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
		clusters[c.name] = map[string]any{"url": sim.clusters[c.name], "hierarchies": []string{c.hierarchy}}
	}
	cfg := filepath.Join(dir, "tenants.json")
	raw, _ := json.Marshal(map[string]any{"cupiClusters": clusters})
	if err := os.WriteFile(cfg, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	args := append([]string{"apply", "--voss", sim.url, "--config", cfg, "--voss-rate", "0", "--quiet"}, inputs...)
	creates := func() int {
		done := 0
		for _, c := range crashTenants {
			for k, v := range cupiWrites(t, sim.clusters[c.name]) {
				if strings.HasSuffix(k, ":create") || strings.HasSuffix(k, ":add") {
					done += v
				}
			}
		}
		return done
	}
	total := 2 * n * len(crashTenants) // the Unity Connection user and its role, per row
	rng := rand.New(rand.NewPCG(seed, seed))
	midRun := 0
	var progress []string // CUPI creates on all clusters after each kill
	midWrite := false
	for i := 0; i < kills; i++ {
		cmd := exec.Command(binary, args...)
		cmd.Env = testEnv(t, env...)
		if killSoon(t, cmd, i, rng, 100, 400, creates, total) {
			midRun++
		}
		done := creates()
		progress = append(progress, fmt.Sprint(done))
		midWrite = midWrite || (done > 0 && done < total)
	}
	if !midWrite {
		t.Fatalf("no kill landed while the clusters were written (creates after each kill: %v): the test proves nothing", progress)
	}
	report := filepath.Join(dir, "final.json")
	r := bulkprov(t, env, append([]string{args[0], "--report", report}, args[1:]...)...)
	if r.code != 0 {
		logFailed(t, report)
		t.Fatalf("final resume: exit %d\n%s", r.code, r.stderr)
	}
	var msgs []string
	for _, c := range crashTenants {
		w := cupiWrites(t, sim.clusters[c.name])
		creates := 0
		for k, v := range w {
			if strings.HasSuffix(k, ":create") || strings.HasSuffix(k, ":add") {
				creates += v
			}
			if !strings.Contains(k, c.name) {
				t.Errorf("cluster %s was written a row of another tenant: %s ×%d", c.name, k, v)
			}
		}
		dups := simserve.Duplicates(w)
		sort.Strings(dups)
		if len(dups) > 0 {
			t.Errorf("cluster %s: created twice: %v", c.name, dups)
		}
		if creates != 2*n {
			t.Errorf("cluster %s: %d creates, want %d (%d rows × user and role)", c.name, creates, 2*n, n)
		}
		if d := setTwice(w); len(d) > 0 {
			t.Errorf("cluster %s: credentials set twice: %v", c.name, d)
		}
		msgs = append(msgs, fmt.Sprintf("%s: %d creates, %d duplicates, %d credentials set twice", c.name, creates, len(dups), len(setTwice(w))))
	}
	if d := cupiWrites(t, sim.url); len(d) != 0 {
		t.Errorf("the default Unity Connection was written: %v", d)
	}
	if d := simserve.Duplicates(sim.writes(t)); len(d) > 0 {
		t.Errorf("VOSS: created twice: %v", d)
	}
	t.Logf("clusters crash harness: %d clusters × %d rows, kills %d (mid-run %d, CUPI creates after each: %s); %s", len(crashTenants), n, kills, midRun, strings.Join(progress, " "), strings.Join(msgs, "; "))
	r = bulkprov(t, env, append([]string{"plan", "--voss", sim.url, "--config", cfg}, inputs...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "0 to create, 0 to update, 0 to delete") {
		t.Fatalf("state after resume differs from an uninterrupted run: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
}
