package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// accountReports are the --report flags of one run, one per format.
func accountReports(dir, name string) (map[string]string, []string) {
	paths := map[string]string{}
	var args []string
	for _, ext := range []string{".json", ".csv", ".xlsx", ".html"} {
		p := filepath.Join(dir, name+ext)
		paths[ext] = p
		args = append(args, "--report", p)
	}
	return paths, args
}

// jsonAccount is the JSON report's account and operations.
type jsonAccount struct {
	Account struct {
		Rows struct {
			Total  int `json:"total"`
			OK     int `json:"ok"`
			Failed int `json:"failed"`
			NotRun int `json:"not_run"`
		} `json:"rows"`
		Operations int            `json:"operations"`
		ByAction   map[string]int `json:"by_action"`
		ByStatus   map[string]int `json:"by_status"`
		Unchanged  int            `json:"unchanged"`
		Skipped    []struct {
			Reason string `json:"reason"`
			Count  int    `json:"count"`
		} `json:"skipped_reasons"`
	} `json:"account"`
	Summary map[string]int `json:"summary"`
	Ops     []struct {
		Source struct {
			File  string `json:"file"`
			Sheet string `json:"sheet"`
			Row   int    `json:"row"`
		} `json:"source"`
		Target, Cluster, Kind, Key, Action, Status, Error string
	} `json:"operations"`
}

var (
	applyLineRE    = regexp.MustCompile(`Apply: (\d+) rows?: (\d+) ok, (\d+) failed(?:, (\d+) not run)?\. Operations: (\d+) done, (\d+) failed, (\d+) skipped, (\d+) unchanged\.[^\n]*`) // the whole line: warnings and unkept follow
	progressLineRE = regexp.MustCompile(`(?m)^progress: (\d+)/(\d+) rows, (\d+) failed(?:, (\d+) not run)?$`)
	htmlSummaryRE  = regexp.MustCompile(`<p class="cards" id="summary">([^<]*)</p>`)
	htmlKindRE     = regexp.MustCompile(`<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>`)
)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// checkOneAccount checks that every output of one apply — the terminal
// summary and last progress line, JSON, CSV, xlsx and HTML — gives the
// same counts, that those are the operations' own, and that D + F + S + U
// is the number of operations. It returns the JSON report.
func checkOneAccount(t *testing.T, name string, r result, paths map[string]string) jsonAccount {
	t.Helper()
	var j jsonAccount
	b, err := os.ReadFile(paths[".json"])
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a := j.Account
	fail := func(format string, args ...any) { t.Errorf(name+": "+format, args...) }
	// The account is the operations' own.
	byStatus, byAction := map[string]int{}, map[string]int{}
	type rowFlags struct{ failed, skipped bool }
	rows := map[string]*rowFlags{}
	var rowOrder []string
	for _, op := range j.Ops {
		byStatus[op.Status]++
		byAction[op.Action]++
		k := fmt.Sprintf("%s|%s|%d", op.Source.File, op.Source.Sheet, op.Source.Row)
		if rows[k] == nil {
			rows[k] = &rowFlags{}
			rowOrder = append(rowOrder, k)
		}
		rows[k].failed = rows[k].failed || op.Status == "failed"
		rows[k].skipped = rows[k].skipped || op.Status == "skipped"
	}
	ok, failedRows, notRun := 0, 0, 0
	for _, k := range rowOrder {
		switch f := rows[k]; {
		case f.failed:
			failedRows++
		case f.skipped:
			notRun++
		default:
			ok++
		}
	}
	if a.Operations != len(j.Ops) || a.Rows.Total != len(rows) || a.Rows.OK != ok || a.Rows.Failed != failedRows || a.Rows.NotRun != notRun {
		fail("account rows %+v, %d operations; the operations give %d rows: %d ok, %d failed, %d not run; %d operations", a.Rows, a.Operations, len(rows), ok, failedRows, notRun, len(j.Ops))
	}
	for _, s := range []string{"done", "failed", "skipped", "planned"} {
		if a.ByStatus[s] != byStatus[s] {
			fail("account by_status %v, the operations give %v", a.ByStatus, byStatus)
			break
		}
	}
	for _, s := range []string{"create", "update", "delete", "noop"} {
		if a.ByAction[s] != byAction[s] {
			fail("account by_action %v, the operations give %v", a.ByAction, byAction)
			break
		}
	}
	if a.ByStatus["done"]+a.ByStatus["failed"]+a.ByStatus["skipped"]+a.ByStatus["planned"] != len(j.Ops) {
		fail("D+F+S+U = %v, want %d", a.ByStatus, len(j.Ops))
	}
	if a.Unchanged != a.ByAction["noop"]-countOps(j, "noop", "skipped", "failed", "done") || a.Unchanged != a.ByStatus["planned"] {
		fail("unchanged %d: noops %d, planned %d", a.Unchanged, a.ByAction["noop"], a.ByStatus["planned"])
	}
	if j.Summary["noop"] != a.Unchanged || j.Summary["failed"] != a.ByStatus["failed"] || j.Summary["done"] != a.ByStatus["done"] {
		fail("summary %v disagrees with the account %+v", j.Summary, a)
	}
	// Terminal summary.
	m := applyLineRE.FindStringSubmatch(r.stdout)
	if m == nil {
		fail("no Apply: summary line in\n%s", r.stdout)
	} else if got := []int{atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), atoi(m[7]), atoi(m[8])}; fmt.Sprint(got) != fmt.Sprint([]int{a.Rows.Total, a.Rows.OK, a.Rows.Failed, a.Rows.NotRun, a.ByStatus["done"], a.ByStatus["failed"], a.ByStatus["skipped"], a.ByStatus["planned"]}) {
		fail("terminal %q disagrees with the JSON account %+v", m[0], a)
	}
	// Progress: its last line.
	if ps := progressLineRE.FindAllStringSubmatch(r.stderr, -1); len(ps) == 0 {
		fail("no progress line in\n%s", r.stderr)
	} else if p := ps[len(ps)-1]; atoi(p[1]) != a.Rows.Total || atoi(p[2]) != a.Rows.Total || atoi(p[3]) != a.Rows.Failed || atoi(p[4]) != a.Rows.NotRun {
		fail("progress %q disagrees with the rows %+v", p[0], a.Rows)
	}
	// CSV: one line per field change; an operation's status per its key.
	f, err := os.Open(paths[".csv"])
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	csvStatus := map[string]string{}
	for _, rec := range recs[1:] {
		csvStatus[strings.Join(rec[:7], "|")] = rec[8]
	}
	csvBy := map[string]int{}
	for _, s := range csvStatus {
		csvBy[s]++
	}
	if len(csvStatus) != len(j.Ops) || csvBy["done"] != a.ByStatus["done"] || csvBy["failed"] != a.ByStatus["failed"] || csvBy["skipped"] != a.ByStatus["skipped"] || csvBy["planned"] != a.ByStatus["planned"] {
		fail("CSV: %d operations %v; JSON %d %v", len(csvStatus), csvBy, len(j.Ops), a.ByStatus)
	}
	// xlsx: the #Summary sheet's counts.
	x, err := excelize.OpenFile(paths[".xlsx"])
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := x.GetRows("#Summary")
	x.Close()
	facts := map[string]string{}
	for _, row := range sum {
		if len(row) == 2 {
			facts[row[0]] = row[1]
		}
	}
	for k, want := range map[string]int{"rows": a.Rows.Total, "rows ok": a.Rows.OK, "rows failed": a.Rows.Failed, "rows not run": a.Rows.NotRun,
		"operations": a.Operations, "operations done": a.ByStatus["done"], "operations failed": a.ByStatus["failed"],
		"operations skipped": a.ByStatus["skipped"], "operations unchanged": a.ByStatus["planned"],
		"action create": a.ByAction["create"], "action update": a.ByAction["update"], "action delete": a.ByAction["delete"], "action noop": a.ByAction["noop"]} {
		if facts[k] != strconv.Itoa(want) {
			fail("xlsx #Summary %q = %q, JSON %d", k, facts[k], want)
		}
	}
	// HTML: the summary line and the by-kind table.
	page, _ := os.ReadFile(paths[".html"])
	if hm := htmlSummaryRE.FindSubmatch(page); hm == nil || m == nil || html.UnescapeString(string(hm[1])) != m[0] {
		fail("HTML summary %q, terminal %q", hm, m)
	}
	kinds := map[string]int{}
	for _, km := range htmlKindRE.FindAllSubmatch(page, -1) {
		for i, act := range []string{"create", "update", "delete", "noop"} {
			kinds[act] += atoi(string(km[2+i]))
		}
	}
	for _, act := range []string{"create", "update", "delete", "noop"} {
		if kinds[act] != a.ByAction[act] {
			fail("HTML by kind %v, JSON by action %v", kinds, a.ByAction)
			break
		}
	}
	if m != nil {
		t.Logf("%s: %s", name, m[0])
	}
	return j
}

func countOps(j jsonAccount, action string, statuses ...string) int {
	n := 0
	for _, op := range j.Ops {
		for _, s := range statuses {
			if op.Action == action && op.Status == s {
				n++
			}
		}
	}
	return n
}

// One account of a run (issue 24): the same run told by every output —
// terminal summary, progress, JSON, CSV, xlsx and HTML — gives the same
// counts, fresh (with a row whose VOSS part fails at plan time), resumed
// after a kill, with a target down mid-run, and reverted.
func TestOneAccountOfARun(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	env := stateEnv(filepath.Join(dir, "state"))

	// Fresh, with a row whose hierarchy is mistyped: its VOSS part fails,
	// its Unity Connection part is skipped naming it.
	sim := startSim(t)
	in := filepath.Join(dir, "fresh-in.csv")
	nightlyCSV(t, in, "acct", 6)
	b, _ := os.ReadFile(in)
	b = append(b, []byte("\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobl\"\n# Action,username,role,password,DtmfAccessId\nadd,acctypo,Help Desk Administrator,Night-Pass-typo-1,7999001\n")...)
	_ = os.WriteFile(in, b, 0o600)
	paths, reps := accountReports(dir, "fresh")
	backout := filepath.Join(dir, "fresh.backout.json")
	r := bulkprov(t, env, append(append([]string{"apply", "--voss", sim.url, "--cupi", sim.url, "--backout", backout}, reps...), in)...)
	if r.code != 1 {
		t.Fatalf("fresh: exit %d, want 1 (a row failed)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	j := checkOneAccount(t, "fresh", r, paths)
	if j.Account.Rows.Failed != 1 || j.Account.ByStatus["skipped"] == 0 {
		t.Errorf("fresh: rows %+v, by status %v: want the typo row failed and its CUPI part skipped", j.Account.Rows, j.Account.ByStatus)
	}
	for _, op := range j.Ops {
		if op.Action == "noop" && op.Status == "failed" {
			t.Errorf("fresh: a failed %s %s labelled noop", op.Kind, op.Key)
		}
	}

	// Revert of the fresh run.
	paths, reps = accountReports(dir, "revert")
	r = bulkprov(t, env, append([]string{"apply", "--revert", backout}, reps...)...)
	if r.code != 0 {
		t.Fatalf("revert: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	checkOneAccount(t, "revert", r, paths)

	// Resumed after a kill: the resumed run's account counts each
	// operation once — all done, none both done and unchanged.
	simK := startSim(t, "--cupi-service-time", "10ms")
	in = filepath.Join(dir, "killed-in.csv")
	nightlyCSV(t, in, "kill", 30)
	args := []string{"apply", "--voss", simK.url, "--cupi", simK.url, in}
	cmd := exec.Command(binary, args...)
	cmd.Env = testEnv(t, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitWrites(t, simK.url, 5)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	paths, reps = accountReports(dir, "resumed")
	r = bulkprov(t, env, append(append([]string{args[0]}, reps...), args[1:]...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "resuming from checkpoint") {
		t.Fatalf("resume: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	j = checkOneAccount(t, "resumed", r, paths)
	if j.Account.ByStatus["done"] != len(j.Ops) || j.Account.Unchanged != 0 {
		t.Errorf("resumed: %v of %d operations, %d unchanged: want every operation done once", j.Account.ByStatus, len(j.Ops), j.Account.Unchanged)
	}

	// A target down mid-run: Unity Connection (its own simulator) is
	// stopped after its first writes. It is said once; its rows not run
	// are not failed one by one.
	simV, simC := startSim(t), startSim(t, "--cupi-service-time", "20ms")
	in = filepath.Join(dir, "down-in.csv")
	nightlyCSV(t, in, "down", 40)
	paths, reps = accountReports(dir, "down")
	cmd = exec.Command(binary, append(append([]string{"apply", "--voss", simV.url, "--cupi", simC.url, "--retries", "2"}, reps...), in)...)
	cmd.Env = testEnv(t, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitWrites(t, simC.url, 5)
	simC.stop()
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	r = result{code, out.String(), errb.String()}
	if code != 3 {
		t.Fatalf("down: exit %d, want 3\n%s\n%s", code, r.stdout, r.stderr)
	}
	j = checkOneAccount(t, "down", r, paths)
	if j.Account.Rows.NotRun == 0 || !strings.Contains(r.stdout, "not run: Unity Connection default unreachable (") {
		t.Errorf("down: rows %+v; the terminal does not say once what was not run:\n%s", j.Account.Rows, r.stdout)
	}
	if lines := strings.Count(r.stdout, "\n"); lines > 40 {
		t.Errorf("down: %d lines on stdout for a target down (one per operation?):\n%s", lines, r.stdout)
	}
	seen := map[string]bool{}
	for _, op := range j.Ops {
		if op.Status == "failed" && strings.Contains(op.Error, "/users/") {
			if seen[op.Error] {
				t.Errorf("down: two operations fail with the same request: %s", op.Error)
			}
			seen[op.Error] = true
		}
	}
}

// waitWrites waits until the simulator at url counted n Unity Connection
// writes (a run is then mid-write), or 30 s.
func waitWrites(t *testing.T, url string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		total := 0
		for _, v := range cupiWrites(t, url) {
			total += v
		}
		if total >= n {
			return
		}
	}
	t.Fatalf("the simulator at %s never counted %d Unity Connection writes", url, n)
}
