package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// firstContactReport is what these tests read of a JSON report.
type firstContactReport struct {
	Summary map[string]int `json:"summary"`
	Ops     []struct {
		Kind   string `json:"kind"`
		Key    string `json:"key"`
		Target string `json:"target"`
		Action string `json:"action"`
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"operations"`
}

func readFirstContactReport(t *testing.T, path string, r result) firstContactReport {
	t.Helper()
	var out firstContactReport
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		t.Fatalf("exit %d, report: %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	return out
}

// nightUsersWritten counts the distinct input users (nightNN) the
// simulators counted a write of.
func nightUsersWritten(w map[string]int) (map[string]bool, []string) {
	re := regexp.MustCompile(`night\d\d`)
	users := map[string]bool{}
	var keys []string
	for k, v := range w {
		if v == 0 {
			continue
		}
		keys = append(keys, k)
		for _, m := range re.FindAllString(k, -1) {
			users[m] = true
		}
	}
	return users, keys
}

// apply --canary 3 and apply --verify against a VOSS that drops email on
// data/User, and one that keeps it lower-cased (cli.md, First contact):
// the canary writes at most 3 rows' objects and stops, exit 1, the
// failures naming target, kind, key, field, the value wanted and the
// value held (a normalisation as such), every other row "not attempted
// (canary)"; --verify writes everything and fails every row with an
// email in the same words.
func TestCanaryAndVerifyNameUnkeptValues(t *testing.T) {
	parallelE2E(t)
	const n = 8
	for _, tc := range []struct {
		knob string
		held func(i int) string
	}{
		{"--voss-drop-field", func(int) string { return "server holds nothing" }},
		{"--voss-lower-field", func(i int) string {
			return fmt.Sprintf(`server holds "night.user%02d@example.com" (kept lower-cased)`, i)
		}},
	} {
		for _, mode := range []string{"--canary", "--verify"} {
			t.Run(tc.knob+mode, func(t *testing.T) {
				t.Parallel() // its own folder and simulator
				dir := t.TempDir()
				env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state"), "XDG_STATE_HOME=" + filepath.Join(dir, "xdg")}, creds...)
				in := filepath.Join(dir, "users.csv")
				writeEmailUsers(t, in, n)
				sim := startSim(t, tc.knob, "data/User:email")
				rep := filepath.Join(dir, "run.json")
				args := []string{"apply", "--voss", sim.url, "--cupi", sim.url, "--report", rep}
				if mode == "--canary" {
					args = append(args, "--canary", "3")
				} else {
					args = append(args, "--verify")
				}
				r := bulkprov(t, env, append(args, in)...)
				if r.code != 1 {
					t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
				}
				got := readFirstContactReport(t, rep, r)
				users, keys := nightUsersWritten(sim.writes(t))
				wantRows := n
				if mode == "--canary" {
					wantRows = 3
				}
				if len(users) != wantRows {
					t.Errorf("the servers hold writes of %d users, want %d: %v", len(users), wantRows, keys)
				}
				failed, notAttempted := 0, 0
				for _, op := range got.Ops {
					switch {
					case op.Status == "failed" && op.Kind == "data/User":
						i := 0
						fmt.Sscanf(op.Key[strings.LastIndex(op.Key, "night"):], "night%02d", &i)
						want := fmt.Sprintf(`voss data/User %s: email: wanted "Night.User%02d@Example.com", %s`, op.Key, i, tc.held(i))
						if !strings.Contains(op.Error, want) {
							t.Errorf("%s: error %q, want it to say %q", op.Key, op.Error, want)
						}
						failed++
					case op.Status == "failed":
						t.Errorf("%s %s failed: %s", op.Kind, op.Key, op.Error)
					case op.Status == "skipped":
						if op.Error != "not attempted (canary)" {
							t.Errorf("%s %s skipped with %q, want \"not attempted (canary)\"", op.Kind, op.Key, op.Error)
						}
						notAttempted++
					}
				}
				wantSkipped := 0
				if mode == "--canary" {
					wantSkipped = (n - 3) * 2 // each row: its VOSS user and its CUPI user
				}
				if failed != wantRows || notAttempted < wantSkipped || (mode == "--verify" && notAttempted != 0) {
					t.Errorf("%d data/User failed, %d not attempted; want %d failed, %d not attempted\n%s", failed, notAttempted, wantRows, wantSkipped, r.stdout)
				}
				if !strings.Contains(r.stdout, "email: wanted") {
					t.Errorf("the terminal does not name the value not kept:\n%s", r.stdout)
				}
			})
		}
	}
}

// --skip-unkept leaves alone the fields an earlier run wrote the same
// value to and the server did not keep: nothing is written again, each
// such operation is still marked unkept, and the run ends 0.
func TestSkipUnkeptLeavesFieldsAlone(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state"), "XDG_STATE_HOME=" + filepath.Join(dir, "xdg")}, creds...)
	in := filepath.Join(dir, "users.csv")
	const n = 4
	writeEmailUsers(t, in, n)
	sim := startSim(t, "--voss-drop-field", "data/User:email")
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	if r := bulkprov(t, env, append(append([]string{"apply"}, target...), in)...); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	before := sim.writes(t)
	rep := filepath.Join(dir, "second.csv")
	r := bulkprov(t, env, append(append([]string{"apply", "--skip-unkept", "--report", rep}, target...), in)...)
	if r.code != 0 {
		t.Fatalf("second run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after := sim.writes(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("--skip-unkept wrote: before %v, after %v", before, after)
	}
	csv, _ := os.ReadFile(rep)
	if got := strings.Count(string(csv), "email: written before on "); got != n {
		t.Errorf("the CSV report marks %d rows \"written before on DATE and not kept\", want %d:\n%s", got, n, csv)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("%d unkept: written before and not kept", n)) {
		t.Errorf("the summary does not count them:\n%s", r.stdout)
	}
}
