package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad misbehaviour knobs are refused before the simulator serves anything:
// exit 2 naming the flag and the reason.
func TestSimUnkeptKnobsValidated(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--voss-drop-field", "data/User:emial"}, "--voss-drop-field \"data/User:emial\": data/User has no field emial"},
		{[]string{"--voss-lower-field", "data/User:set_language"}, "not a string"},
		{[]string{"--voss-drop-field", "data/User:password"}, "write-only"},
		{[]string{"--voss-drop-field", "email"}, "want MODEL:FIELD"},
		{[]string{"--cupi-drop-field", "user:Alias"}, "--cupi-drop-field \"user:Alias\": required"},
		{[]string{"--cupi-lower-field", "user:EmailAdress"}, "user has no writable field EmailAdress"},
		{[]string{"--cupi-drop-field", "credential:Credentials"}, "write-only"},
		{[]string{"--cupi-lower-field", "phone:Number"}, "want OBJECT:FIELD"},
		{[]string{"--voss-drop-field", "data/User:email", "--voss-drop-field", "data/User:first_name,data/User:nope"}, "has no field nope"},
	} {
		r := bulkprov(t, nil, append([]string{"sim", "--listen", "127.0.0.1:0"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("sim %v: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
}

// writeEmailUsers writes a CSV of n data/User rows, each with an email.
func writeEmailUsers(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,first_name,last_name,email,role,DtmfAccessId\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "add,night%02d,Night,User%02d,Night.User%02d@Example.com,Help Desk Administrator,71%03d\n", i, i, i, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A VOSS that answers 200 to data/User writes but does not keep email:
// the first nightly run creates 30 users, exit 0; the second writes the
// same 30 emails again. Today it says nothing (the defect of issue 25);
// the contract (cli.md, First contact) wants each such operation marked
// "unkept" with the time of the earlier write, and the summary counting
// them. The acceptance test of the next wave's engine work.
func TestNightlyRunNamesUnkeptValues(t *testing.T) {
	t.Skip("issue 25: unkept values — next wave")
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state"), "XDG_STATE_HOME=" + filepath.Join(dir, "xdg")}, creds...)
	in := filepath.Join(dir, "users.csv")
	const n = 30
	writeEmailUsers(t, in, n)
	sim := startSim(t, "--voss-drop-field", "data/User:email")
	type report struct {
		Summary map[string]int `json:"summary"`
		Ops     []struct {
			Kind    string `json:"kind"`
			Key     string `json:"key"`
			Action  string `json:"action"`
			Status  string `json:"status"`
			Changes []struct {
				Field string `json:"field"`
			} `json:"changes"`
			Unkept *struct {
				Since string `json:"since"`
			} `json:"unkept"`
		} `json:"operations"`
	}
	night := func(i int) (result, report) {
		t.Helper()
		rep := filepath.Join(dir, fmt.Sprintf("night%d.json", i))
		r := bulkprov(t, env, "apply", "--voss", sim.url, "--cupi", sim.url, "--report", rep, in)
		var out report
		b, err := os.ReadFile(rep)
		if err == nil {
			err = json.Unmarshal(b, &out)
		}
		if err != nil {
			t.Fatalf("night %d: exit %d, report: %v\n%s", i, r.code, err, r.stderr)
		}
		return r, out
	}
	r, first := night(1)
	if r.code != 0 || first.Summary["failed"] != 0 {
		t.Fatalf("first night: exit %d, summary %v, want none failed, exit 0\n%s", r.code, first.Summary, r.stderr)
	}
	r, second := night(2)
	// Writing again stays the default: every email is written a second time.
	updates := 0
	for k, v := range sim.writes(t) {
		if strings.HasSuffix(k, ":update") && strings.Contains(k, "/night") {
			updates += v
		}
	}
	if updates != n {
		t.Errorf("second night wrote %d users again, want %d (the dropped emails)", updates, n)
	}
	// … and says so: each such operation is marked unkept, the summary counts them.
	marked := 0
	for _, op := range second.Ops {
		if op.Kind != "data/User" || op.Action != "update" {
			continue
		}
		if len(op.Changes) != 1 || op.Changes[0].Field != "email" {
			t.Errorf("%s: changes %v, want email only", op.Key, op.Changes)
		}
		if op.Unkept == nil || op.Unkept.Since == "" {
			t.Errorf("%s: the rewrite of email is not marked unkept", op.Key)
			continue
		}
		marked++
	}
	if marked != n || second.Summary["unkept"] != n {
		t.Errorf("second night: %d operations marked unkept, summary unkept %d; want %d and %d", marked, second.Summary["unkept"], n, n)
	}
	if !strings.Contains(r.stdout+r.stderr, "not kept") {
		t.Errorf("the second night's output never says a value was not kept:\n%s%s", r.stdout, r.stderr)
	}
}
