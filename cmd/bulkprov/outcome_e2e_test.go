package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/simserve"
)

// reportOps reads the operations of a JSON run report.
func reportOps(t *testing.T, path string) []struct{ Kind, Key, Status, Error string } {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Ops []struct{ Kind, Key, Status, Error string } `json:"operations"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Ops
}

// setTwice lists the credentials the simulator saw set more than once.
func setTwice(writes map[string]int) []string {
	var out []string
	for k, v := range writes {
		if strings.Contains(k, "cupi/credential:") && v > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", k, v))
		}
	}
	return out
}

// The crash × fault matrix of issue 11: SIGKILL at random moments while
// the simulator loses answers after commit, answers 502 after commit
// (a proxy), refuses reused passwords in wording no client matches, and
// fails one key with 500 on every write. The end state is exact, with no
// duplicate write, no credential set twice and no false failure: the
// final run exits 1 for the always-failing key only.
func TestCrashFaultMatrix(t *testing.T) {
	parallelE2E(t)
	kills := envInt("BULKPROV_CRASH_KILLS", 4)
	seed := uint64(envInt("BULKPROV_CRASH_SEED", 11))
	n := envInt("BULKPROV_CRASH_ROWS", 100)
	const bad = "crash00007"
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, n)
	for _, status := range []string{"502", "504"} {
		t.Run(status, func(t *testing.T) {
			t.Parallel() // its own simulator and state folder
			sim := startSim(t, "--drop-after-commit", "0.05", "--fail-after-commit", "0.05", "--fail-after-commit-status", status,
				"--fail-keys", bad+"=500", "--cupi-reuse-message", "Anmeldeinformationen entsprechen nicht der Richtlinie",
				"--cupi-service-time", "2ms", "--voss-service-time", "1ms", "--fault-seed", fmt.Sprint(seed))
			env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state-"+status)}, creds...)
			target := []string{"--voss", sim.url, "--cupi", sim.url, "--quiet", "--retries", "4"}
			rng := rand.New(rand.NewPCG(seed, seed))
			total := 3 * n // VOSS user, CUPI user, CUPI role per row
			var progress []string
			for i := 0; i < kills; i++ {
				cmd := exec.Command(binary, append([]string{"apply"}, append(target, wb)...)...)
				cmd.Env = testEnv(t, env...)
				killSoon(t, cmd, i, rng, 80, 400, func() int { return creates(sim.writes(t)) }, total)
				progress = append(progress, fmt.Sprint(creates(sim.writes(t))))
			}
			midWrite(t, progress, total)
			report := filepath.Join(dir, "final-"+status+".json")
			r := bulkprov(t, env, append([]string{"apply", "--report", report}, append(target, wb)...)...)
			if r.code != 1 {
				logFailed(t, report)
				t.Fatalf("final run: exit %d, want 1 (the always-failing key only)\n%s", r.code, r.stderr)
			}
			for _, op := range reportOps(t, report) {
				if op.Status == "failed" && !strings.Contains(op.Key, bad) {
					t.Errorf("false failure: %s %s: %s", op.Kind, op.Key, op.Error)
				}
			}
			writes := sim.writes(t)
			committed, sets := 0, 0
			for k, v := range writes {
				committed += v
				if strings.Contains(k, "cupi/credential:") {
					sets += v
				}
			}
			t.Logf("matrix %s: rows %d, kills %d (creates after each: %s), committed writes %d (credential sets %d), duplicates %d, set twice %d",
				status, n, kills, strings.Join(progress, " "), committed, sets, len(simserve.Duplicates(writes)), len(setTwice(writes)))
			if d := simserve.Duplicates(writes); len(d) > 0 {
				t.Errorf("duplicate creates: %v", d)
			}
			if d := setTwice(writes); len(d) > 0 {
				t.Errorf("credentials set twice: %v", d)
			}
			// Exact: a plan of the same sheet has nothing to do but the bad row.
			r = bulkprov(t, env, "plan", "--voss", sim.url, "--cupi", sim.url, wb)
			for _, line := range strings.Split(r.stdout, "\n") {
				if (strings.HasPrefix(strings.TrimSpace(line), "+ ") || strings.HasPrefix(strings.TrimSpace(line), "~ ")) && !strings.Contains(line, bad) {
					t.Errorf("not applied after the matrix: %s", line)
				}
			}
		})
	}
}

// A nightly import from tonight's folder, with the URLs spelt another way,
// is the same run against the same servers: nothing is written the second
// time (a real Unity Connection would refuse every password as reused).
func TestNightlyFromAnotherFolderWritesNothing(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	monday, tuesday := filepath.Join(dir, "2026-11-23"), filepath.Join(dir, "2026-11-24")
	for _, d := range []string{monday, tuesday} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeUsers(t, filepath.Join(monday, "nightly.xlsx"), 20)
	copyFile(t, filepath.Join(monday, "nightly.xlsx"), filepath.Join(tuesday, "nightly.xlsx"))
	sim := startSim(t)
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	r := bulkprov(t, env, "apply", "--voss", sim.url, "--cupi", sim.url, "--quiet", filepath.Join(monday, "nightly.xlsx"))
	if r.code != 0 {
		t.Fatalf("first night: exit %d\n%s", r.code, r.stderr)
	}
	before := sim.writes(t)
	other := strings.Replace(sim.url, "http://", "HTTP://", 1) + "/"
	r = bulkprov(t, env, "apply", "--voss", other, "--cupi", sim.url+"/", filepath.Join(tuesday, "nightly.xlsx"))
	if r.code != 0 {
		t.Fatalf("second night: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after := sim.writes(t)
	for k, v := range after {
		if v != before[k] {
			t.Errorf("second night wrote %s (%d → %d)", k, before[k], v)
		}
	}
}

// Wrong credentials exit 4 with no advice to resume, and leave nothing
// that stands in the way of the same sheet against another server.
func TestAccessRefusedExits4(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 3)
	a, b := startSim(t), startSim(t)
	env := []string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}
	wrong := append(append([]string(nil), env...), "BULKPROV_VOSS_USER=sim-admin", "BULKPROV_VOSS_PASSWORD=wrong-password-1",
		"BULKPROV_CUPI_USER=sim-admin", "BULKPROV_CUPI_PASSWORD=wrong-password-1")
	for _, cmd := range []string{"plan", "apply"} {
		r := bulkprov(t, wrong, cmd, "--voss", a.url, "--cupi", a.url, wb)
		if r.code != 4 || strings.Contains(r.stderr, "resume") || strings.Contains(r.stdout+r.stderr, "wrong-password-1") {
			t.Fatalf("%s with wrong credentials: exit %d (want 4, no resume hint, no password)\n%s", cmd, r.code, r.stderr)
		}
	}
	r := bulkprov(t, append(env, creds...), "apply", "--voss", b.url, "--cupi", b.url, "--quiet", wb)
	if r.code != 0 {
		t.Fatalf("the same sheet against another server: exit %d\n%s", r.code, r.stderr)
	}
	r = bulkprov(t, append(env, creds...), "apply", "--voss", a.url, "--cupi", a.url, "--quiet", wb)
	if r.code != 0 || strings.Contains(r.stderr, "resuming") {
		t.Fatalf("after fixing the credentials: exit %d\n%s", r.code, r.stderr)
	}
}

// Ctrl-C while plan reads the state prints no plan and exits 3.
func TestInterruptedPlanExits3(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 80)
	sim := startSim(t, "--cupi-service-time", "50ms")
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	if r := bulkprov(t, env, "apply", "--voss", sim.url, "--cupi", sim.url, "--quiet", wb); r.code != 0 {
		t.Fatalf("setup: exit %d\n%s", r.code, r.stderr)
	}
	cmd := exec.Command(binary, "plan", "--voss", sim.url, "--cupi", sim.url, wb)
	cmd.Env = testEnv(t, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	before := sim.requests(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once its first request reached the server, plan reads the state (a
	// fixed pause could land before bulkprov had set up its handling of
	// SIGINT: "signal: interrupt", seen on a loaded machine).
	sim.waitRequests(t, before+1)
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 || strings.Contains(out.String(), "to create") {
		t.Fatalf("interrupted plan: %v, want exit 3 and no plan\nstdout:\n%s\nstderr:\n%s", err, tail(out.String()), errb.String())
	}
}
