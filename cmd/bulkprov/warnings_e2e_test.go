package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A user that exists in one customer's hierarchy, created by the workbook
// in another's, is a warning in the plan naming where it is (VOSS keys
// are unique within a hierarchy only: the plan makes a second user); so
// is a Unity Connection alias the new user's row would change that
// another user holds — here the mailbox of the user in the first
// hierarchy, and one made by a cupi/User row with no VOSS user at all.
// The terminal says each in a "warning:" line naming the row, the JSON
// report lists them, the account counts them; nothing fails, exit 0.
func TestPlanWarnsOfUserInAnotherHierarchy(t *testing.T) {
	dir := t.TempDir()
	sim := startSim(t)
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := write("before.csv", "\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,role,password,DtmfAccessId\n"+
		"add,jdoe,Help Desk Administrator,Tenant-Pass-001,61001\n")
	mailbox := write("mailbox.csv", "\"entity: cupi/User\"\nAlias,DtmfAccessId,FirstName\nvmonly,61002,Voice\n")
	if r := bulkprov(t, env, "apply", "--voss", sim.url, "--cupi", sim.url, before, mailbox); r.code != 0 {
		t.Fatalf("setting up: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	moved := write("moved.csv", "\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.BBBGlobal\"\n# Action,username,role,password,DtmfAccessId\n"+
		"add,jdoe,Help Desk Administrator,Tenant-Pass-001,62001\nadd,vmonly,Help Desk Administrator,Tenant-Pass-002,62002\nadd,fresh,Help Desk Administrator,Tenant-Pass-003,62003\n")
	report := filepath.Join(dir, "plan.json")
	metrics := filepath.Join(dir, "plan.prom")
	saved := filepath.Join(dir, "saved-plan.json")
	r := bulkprov(t, env, "plan", "--voss", sim.url, "--cupi", sim.url, "--report", report, "--metrics-file", metrics, "--out", saved, moved)
	if r.code != 0 {
		t.Fatalf("plan: exit %d, want 0 (a warning is no failure)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var warnings []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "warning: ") {
			warnings = append(warnings, strings.ReplaceAll(line, dir+string(filepath.Separator), ""))
		}
	}
	wantLines := []string{
		"warning: row 3 (moved.csv:csv:3): user jdoe already exists under sys.hcs.CS-P.CS-NB.AAAGlobal (pkid ",
		"warning: row 3 (moved.csv:csv:3): alias jdoe is already held on Unity Connection default by user ",
		"warning: row 4 (moved.csv:csv:4): alias vmonly is already held on Unity Connection default by user ",
	}
	if len(warnings) != len(wantLines) {
		t.Fatalf("%d warning lines, want %d:\n%s", len(warnings), len(wantLines), r.stdout)
	}
	for i, w := range wantLines {
		if !strings.HasPrefix(warnings[i], w) {
			t.Errorf("warning %d: %q, want it to start %q", i, warnings[i], w)
		}
	}
	if !strings.Contains(warnings[0], "this plan creates another at sys.hcs.CS-P.CS-NB.BBBGlobal") {
		t.Errorf("the warning does not say where the plan creates it: %s", warnings[0])
	}
	if !strings.Contains(r.stdout, "0 failed. 3 warnings.") {
		t.Errorf("summary does not count the warnings:\n%s", tail(r.stdout))
	}
	raw, _ := os.ReadFile(report)
	var rep struct {
		Account  struct{ Warnings int } `json:"account"`
		Warnings []struct {
			Source struct {
				File string
				Row  int
			}
			Kind, Key, Operation, Message string
		} `json:"warnings"`
		Ops []struct{ ID, Kind, Key, Action string } `json:"operations"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Account.Warnings != 3 || len(rep.Warnings) != 3 {
		t.Fatalf("JSON report: account %d warnings, %d listed; want 3", rep.Account.Warnings, len(rep.Warnings))
	}
	ids := map[string]string{}
	for _, op := range rep.Ops {
		ids[op.ID] = op.Action + " " + op.Kind + " " + op.Key
	}
	for i, w := range rep.Warnings {
		if w.Source.File != moved || w.Source.Row != 3+i/2 || ids[w.Operation] != "create data/User "+w.Key || !strings.Contains(wantLines[i], w.Message[:20]) {
			t.Errorf("JSON warning %d: %+v (operation %q)", i, w, ids[w.Operation])
		}
	}
	if prom, _ := os.ReadFile(metrics); !strings.Contains(string(prom), `bulkprov_last_run_warnings{command="plan"} 3`) {
		t.Errorf("metrics do not count the warnings:\n%s", prom)
	}
	// A saved plan carries its warnings: show says them again.
	if sh := bulkprov(t, env, "show", saved); sh.code != 0 || strings.Count(sh.stdout, "warning: ") != 3 {
		t.Errorf("show: exit %d, want 0 with the 3 warnings:\n%s\n%s", sh.code, sh.stdout, sh.stderr)
	}
	// The same for an apply, which plans as it writes.
	r = bulkprov(t, env, "apply", "--voss", sim.url, "--cupi", sim.url, "--quiet", moved)
	if r.code != 0 || strings.Count(r.stdout, "warning: ") != 3 {
		t.Errorf("apply: exit %d, want 0 with the 3 warnings:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
