package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/targets/simserve"
)

var update = flag.Bool("update", false, "rewrite golden files")

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "bulkprov-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "bulkprov")
	// The runs of the tests keep their state (applied secrets, checkpoints)
	// here, never in the home folder; a test that needs its own sets it.
	os.Setenv("BULKPROV_STATE_DIR", filepath.Join(dir, "state"))
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "xdg-state")) // should a test clear the one above
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	// The tests marked parallelE2E wait on their simulators' service
	// times, retries and back-offs far more than they compute: unless
	// -parallel says otherwise, up to 6 of them run at once (the default,
	// GOMAXPROCS, is 2 on the CI machine).
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "6")
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ownStates holds the state folder of each test marked parallelE2E, by
// top-level test name.
var ownStates sync.Map

// parallelE2E marks an end-to-end test that runs beside the others (it
// waits on its own simulators more than it computes) and gives it a state
// folder of its own: testEnv hands it to every bulkprov the test runs
// (an env's own BULKPROV_STATE_DIR still wins). On the package's shared
// folder, parallel runs would wait on each other's lock and mix their
// checkpoints and audit records. Such a test must not change the
// process's environment, working folder or package state, nor listen on a
// port it chose.
func parallelE2E(t *testing.T) {
	t.Helper()
	t.Parallel()
	ownStates.Store(t.Name(), filepath.Join(t.TempDir(), "state"))
}

// testEnv is the environment of a bulkprov process of test t: this
// process's, the test's own state folder when it has one, then env.
func testEnv(t *testing.T, env ...string) []string {
	top, _, _ := strings.Cut(t.Name(), "/")
	out := os.Environ()
	if d, ok := ownStates.Load(top); ok {
		out = append(out, "BULKPROV_STATE_DIR="+d.(string))
	}
	return append(out, env...)
}

type result struct {
	code           int
	stdout, stderr string
}

func bulkprov(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = testEnv(t, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// runHere is bulkprov args run by run, in this process: the binary's code
// without a process start. Only commands that keep to their own state
// (audit verify, validate) may run here beside other tests.
func runHere(args ...string) result {
	var out, errb bytes.Buffer
	code := run(args, streams{in: strings.NewReader(""), out: &out, err: &errb})
	return result{code, out.String(), errb.String()}
}

func TestValidateSamples(t *testing.T) {
	parallelE2E(t)
	// One at a time: the samples name the same users, which validate, as
	// plan, refuses across inputs given together.
	for _, s := range []string{"../../samples/tenant.xlsx", "../../samples/tenant.json.zip", "../../samples/users.csv"} {
		r := bulkprov(t, nil, "validate", s)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("validate %s: exit %d\n%s", s, r.code, r.stderr)
		}
	}
}

// Each file in samples/bad/ fails with exactly the lines of its .expected.
func TestValidateBadSamples(t *testing.T) {
	parallelE2E(t)
	golden, _ := filepath.Glob("../../samples/bad/*.expected")
	if len(golden) < 6 {
		t.Fatalf("only %d golden files", len(golden))
	}
	for _, g := range golden {
		input := strings.TrimSuffix(g, ".expected")
		t.Run(filepath.Base(input), func(t *testing.T) {
			rel := "samples/bad/" + filepath.Base(input)
			cmd := exec.Command(binary, "validate", rel)
			cmd.Dir = "../.."
			var errb bytes.Buffer
			cmd.Stderr = &errb
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2", err)
			}
			if *update {
				_ = os.WriteFile(g, errb.Bytes(), 0o644)
				return
			}
			want, _ := os.ReadFile(g)
			if errb.String() != string(want) {
				t.Errorf("stderr:\n%s\nwant:\n%s", errb.String(), want)
			}
		})
	}
}

// simProc is `bulkprov sim` running in its own process.
type simProc struct {
	cmd *exec.Cmd
	url string
}

func startSim(t *testing.T, args ...string) *simProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = testEnv(t, creds...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	s := &simProc{cmd: cmd}
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "voss="); ok {
			s.url = v
		}
		if strings.HasPrefix(sc.Text(), "cupi=") {
			break
		}
	}
	if s.url == "" {
		t.Fatal("sim printed no URL")
	}
	go io.Copy(io.Discard, stdout)
	t.Cleanup(s.stop)
	return s
}

func (s *simProc) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		_ = s.cmd.Wait()
	}
}

func (s *simProc) writes(t *testing.T) map[string]int {
	t.Helper()
	return simWrites(t, http.DefaultClient, s.url)
}

// simWrites reads both simulators' write counters at url through hc, keys
// prefixed by the counter's path.
func simWrites(t *testing.T, hc *http.Client, url string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, p := range []string{"/sim/voss/writes", "/sim/cupi/writes"} {
		req, _ := http.NewRequest("GET", url+p, nil)
		req.SetBasicAuth("sim-admin", "sim-admin-Secret-9")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]int
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		for k, v := range m {
			out[p+" "+k] = v
		}
	}
	return out
}

var creds = []string{
	"BULKPROV_VOSS_USER=sim-admin", "BULKPROV_VOSS_PASSWORD=sim-admin-Secret-9",
	"BULKPROV_CUPI_USER=sim-admin", "BULKPROV_CUPI_PASSWORD=sim-admin-Secret-9",
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// workbookSecrets lists every secret cell of the sample workbook.
func workbookSecrets(t *testing.T, path string) []string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	for _, sheet := range f.GetSheetList() {
		rows, _ := f.GetRows(sheet)
		if len(rows) < 2 {
			continue
		}
		for c, name := range rows[1] {
			l := strings.ToLower(name)
			if strings.HasSuffix(l, "password") || strings.HasSuffix(l, "pin") || strings.HasSuffix(l, "answer") {
				for _, r := range rows[4:] {
					if c < len(r) && r[c] != "" {
						out = append(out, r[c])
					}
				}
			}
		}
	}
	return out
}

// The main job end to end: apply the sample tenant, re-plan to zero, edit
// one cell and see exactly that change; no output holds a secret.
func TestApplyReplanEditAndNoSecrets(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "tenant.xlsx")
	copyFile(t, "../../samples/tenant.xlsx", wb)
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	var outputs []string
	run := func(want int, args ...string) result {
		t.Helper()
		r := bulkprov(t, creds, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, r.code, want, r.stdout, r.stderr)
		}
		return r
	}
	plan := filepath.Join(dir, "plan.json")
	r := run(0, append([]string{"plan", "--out", plan, "--report", filepath.Join(dir, "plan.html")}, append(target, wb)...)...)
	if !strings.Contains(r.stdout, "Operations: 199 to create, 92 to update, 0 to delete, 0 unchanged, 0 failed.") {
		t.Fatalf("first plan:\n%s", tail(r.stdout))
	}
	reports := []string{"run.json", "run.csv", "run.xlsx", "run.html"}
	run(0, append([]string{"apply", "--plan", plan, "--report", filepath.Join(dir, reports[0])}, target...)...)
	for _, rep := range reports[1:] {
		r = run(0, append([]string{"plan", "--report", filepath.Join(dir, rep)}, append(target, wb)...)...)
	}
	if !strings.Contains(r.stdout, "Operations: 0 to create, 0 to update, 0 to delete, 291 unchanged, 0 failed.") {
		t.Fatalf("re-plan after apply is not empty:\n%s", tail(r.stdout))
	}
	var rep struct {
		Summary map[string]int `json:"summary"`
		Ops     []struct {
			Status string `json:"status"`
			Source struct {
				File string `json:"file"`
				Row  int    `json:"row"`
			} `json:"source"`
		} `json:"operations"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "run.json"))
	if err := json.Unmarshal(b, &rep); err != nil || rep.Summary["done"] != 291 || len(rep.Ops) != 291 || rep.Ops[0].Source.Row == 0 {
		t.Fatalf("run.json: %v %+v", err, rep.Summary)
	}
	// Edit one cell: exactly one field change is planned.
	f, err := excelize.OpenFile(wb)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.SetCellValue("data_User", "F7", "Changed")
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r = run(0, append([]string{"plan"}, append(target, wb)...)...)
	if !strings.Contains(r.stdout, "Operations: 0 to create, 1 to update, 0 to delete, 290 unchanged, 0 failed.") ||
		!strings.Contains(r.stdout, `→ "Changed"`) || strings.Count(r.stdout, "→") != 1 {
		t.Fatalf("one-cell edit:\n%s", r.stdout)
	}
	// A plan whose target changed since it was made is refused, nothing written.
	before := sim.writes(t)
	run(2, append([]string{"apply", "--plan", plan}, target...)...)
	if after := sim.writes(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a refused plan wrote something")
	}
	// No byte bulkprov wrote holds a secret or the admin password.
	secrets := append(workbookSecrets(t, "../../samples/tenant.xlsx"), "sim-admin-Secret-9")
	if len(secrets) < 60 {
		t.Fatalf("only %d secrets found in the sample", len(secrets))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	journals, _ := filepath.Glob(filepath.Join(dir, ".bulkprov", "*"))
	for _, p := range append(files, journals...) {
		if p == wb {
			continue
		}
		b, _ := os.ReadFile(p)
		outputs = append(outputs, string(b))
		if st, _ := os.Stat(p); st.Mode().Perm()&0o077 != 0 && !strings.HasSuffix(p, ".xlsx") || (strings.HasSuffix(p, "run.xlsx") && st.Mode().Perm() != 0o600) {
			t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	all := strings.Join(outputs, "\n")
	for _, s := range secrets {
		if containsSecret(all, s) {
			i := strings.Index(all, s)
			t.Errorf("secret %q appears in bulkprov's output: …%s…", s[:3]+"…", all[max(0, i-80):i])
		}
	}
	xlsxText := unzipText(t, filepath.Join(dir, "run.xlsx"))
	for _, s := range secrets {
		if containsSecret(xlsxText, s) {
			t.Errorf("secret %q appears in the xlsx report", s[:3]+"…")
		}
	}
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

func unzipText(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("unzip", "-p", path).Output()
	if err != nil {
		t.Skip("unzip not available")
	}
	return string(out)
}

// writeUsers writes a data/User workbook of n users.
func writeUsers(t *testing.T, path string, n int) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal"},
		{"# Action", "username", "role", "password", "account_information.locked", "DtmfAccessId"},
		{}, {},
	}
	for i := 0; i < n; i++ {
		rows = append(rows, []any{"add", fmt.Sprintf("crash%05d", i), "Help Desk Administrator", fmt.Sprintf("Crash-Pass-%05d", i), i%2 == 0, fmt.Sprintf("9%05d", i)})
	}
	for i, r := range rows {
		ref, _ := excelize.CoordinatesToCellName(1, i+1)
		_ = f.SetSheetRow("Sheet1", ref, &r)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func (s *simProc) requests(t *testing.T) int {
	t.Helper()
	n := 0
	for _, p := range []string{"/sim/voss/stats", "/sim/cupi/stats"} {
		resp, err := http.Get(s.url + p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]int
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		n += m["requests"]
	}
	return n
}

// waitRequests waits until the simulators counted n requests, or 30 s.
func (s *simProc) waitRequests(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if s.requests(t) >= n {
			return
		}
	}
	t.Fatalf("the simulators at %s never counted %d requests", s.url, n)
}

// creates counts the creates among a simulator's writes.
func creates(writes map[string]int) int {
	n := 0
	for k, v := range writes {
		if strings.HasSuffix(k, ":create") || strings.HasSuffix(k, ":add") {
			n += v
		}
	}
	return n
}

// killSoon starts cmd and SIGKILLs it at a seeded random moment: on even
// kills (i) after a pause of lo+[0, spread) ms, which may land while the
// run reads the state or before it has started; on odd kills after a
// random number of further creates (done counts them), up to half of
// those still to come of total: it lands while the targets are written,
// however loaded the machine is. It reports whether the run was killed
// before it finished.
func killSoon(t *testing.T, cmd *exec.Cmd, i int, rng *rand.Rand, lo, spread int, done func() int, total int) bool {
	t.Helper()
	exited := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { exited <- cmd.Wait() }()
	if i%2 == 0 {
		select {
		case <-time.After(time.Duration(lo+rng.IntN(spread)) * time.Millisecond):
		case err := <-exited:
			exited <- err
		}
	} else {
		before := done()
		at := before + 1 + rng.IntN(max(1, (total-before)/2))
	wait:
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && done() < at; {
			select {
			case err := <-exited:
				exited <- err
				break wait
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	_ = cmd.Process.Kill()
	return <-exited != nil
}

// midWrite fails a crash harness none of whose kills landed while the
// targets were written (progress: the creates after each kill).
func midWrite(t *testing.T, progress []string, total int) {
	t.Helper()
	for _, p := range progress {
		if n, _ := strconv.Atoi(p); n > 0 && n < total {
			return
		}
	}
	t.Fatalf("no kill landed while the targets were written (creates after each kill: %v of %d): the test proves nothing", progress, total)
}

// The crash harness: kill apply with SIGKILL at seeded random moments,
// resume until it completes, and compare with an uninterrupted run: same
// final state, no duplicate writes, nothing lost. Runnable by hand:
//
//	BULKPROV_CRASH_KILLS=100 BULKPROV_CRASH_SEED=42 BULKPROV_CRASH_ROWS=2000 \
//	    go test ./cmd/bulkprov -run TestCrashResume -v -timeout 60m
func TestCrashResume(t *testing.T) {
	parallelE2E(t)
	kills := envInt("BULKPROV_CRASH_KILLS", 4)
	seed := uint64(envInt("BULKPROV_CRASH_SEED", 7))
	n := envInt("BULKPROV_CRASH_ROWS", 150)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, n)
	simArgs := []string{"--cupi-service-time", "2ms", "--voss-service-time", "1ms"}

	clean := startSim(t, simArgs...)
	if r := bulkprov(t, creds, "apply", "--voss", clean.url, "--cupi", clean.url, "--quiet", "--checkpoint", filepath.Join(dir, "clean.journal"), wb); r.code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", r.code, r.stderr)
	}
	sim := startSim(t, simArgs...)
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--quiet"}
	rng := rand.New(rand.NewPCG(seed, seed))
	survived := 0
	total := 3 * n // VOSS user, CUPI user, CUPI role per row
	var progress []string
	for i := 0; i < kills; i++ {
		cmd := exec.Command(binary, append([]string{"apply"}, append(target, wb)...)...)
		cmd.Env = testEnv(t, creds...)
		if killSoon(t, cmd, i, rng, 60, 300, func() int { return creates(sim.writes(t)) }, total) {
			survived++ // it was killed (not finished yet)
		}
		progress = append(progress, fmt.Sprint(creates(sim.writes(t))))
	}
	midWrite(t, progress, total)
	r := bulkprov(t, creds, append([]string{"apply", "--report", filepath.Join(dir, "final.json")}, append(target, wb)...)...)
	if r.code != 0 {
		logFailed(t, filepath.Join(dir, "final.json"))
		t.Fatalf("final resume: exit %d\n%s", r.code, r.stderr)
	}
	writes := sim.writes(t)
	dups := simserve.Duplicates(writes)
	lost := total - creates(writes)
	extra := sim.requests(t) - clean.requests(t)
	t.Logf("crash harness: rows %d, kills %d (of which mid-run %d; creates after each: %s), duplicates %d, lost %d, extra requests %d (%.1f%%)",
		n, kills, survived, strings.Join(progress, " "), len(dups), lost, extra, 100*float64(extra)/float64(clean.requests(t)))
	if len(dups) > 0 || lost != 0 {
		t.Fatalf("duplicates %v, lost %d", dups, lost)
	}
	r = bulkprov(t, creds, "plan", "--voss", sim.url, "--cupi", sim.url, wb)
	if !strings.Contains(r.stdout, "0 to create, 0 to update, 0 to delete") {
		t.Fatalf("state after resume differs from an uninterrupted run:\n%s", tail(r.stdout))
	}
}

// The simulators restart (state kept) in the middle of a run: the run
// either rides it out with retries or stops with exit 3 and resumes; the
// end state is right and nothing is duplicated.
func TestSimulatorRestart(t *testing.T) {
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 120)
	state := filepath.Join(dir, "sim.json")
	sim := startSim(t, "--state", state, "--cupi-service-time", "3ms")
	addr := strings.TrimPrefix(sim.url, "http://")
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--quiet"}
	cmd := exec.Command(binary, append([]string{"apply", "--report", filepath.Join(dir, "restart.json")}, append(target, wb)...)...)
	cmd.Env = testEnv(t, creds...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitWrites(t, sim.url, 5) // the restart lands mid-run
	sim.stop()
	time.Sleep(700 * time.Millisecond) // the simulators are down this long
	again := exec.Command(binary, "sim", "--listen", addr, "--state", state, "--cupi-service-time", "3ms")
	again.Env = testEnv(t, creds...)
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = again.Process.Signal(syscall.SIGTERM); _ = again.Wait() }()
	sim2 := &simProc{cmd: again, url: sim.url}
	waitErr := cmd.Wait()
	code := 0
	if ee, ok := waitErr.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 0 && code != 3 {
		logFailed(t, filepath.Join(dir, "restart.json"))
		t.Fatalf("apply across a restart: exit %d", code)
	}
	if code == 3 {
		if r := bulkprov(t, creds, append([]string{"apply"}, append(target, wb)...)...); r.code != 0 {
			t.Fatalf("resume after restart: exit %d\n%s", r.code, r.stderr)
		}
	}
	r := bulkprov(t, creds, "plan", "--voss", sim2.url, "--cupi", sim2.url, wb)
	if !strings.Contains(r.stdout, "0 to create, 0 to update, 0 to delete") {
		t.Fatalf("after restart: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	t.Logf("apply across a simulator restart: first run exit %d", code)
}

// Injected 503s, 429s and connections dropped after the write committed:
// the run ends with every row done, nothing duplicated, nothing lost.
func TestFaults(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 80)
	sim := startSim(t, "--fail-503", "0.15", "--fail-429", "0.05", "--retry-after", "0s", "--drop-after-commit", "0.1",
		"--spike-rate", "0.05", "--spike-factor", "10", "--cupi-service-time", "1ms", "--voss-service-time", "1ms", "--fault-seed", "3")
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	r := bulkprov(t, creds, append([]string{"apply", "--report", filepath.Join(dir, "r.json")}, append(target, wb)...)...)
	if r.code != 0 {
		t.Fatalf("apply under faults: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, "requests") {
			t.Logf("faults: %s", line)
		}
	}
	if d := simserve.Duplicates(sim.writes(t)); len(d) > 0 {
		t.Fatalf("duplicates under faults: %v", d)
	}
	r = bulkprov(t, creds, "plan", "--voss", sim.url, "--cupi", sim.url, wb)
	if !strings.Contains(r.stdout, "0 to create, 0 to update, 0 to delete") {
		t.Fatalf("lost operations under faults: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
}

func TestExitCodesAndUsage(t *testing.T) {
	parallelE2E(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no args", nil, 2, "Commands:"},
		{"help", []string{"--help"}, 0, "Exit codes"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"no target", []string{"plan", "../../samples/tenant.xlsx"}, 2, "no target"},
		{"cupi rows without --cupi", []string{"plan", "--voss", "http://127.0.0.1:1", "../../samples/tenant.xlsx"}, 2, "need a Unity Connection target"},
		{"unreachable", []string{"plan", "--voss", "http://127.0.0.1:1", "--cupi", "http://127.0.0.1:1", "--retries", "2", "../../samples/tenant.xlsx"}, 3, "unreachable"},
		{"bad config key", []string{"plan", "--sim", "--config", "testdata/typo-config.json", "../../samples/tenant.xlsx"}, 2, "unknown field"},
		{"invalid input", []string{"apply", "--sim", "../../samples/bad/errors.xlsx"}, 2, "nothing was planned or written"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bulkprov(t, creds, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", r.code, tc.code, tc.want, r.stdout, r.stderr)
			}
		})
	}
}

// containsSecret reports whether s occurs in text as itself: a numeric PIN
// inside a longer run of hex digits (a hash, a timestamp) does not count.
func containsSecret(text, s string) bool {
	if strings.Trim(s, "0123456789") != "" {
		return strings.Contains(text, s)
	}
	isHex := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	}
	for i := 0; ; {
		j := strings.Index(text[i:], s)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(s)
		if (j == 0 || !isHex(text[j-1])) && (end == len(text) || !isHex(text[end])) {
			return true
		}
		i = j + 1
	}
}

// Export every model from a seeded simulator, in both formats, and plan
// the export against the same simulator: nothing to change.
func TestExportRoundTrip(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim := startSim(t, "--seed", "../../samples/tenant.xlsx")
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	for _, model := range []string{"data/User", "relation/HcsAdminUserREL", "cupi/User", "cupi/AuthzServer"} {
		for _, ext := range []string{".xlsx", ".zip"} {
			out := filepath.Join(dir, strings.ReplaceAll(model, "/", "_")+ext)
			r := bulkprov(t, creds, append([]string{"export", "--model", model, "--hierarchy", "sys.hcs.CS-P.CS-NB.AAAGlobal", "--out", out}, target...)...)
			if r.code != 0 {
				t.Fatalf("export %s: exit %d\n%s", model, r.code, r.stderr)
			}
			r = bulkprov(t, creds, append([]string{"plan"}, append(target, out)...)...)
			if r.code != 0 || !strings.Contains(r.stdout, " 0 to create, 0 to update, 0 to delete") || strings.Contains(r.stdout, " 0 unchanged") {
				t.Errorf("plan of the %s export (%s): exit %d\n%s\n%s", model, ext, r.code, r.stdout, r.stderr)
			}
		}
	}
}

// SIGINT stops dispatching, lets requests in flight finish, exits 3 with
// a line saying how to resume; running the same command again finishes.
func TestInterruptAndResume(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 300)
	sim := startSim(t, "--cupi-service-time", "5ms")
	rj := filepath.Join(dir, "run.json")
	args := []string{"apply", "--voss", sim.url, "--cupi", sim.url, "--quiet", "--report", rj, wb}
	cmd := exec.Command(binary, args...)
	cmd.Env = testEnv(t, creds...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Mid-write, however loaded the machine (a fixed pause could land
	// before bulkprov handles SIGINT at all).
	waitWrites(t, sim.url, 5)
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 || !strings.Contains(errb.String(), "run the same command again to resume") {
		t.Fatalf("interrupted run: %v\n%s", err, errb.String())
	}
	first := readReport(t, rj)
	if first.Run.Exit != 3 || first.Rows.Total != 300 || first.Rows.NotRun == 0 {
		t.Fatalf("the interrupted run's report: exit %d, rows %+v", first.Run.Exit, first.Rows)
	}
	r := bulkprov(t, creds, args...)
	if r.code != 0 || !strings.Contains(r.stderr, "resuming from checkpoint") || !strings.Contains(r.stdout, "Apply: 300 rows: 300 ok, 0 failed.") {
		t.Fatalf("resume: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The resumed run's report covers the whole run: the work done before
	// the interruption is in it as done, not as unchanged.
	rep := readReport(t, rj)
	notDone := 0
	for _, op := range rep.Ops {
		if op.Status != "done" {
			notDone++
			if notDone < 5 {
				t.Logf("not done: %+v", op)
			}
		}
	}
	if rep.Rows.Total != 300 || rep.Rows.OK != 300 || notDone != 0 || rep.Summary["done"] != len(rep.Ops) {
		t.Fatalf("resumed report: rows %+v, %d of %d operations not done, summary %v", rep.Rows, notDone, len(rep.Ops), rep.Summary)
	}
	if d := simserve.Duplicates(sim.writes(t)); len(d) > 0 {
		t.Fatalf("duplicates: %v", d)
	}
}

// The README's worked example: export tenant A, plan it into tenant B with
// renames, apply, re-plan to zero.
func TestTenantReplay(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim := startSim(t, "--seed", "../../samples/tenant.xlsx")
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	var inputs []string
	for _, model := range []string{"data/User", "relation/HcsAdminUserREL"} {
		out := filepath.Join(dir, strings.ReplaceAll(model, "/", "_")+".zip")
		if r := bulkprov(t, creds, append([]string{"export", "--model", model, "--hierarchy", "sys.hcs.CS-P.CS-NB.AAAGlobal", "--out", out}, target...)...); r.code != 0 {
			t.Fatalf("export: %s", r.stderr)
		}
		inputs = append(inputs, out)
	}
	// Write-only values cannot be exported: a secrets side-file supplies
	// the security answers the server requires.
	side := filepath.Join(dir, "secrets.csv")
	var sb strings.Builder
	sb.WriteString("username,account_information.security_questions.[0].answer,account_information.security_questions.[1].answer\n")
	for i := 0; i < 60; i += 4 {
		fmt.Fprintf(&sb, "user%03d,pet-%d,town-%d\n", i+1, i, i)
	}
	_ = os.WriteFile(side, []byte(sb.String()), 0o600)
	cfg := []string{"--config", "../../samples/replay.json", "--secrets", side}
	args := func(cmd string, extra ...string) []string {
		return append(append(append(append([]string{cmd}, target...), cfg...), extra...), inputs...)
	}
	r := bulkprov(t, creds, args("plan", "--report", filepath.Join(dir, "replay.html"))...)
	if r.code != 0 || !strings.Contains(r.stdout, "Operations: 65 to create") || !strings.Contains(r.stdout, "sys.hcs.CS-P.CS-NB.BBBGlobal/user001") {
		t.Fatalf("replay plan: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	if r = bulkprov(t, creds, args("apply")...); r.code != 0 {
		t.Fatalf("replay apply: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	r = bulkprov(t, creds, args("plan")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Operations: 0 to create, 0 to update, 0 to delete") {
		t.Fatalf("re-plan after replay: exit %d\n%s", r.code, tail(r.stdout))
	}
	// Into a third tenant, with one-time passwords: each created user gets
	// one, flagged to change at first login, written only to the 0600 file.
	otp := filepath.Join(dir, "otp.csv")
	cfg3 := filepath.Join(dir, "replay3.json")
	_ = os.WriteFile(cfg3, []byte(`{"hierarchies": {"sys.hcs.CS-P.CS-NB.AAAGlobal": "sys.hcs.CS-P.CS-NB.BBBGlobal.Site1"}}`), 0o600)
	r = bulkprov(t, creds, append(append(append([]string{"apply"}, target...), "--config", cfg3, "--secrets", side, "--one-time-passwords", otp), inputs[0])...)
	if r.code != 1 { // the sample's Site1 users map to a node that does not exist
		t.Fatalf("one-time apply: exit %d\n%s", r.code, r.stderr)
	}
	st, err := os.Stat(otp)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("one-time file: %v", err)
	}
	b, _ := os.ReadFile(otp)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 41 || !strings.HasPrefix(lines[0], "hierarchy,username,one_time_password") {
		t.Fatalf("one-time file:\n%s", b)
	}
	pw := lines[1][strings.LastIndex(lines[1], ",")+1:]
	if len(pw) < 12 || strings.Contains(r.stdout+r.stderr, pw) {
		t.Fatalf("one-time password %q too short or printed", pw)
	}
}

// Property-style round trip: generated users (unicode names, optional
// fields left empty, arrays of security questions, booleans, dates) are
// applied, exported in both formats, and each export plans to zero changes.
func TestGeneratedRoundTrip(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(envInt("BULKPROV_PROPERTY_SEED", 11)), 1))
	names := []string{"Zoë", "Łukasz", "Søren", "李", "Ana María", "O'Brien", "Ñandú", "Đorđe", "Ülkü", "José"}
	f := excelize.NewFile()
	rows := [][]any{
		{"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal"},
		{"username", "role", "first_name", "last_name", "email", "language", "account_information.locked", "account_information.disabled",
			"account_information.failed_login_lock_date", "account_information.security_questions.[0].question",
			"account_information.security_questions.[0].answer", "account_information.security_questions.[1].question",
			"account_information.security_questions.[1].answer", "DtmfAccessId"},
		{}, {},
	}
	pick := func() any {
		if rng.IntN(3) == 0 {
			return nil // optional field left out
		}
		return names[rng.IntN(len(names))]
	}
	for i := 0; i < 40; i++ {
		row := []any{fmt.Sprintf("gen%03d-%s", i, []string{"a", "ß", "é"}[i%3]), "Help Desk Administrator", pick(), pick(), nil,
			[]any{"en-us", "fr-fr", nil}[rng.IntN(3)], rng.IntN(2) == 0, rng.IntN(2) == 0, nil}
		if rng.IntN(2) == 0 {
			row[8] = time.Date(2024, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, time.UTC)
		}
		for q := 0; q < rng.IntN(3); q++ {
			row = append(row, fmt.Sprintf("Question %d?", q), fmt.Sprintf("answer-%d", rng.IntN(1000)))
		}
		for len(row) < 13 {
			row = append(row, nil)
		}
		row = append(row, fmt.Sprintf("4%04d", i))
		rows = append(rows, row)
	}
	for i, r := range rows {
		ref, _ := excelize.CoordinatesToCellName(1, i+1)
		_ = f.SetSheetRow("Sheet1", ref, &r)
	}
	wb := filepath.Join(dir, "gen.xlsx")
	if err := f.SaveAs(wb); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	if r := bulkprov(t, creds, append([]string{"apply", "--quiet"}, append(target, wb)...)...); r.code != 0 {
		t.Fatalf("apply generated users: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, ext := range []string{".xlsx", ".zip"} {
		out := filepath.Join(dir, "export"+ext)
		if r := bulkprov(t, creds, append([]string{"export", "--model", "data/User", "--hierarchy", "sys.hcs.CS-P.CS-NB.AAAGlobal", "--out", out}, target...)...); r.code != 0 {
			t.Fatalf("export: %s", r.stderr)
		}
		r := bulkprov(t, creds, append([]string{"plan"}, append(target, out)...)...)
		var unchanged int
		fmt.Sscanf(r.stdout[strings.LastIndex(r.stdout, "Operations:"):], "Operations: 0 to create, 0 to update, 0 to delete, %d unchanged", &unchanged)
		if r.code != 0 || unchanged < 40*2 {
			t.Fatalf("generated round trip (%s): exit %d\n%s\n%s", ext, r.code, r.stdout, r.stderr)
		}
	}
}

// A CUPI server with fewer slots and a short queue than bulkprov's default
// cap answers 503; the adaptive limit backs off and no row fails.
func TestThrottleBackoff(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeUsers(t, wb, 60)
	sim := startSim(t, "--cupi-slots", "2", "--cupi-service-time", "5ms", "--cupi-queue-timeout", "3ms")
	r := bulkprov(t, creds, "apply", "--voss", sim.url, "--cupi", sim.url, wb)
	if r.code != 0 {
		t.Fatalf("apply against a throttling server: exit %d\n%s", r.code, r.stderr)
	}
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(line, "cupi:") {
			t.Log(line)
			if strings.Contains(line, " 0×503") {
				t.Fatalf("the server never throttled; the test proves nothing: %s", line)
			}
		}
	}
	// Throttling is said as it happens, not only in the closing figures.
	if !strings.Contains(r.stderr, "bulkprov: cupi: throttling (HTTP 503); backing off and retrying") {
		t.Errorf("throttling was not announced:\n%s", r.stderr)
	}
}

// logFailed logs the failed operations of a JSON run report.
func logFailed(t *testing.T, report string) {
	t.Helper()
	b, _ := os.ReadFile(report)
	var rep struct {
		Ops []struct{ Kind, Key, Status, Error string } `json:"operations"`
	}
	_ = json.Unmarshal(b, &rep)
	for _, op := range rep.Ops {
		if op.Status == "failed" {
			t.Logf("failed: %s %s: %s", op.Kind, op.Key, op.Error)
		}
	}
}
