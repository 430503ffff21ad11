package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cli.md's synopsis is `export [TARGETS] --model MODEL --out FILE`: a VOSS
// model exports without --hierarchy (from --config's defaultHierarchy, else
// the whole tree), and the file round-trips through plan.
func TestExportVOSSWithoutHierarchy(t *testing.T) {
	parallelE2E(t)
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
	parallelE2E(t)
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

// An output named twice, or naming a file the run reads, is refused before
// any server is contacted: `plan --report users.xlsx users.xlsx` overwrote
// the input workbook, `--report r.json --checkpoint r.json` the journal.
func TestOutputsCollide(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "tenant.xlsx")
	copyFile(t, "../../samples/tenant.xlsx", wb)
	cfg := filepath.Join(dir, "config.json")
	copyFile(t, "../../samples/config.json", cfg)
	keep := map[string][]byte{}
	for _, f := range []string{wb, cfg} {
		keep[f], _ = os.ReadFile(f)
	}
	j := filepath.Join(dir, "run.json")
	for _, args := range [][]string{
		{"plan", "--sim", "--report", wb, wb},
		{"plan", "--sim", "--report", filepath.Join(dir, ".", "tenant.xlsx"), wb},
		{"plan", "--sim", "--config", cfg, "--report", cfg, wb},
		{"plan", "--sim", "--report", j, "--out", j, wb},
		{"apply", "--sim", "--report", j, "--checkpoint", j, wb},
		{"apply", "--sim", "--checkpoint", j, "--backout", j, wb},
		{"apply", "--sim", "--checkpoint", wb, wb},
	} {
		r := bulkprov(t, creds, args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args[1:], r.code, r.stderr)
		}
		for f, b := range keep {
			if now, _ := os.ReadFile(f); string(now) != string(b) {
				t.Fatalf("%v overwrote %s", args[1:], f)
			}
		}
		if _, err := os.Stat(j); err == nil {
			t.Fatalf("%v left %s behind", args[1:], j)
		}
	}
}

// doctor and export take [TARGETS] in cli.md: the target flags of its
// Targets section (--state-dir, --workers, --voss-rate) are accepted, so
// one set of target flags serves every command.
func TestTargetFlagsOnDoctorAndExport(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim := startSim(t, "--seed", "../../samples/tenant.xlsx")
	common := []string{"--voss", sim.url, "--cupi", sim.url, "--state-dir", filepath.Join(dir, "state"), "--workers", "3", "--voss-rate", "15"}
	r := bulkprov(t, creds, append([]string{"doctor", "--config", "../../samples/config.json"}, common...)...)
	if r.code != 1 { // 1: the plain-http warnings
		t.Errorf("doctor with the target flags: exit %d, want 1\n%s", r.code, r.stderr)
	}
	r = bulkprov(t, creds, append([]string{"export", "--model", "cupi/User", "--out", filepath.Join(dir, "cupi.xlsx")}, common...)...)
	if r.code != 0 {
		t.Errorf("export with the target flags: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); err == nil {
		t.Error("doctor or export wrote into --state-dir")
	}
}

// bulkprov sim requires "the credentials in the same environment variables
// the clients read": CUPI's from BULKPROV_CUPI_USER/_PASSWORD, not VOSS's,
// and a cluster's from BULKPROV_CUPI_<NAME>_USER/_PASSWORD where set.
func TestSimTakesEachTargetsCredentials(t *testing.T) {
	parallelE2E(t)
	env := []string{"BULKPROV_VOSS_USER=vossadmin", "BULKPROV_VOSS_PASSWORD=vpw-123", "BULKPROV_CUPI_USER=cucadmin", "BULKPROV_CUPI_PASSWORD=cpw-456",
		"BULKPROV_CUPI_AAA_USER=aaaadmin", "BULKPROV_CUPI_AAA_PASSWORD=apw-789"}
	cmd := exec.Command(binary, "sim", "--listen", "127.0.0.1:0", "--cupi-clusters", "aaa,bbb", "--seed", "../../samples/tenant.xlsx")
	cmd.Env = testEnv(t, env...)
	stdout, _ := cmd.StdoutPipe()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(urls) < 4 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		urls[k] = v
	}
	if len(urls) < 4 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("sim printed %v\n%s", urls, errb.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	cfg := filepath.Join(t.TempDir(), "c.json")
	_ = os.WriteFile(cfg, []byte(`{"cupiClusters":{"aaa":{"url":"`+urls["cupi.aaa"]+`","hierarchies":["sys.x.aaa"]},"bbb":{"url":"`+urls["cupi.bbb"]+`","hierarchies":["sys.x.bbb"]}}}`), 0o600)
	r := bulkprov(t, env, "doctor", "--voss", urls["voss"], "--cupi", urls["cupi"], "--config", cfg)
	for _, check := range []string{"voss.auth", "cupi.auth", "cupi[aaa].auth", "cupi[bbb].auth"} {
		if !strings.Contains(r.stdout, "ok  "+check+"  ") {
			t.Errorf("%s is not ok (exit %d):\n%s", check, r.code, r.stdout)
		}
	}
	// The simulator's stderr is read once it has exited: exec copies into
	// errb from its own goroutine while it runs.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !strings.Contains(errb.String(), "seeded from") || strings.Contains(errb.String(), "failed\n  ") {
		t.Errorf("seeding with the CUPI credentials:\n%s", errb.String())
	}
}

// sim refuses knob values outside what cli.md allows (rates 0..1), a
// cluster named twice, no slots, and stray arguments — exit 2 at once,
// instead of serving with a setting the checker never meant.
func TestSimRefusesBadKnobs(t *testing.T) {
	parallelE2E(t)
	for _, args := range [][]string{
		{"--fail-503", "1.5"},
		{"--fail-503", "-0.1"},
		{"--drop-after-commit", "2"},
		{"--fail-429", "NaN"},
		{"--cupi-clusters", "aaa,aaa"},
		{"--cupi-clusters", "aaa,AAA"},
		{"--cupi-slots", "0"},
		{"stray"},
		{"--state", "/nonexistent-folder/sim.json"},
	} {
		// Serving is seen, not timed: the simulator prints its URLs
		// (voss=...) once it serves; a refusal exits 2 before that.
		cmd := exec.Command(binary, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
		cmd.Env = testEnv(t, creds...)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		served := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "voss=") {
					served <- sc.Text()
				}
			}
			close(served)
		}()
		line, serving := <-served
		if serving {
			_ = cmd.Process.Kill()
		}
		err = cmd.Wait()
		switch ee, ok := err.(*exec.ExitError); {
		case serving:
			t.Errorf("sim %v: serves (%s), want exit 2\n%s", args, line, errOut.String())
		case !ok || ee.ExitCode() != 2:
			t.Errorf("sim %v: %v, want exit 2\n%s", args, err, errOut.String())
		}
	}
}

// Target flags with values that mean nothing are bad usage (exit 2) before
// any server is contacted, not runs with a silent stand-in.
func TestTargetFlagValuesChecked(t *testing.T) {
	parallelE2E(t)
	for _, bad := range [][]string{
		{"--workers", "-1"},
		{"--voss-rate", "NaN"},
		{"--timeout", "-1s"},
		{"--retries", "-1"},
	} {
		r := bulkprov(t, creds, append(append([]string{"plan", "--sim"}, bad...), "../../samples/users.csv")...)
		if r.code != 2 || !strings.Contains(r.stderr, bad[0]) {
			t.Errorf("plan %v: exit %d, want 2 naming %s\n%s", bad, r.code, bad[0], r.stderr)
		}
	}
}
