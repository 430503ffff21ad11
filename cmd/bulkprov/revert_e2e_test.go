package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

// userRow is one data/User row of a test workbook.
type userRow struct {
	action, name, role, password, locked, ext, first string
}

const revertHier = "sys.hcs.CS-P.CS-NB.AAAGlobal"

func baseUser(i int) userRow {
	return userRow{"add", fmt.Sprintf("rev%03d", i), "Help Desk Administrator", fmt.Sprintf("Revert-Pass-%03d", i),
		fmt.Sprint(i%2 == 0), fmt.Sprintf("7%04d", i), fmt.Sprintf("First%d", i)}
}

// writeRows writes a data/User workbook of rows.
func writeRows(t *testing.T, path string, users []userRow) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"entity: data/User; hierarchy: " + revertHier},
		{"# Action", "username", "role", "password", "account_information.locked", "DtmfAccessId", "first_name"},
		{}, {},
	}
	for _, u := range users {
		rows = append(rows, []any{u.action, u.name, u.role, u.password, u.locked, u.ext, u.first})
	}
	for i, r := range rows {
		ref, _ := excelize.CoordinatesToCellName(1, i+1)
		_ = f.SetSheetRow("Sheet1", ref, &r)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads what the simulators hold under the test hierarchy, the
// way a person would compare it: VOSS users by username, CUPI users by
// alias with their roles and password settings; server ids, times and
// secrets aside.
func snapshot(t *testing.T, url string) map[string]string {
	t.Helper()
	return snapshotAt(t, url, url)
}

// snapshotAt is snapshot with VOSS and Unity Connection at their own URLs.
func snapshotAt(t *testing.T, url, cupiURL string) map[string]string {
	t.Helper()
	ctx := context.Background()
	cr := targets.Credentials{User: "sim-admin", Password: "sim-admin-Secret-9"}
	out := map[string]string{}
	vc := vossload.New(url, http.DefaultClient, cr)
	var pkids []string
	if err := vc.List(ctx, "data/User", revertHier, [2]string{}, func(s voss.Summary) error {
		pkids = append(pkids, s.Pkid)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range pkids {
		in, err := vc.Get(ctx, "data/User", id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(in.Data)
		out["voss/"+fmt.Sprint(in.Data["username"])] = string(b)
	}
	cc := cupi.New(cupiURL, http.DefaultClient, cr)
	var users []cupi.Object
	if err := cc.ListUsers(ctx, func(u cupi.Object) error { users = append(users, u); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		id := u["ObjectId"]
		urs, err := cc.UserRoles(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var roles []string
		for _, ur := range urs {
			roles = append(roles, ur["RoleName"])
		}
		sort.Strings(roles)
		c, err := cc.Credential(ctx, id, cupi.Password)
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{}
		for k, v := range u {
			if k != "ObjectId" && k != "URI" && !strings.HasPrefix(k, "Creation") {
				fields[k] = v
			}
		}
		b, _ := json.Marshal(map[string]any{"user": fields, "roles": roles,
			"locked": c["Locked"], "policy": c["CredentialPolicyObjectId"]})
		out["cupi/"+strings.ToLower(u["Alias"])] = string(b)
	}
	return out
}

// diffSnapshots lists the keys whose values differ.
func diffSnapshots(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, fmt.Sprintf("%s:\n    %s\n    %s", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s: (absent)\n    %s", k, v))
		}
	}
	sort.Strings(out)
	return out
}

// backoutPathOf returns the path of the "backout: PATH" line of stderr.
func backoutPathOf(t *testing.T, stderr string) string {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if p, ok := strings.CutPrefix(l, "backout: "); ok {
			return p
		}
	}
	t.Fatalf("no backout: line on stderr:\n%s", stderr)
	return ""
}

// checkBackoutFile checks that a back-out file is 0600 and holds no
// secret.
func checkBackoutFile(t *testing.T, path string, secrets []string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	for _, s := range append(secrets, "sim-admin-Secret-9") {
		if strings.Contains(string(b), s) {
			t.Errorf("secret %s… appears in the back-out file", s[:4])
		}
	}
}

// The change board's story: apply a tenant, apply a change (renames, a
// delete, an unlock, a new user), revert the change: the state is the
// state before the change; a second revert plans nothing; a revert of
// the revert is the change again.
func TestRevertRestoresState(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	run := func(want int, args ...string) result {
		t.Helper()
		r := bulkprov(t, creds, args...)
		if r.code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, r.code, want, r.stdout, r.stderr)
		}
		return r
	}
	var base []userRow
	var secrets []string
	for i := 0; i < 5; i++ {
		base = append(base, baseUser(i))
		secrets = append(secrets, baseUser(i).password)
	}
	baseWB := filepath.Join(dir, "base.xlsx")
	writeRows(t, baseWB, base)
	run(0, append([]string{"apply", "--quiet", "--checkpoint", filepath.Join(dir, "base.journal"), baseWB}, target...)...)
	before := snapshot(t, sim.url)

	change := append([]userRow(nil), base...)
	change[0].locked, change[0].password = "false", "" // unlock
	change[1].first = "Renamed"                        // rename
	change[2] = userRow{action: "delete", name: change[2].name, role: change[2].role}
	newUser := baseUser(9)
	newUser.password = "Brand-New-Secret-99"
	secrets = append(secrets, newUser.password)
	change = append(change, newUser)
	changeWB := filepath.Join(dir, "change.xlsx")
	writeRows(t, changeWB, change)
	r := run(0, append([]string{"apply", "--quiet", "--checkpoint", filepath.Join(dir, "change.journal"), changeWB}, target...)...)
	backout := backoutPathOf(t, r.stderr)
	if filepath.Dir(backout) != dir || !strings.HasPrefix(filepath.Base(backout), "change-") || !strings.HasSuffix(backout, "Z.backout.json") {
		t.Errorf("back-out file %s is not beside its journal, named after it", backout)
	}
	checkBackoutFile(t, backout, secrets)
	changed := snapshot(t, sim.url)
	if len(diffSnapshots(before, changed)) < 4 {
		t.Fatalf("the change changed too little:\n%s", strings.Join(diffSnapshots(before, changed), "\n"))
	}

	// The back-out plan is a normal plan: the inverse of each write.
	r = run(0, "plan", "--revert", backout, "--report", filepath.Join(dir, "revert-plan.json"))
	for _, want := range []string{"Operations: 2 to create, 3 to update, 3 to delete, 1 unchanged, 0 failed.", "Not restorable", "rev002", "password"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan --revert lacks %q:\n%s", want, r.stdout)
		}
	}
	var planRep struct {
		Run struct {
			Command string `json:"command"`
		} `json:"run"`
		Summary       map[string]int                `json:"summary"`
		NotRestorable []struct{ Key, Field string } `json:"not_restorable"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "revert-plan.json")); err != nil || json.Unmarshal(b, &planRep) != nil ||
		planRep.Summary["delete"] != 3 || planRep.Run.Command != "plan --revert" {
		t.Errorf("plan --revert --report: %v %q %v", err, planRep.Run.Command, planRep.Summary)
	}
	// The report lists what the terminal lists as not restorable.
	if n := strings.Count(r.stdout, "\n  ") - strings.Count(r.stdout[:strings.Index(r.stdout, "Not restorable")], "\n  "); len(planRep.NotRestorable) == 0 || len(planRep.NotRestorable) != n {
		t.Errorf("the back-out plan's report lists %d not-restorable values, the terminal %d", len(planRep.NotRestorable), n)
	}
	if strings.Contains(r.stdout, "rev009: Credentials") {
		t.Errorf("the password of a user the revert deletes is listed as not restorable:\n%s", r.stdout)
	}
	// Target flags naming another target are refused.
	run(2, "plan", "--revert", backout, "--voss", "http://127.0.0.1:1")
	run(2, "plan", "--revert", backout, changeWB)

	// The reviewed back-out plan is what is applied.
	saved := filepath.Join(dir, "revert-plan-saved.json")
	r = run(0, "plan", "--revert", backout, "--out", saved)
	if !strings.Contains(r.stderr, "bulkprov apply --revert "+backout+" --plan "+saved) {
		t.Errorf("plan --revert --out does not say how to apply it:\n%s", r.stderr)
	}
	run(2, "apply", "--plan", saved)
	revertRep := filepath.Join(dir, "revert-run.json")
	r = run(0, append([]string{"apply", "--revert", backout, "--plan", saved, "--report", revertRep, "--checkpoint", filepath.Join(dir, "revert.journal")}, target...)...)
	if !strings.Contains(r.stdout, "Not restorable") {
		t.Errorf("apply --revert does not list what it cannot restore:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`(?m)^Apply: `).MatchString(r.stdout) || regexp.MustCompile(`(?m)^Plan: `).MatchString(r.stdout) {
		t.Errorf("apply --revert does not end with an Apply: line:\n%s", r.stdout)
	}
	again := backoutPathOf(t, r.stderr)
	if b, _ := os.ReadFile(revertRep); !strings.Contains(string(b), `"backout": "`+again+`"`) || !strings.Contains(string(b), `"command": "apply --revert"`) {
		t.Errorf("the apply --revert report does not name its command and back-out file %s", again)
	}
	if again == backout {
		t.Fatal("the revert wrote into the back-out file it reverts")
	}
	checkBackoutFile(t, again, secrets)
	if d := diffSnapshots(before, snapshot(t, sim.url)); len(d) > 0 {
		t.Fatalf("after the revert the state differs from before the change:\n%s", strings.Join(d, "\n"))
	}
	r = run(0, "plan", "--revert", backout)
	if !strings.Contains(r.stdout, "Operations: 0 to create, 0 to update, 0 to delete") {
		t.Errorf("a second revert plans something:\n%s", r.stdout)
	}

	// A revert of the revert is the change again (secrets aside: the new
	// user comes back without its password).
	run(0, "apply", "--revert", again, "--quiet", "--checkpoint", filepath.Join(dir, "revert2.journal"))
	if d := diffSnapshots(changed, snapshot(t, sim.url)); len(d) > 0 {
		t.Fatalf("a revert of the revert is not the change:\n%s", strings.Join(d, "\n"))
	}
}

// An object someone else changed since the run is not touched: its
// operation fails showing the three values, the others are undone;
// --force restores it too.
func TestRevertDrift(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--quiet"}
	base := []userRow{baseUser(0), baseUser(1)}
	wb := filepath.Join(dir, "base.xlsx")
	writeRows(t, wb, base)
	if r := bulkprov(t, creds, append([]string{"apply", "--checkpoint", filepath.Join(dir, "base.journal"), wb}, target...)...); r.code != 0 {
		t.Fatalf("base: %d %s", r.code, r.stderr)
	}
	before := snapshot(t, sim.url)
	change := []userRow{baseUser(0), baseUser(1)}
	change[0].first, change[1].first = "RunWrote0", "RunWrote1"
	change[0].password, change[1].password = "", ""
	writeRows(t, wb, change)
	backout := filepath.Join(dir, "named.backout.json")
	r := bulkprov(t, creds, append([]string{"apply", "--backout", backout, "--checkpoint", filepath.Join(dir, "change.journal"), wb}, target...)...)
	if r.code != 0 || backoutPathOf(t, r.stderr) != backout {
		t.Fatalf("change: %d %s", r.code, r.stderr)
	}
	// Someone else edits rev001 afterwards; a back-out file is never
	// overwritten.
	other := []userRow{{action: "modify", name: "rev001", first: "SomeoneElse"}}
	writeRows(t, wb, other)
	if r := bulkprov(t, creds, append([]string{"apply", "--backout", backout, "--checkpoint", filepath.Join(dir, "other.journal"), wb}, target...)...); r.code != 2 {
		t.Fatalf("apply --backout over an existing back-out file: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if r := bulkprov(t, creds, append([]string{"apply", "--checkpoint", filepath.Join(dir, "other.journal"), wb}, target...)...); r.code != 0 {
		t.Fatalf("other edit: %d %s", r.code, r.stderr)
	}
	r = bulkprov(t, creds, "plan", "--revert", backout)
	if r.code != 1 || !strings.Contains(r.stdout, `"First1"`) || !strings.Contains(r.stdout, `"RunWrote1"`) || !strings.Contains(r.stdout, `"SomeoneElse"`) {
		t.Fatalf("plan --revert of a drifted object: exit %d, want 1 with the three values\n%s", r.code, r.stdout)
	}
	rep := filepath.Join(dir, "revert.json")
	r = bulkprov(t, creds, "apply", "--revert", backout, "--quiet", "--report", rep, "--checkpoint", filepath.Join(dir, "revert.journal"))
	if r.code != 1 {
		t.Fatalf("apply --revert with drift: exit %d, want 1\n%s", r.code, r.stderr)
	}
	failed := 0
	for _, op := range reportOps(t, rep) {
		if op.Status == "failed" {
			failed++
			if !strings.Contains(op.Key, "rev001") {
				t.Errorf("%s %s failed: %s", op.Kind, op.Key, op.Error)
			}
		}
	}
	now := snapshot(t, sim.url)
	if failed != 1 || now["voss/rev000"] != before["voss/rev000"] || !strings.Contains(now["voss/rev001"], "SomeoneElse") {
		t.Fatalf("%d failed; rev000 restored: %v; rev001: %s", failed, now["voss/rev000"] == before["voss/rev000"], now["voss/rev001"])
	}
	r = bulkprov(t, creds, "apply", "--revert", backout, "--force", "--quiet", "--checkpoint", filepath.Join(dir, "force.journal"))
	if r.code != 0 {
		t.Fatalf("apply --revert --force: exit %d\n%s", r.code, r.stderr)
	}
	if d := diffSnapshots(before, snapshot(t, sim.url)); len(d) > 0 {
		t.Fatalf("after --force the state differs from before:\n%s", strings.Join(d, "\n"))
	}
}

// A run killed mid-way (SIGKILL) still has a usable back-out: reverting
// it restores exactly what it did. Its resumed run appends to the same
// back-out file.
func TestRevertKilledRun(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim := startSim(t, "--cupi-service-time", "3ms", "--voss-service-time", "2ms")
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--quiet"}
	base := []userRow{baseUser(0)}
	wb := filepath.Join(dir, "base.xlsx")
	writeRows(t, wb, base)
	if r := bulkprov(t, creds, append([]string{"apply", "--checkpoint", filepath.Join(dir, "base.journal"), wb}, target...)...); r.code != 0 {
		t.Fatalf("base: %d %s", r.code, r.stderr)
	}
	before := snapshot(t, sim.url)
	var many []userRow
	for i := 1; i <= 120; i++ {
		many = append(many, baseUser(i))
	}
	many = append(many, userRow{action: "delete", name: "rev000", role: "Help Desk Administrator"})
	bigWB := filepath.Join(dir, "many.xlsx")
	writeRows(t, bigWB, many)
	journal := filepath.Join(dir, "many.journal")
	args := append([]string{"apply", "--checkpoint", journal, bigWB}, target...)
	cmd := exec.Command(binary, args...)
	cmd.Env = testEnv(t, creds...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	backout := ""
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "backout: "); ok {
			backout = p
			break
		}
	}
	waitWrites(t, sim.url, 20) // mid-way, however loaded the machine
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if backout == "" {
		t.Fatal("the killed run printed no back-out path")
	}
	killed := snapshot(t, sim.url)
	t.Logf("objects: %d before, %d when killed", len(before), len(killed))
	if len(killed) == len(before) || len(killed) >= len(before)+2*120 {
		t.Skipf("the kill did not land mid-way (%d objects before, %d after)", len(before), len(killed))
	}
	if r := bulkprov(t, creds, "apply", "--revert", backout, "--quiet", "--checkpoint", filepath.Join(dir, "revert.journal")); r.code != 0 {
		t.Fatalf("revert of the killed run: exit %d\n%s", r.code, r.stderr)
	}
	if d := diffSnapshots(before, snapshot(t, sim.url)); len(d) > 0 {
		t.Fatalf("after reverting the killed run the state differs from before (%d):\n%s", len(d), strings.Join(d[:min(5, len(d))], "\n"))
	}
	// The same command resumes the killed run and appends to its back-out.
	r := bulkprov(t, creds, args...)
	if r.code != 0 || backoutPathOf(t, r.stderr) != backout {
		t.Fatalf("resume: exit %d, back-out %q, want the same %s\n%s", r.code, backoutPathOf(t, r.stderr), backout, r.stderr)
	}
	if r := bulkprov(t, creds, "apply", "--revert", backout, "--quiet", "--checkpoint", filepath.Join(dir, "revert2.journal")); r.code != 0 {
		t.Fatalf("revert of the resumed run: exit %d\n%s", r.code, r.stderr)
	}
	if d := diffSnapshots(before, snapshot(t, sim.url)); len(d) > 0 {
		t.Fatalf("after reverting the resumed run the state differs from before (%d):\n%s", len(d), strings.Join(d[:min(5, len(d))], "\n"))
	}
}

// A tenant whose voicemail lives on its own Unity Connection cluster: the
// back-out file carries the config (cupiClusters) and the revert, given no
// --config, undoes the change on that cluster.
func TestRevertOnCluster(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	cmd := exec.Command(binary, "sim", "--listen", "127.0.0.1:0", "--cupi-clusters", "aaa")
	cmd.Env = testEnv(t, creds...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup((&simProc{cmd: cmd}).stop)
	var url, aaa string
	sc := bufio.NewScanner(stdout)
	for aaa == "" && sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "voss="); ok {
			url = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "cupi.aaa="); ok {
			aaa = v
		}
	}
	if url == "" || aaa == "" {
		t.Fatal("sim printed no URLs")
	}
	go io.Copy(io.Discard, stdout)
	cfg := filepath.Join(dir, "tenant.json")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`{"defaultHierarchy": %q, "cupiClusters": {"aaa": {"url": %q, "hierarchies": [%q]}}}`, revertHier, aaa, revertHier)), 0o600); err != nil {
		t.Fatal(err)
	}
	target := []string{"--voss", url, "--cupi", url, "--config", cfg, "--quiet"}
	wb := filepath.Join(dir, "base.xlsx")
	writeRows(t, wb, []userRow{baseUser(0), baseUser(1)})
	if r := bulkprov(t, creds, append([]string{"apply", "--checkpoint", filepath.Join(dir, "base.journal"), wb}, target...)...); r.code != 0 {
		t.Fatalf("base: %d %s", r.code, r.stderr)
	}
	before := snapshotAt(t, url, aaa)
	if !strings.Contains(before["cupi/rev000"], "Help Desk Administrator") {
		t.Fatalf("the base run did not reach cluster aaa: %v", before)
	}
	change := []userRow{baseUser(0), baseUser(1), baseUser(2)}
	change[0].locked, change[0].password = "false", ""
	change[1].password = ""
	writeRows(t, wb, change)
	r := bulkprov(t, creds, append([]string{"apply", "--checkpoint", filepath.Join(dir, "change.journal"), wb}, target...)...)
	if r.code != 0 {
		t.Fatalf("change: %d %s", r.code, r.stderr)
	}
	backout := backoutPathOf(t, r.stderr)
	if len(diffSnapshots(before, snapshotAt(t, url, aaa))) < 2 {
		t.Fatal("the change changed nothing on cluster aaa")
	}
	other := filepath.Join(dir, "other.json")
	_ = os.WriteFile(other, []byte(`{"defaultHierarchy": "sys.hcs.CS-P.CS-NB.Other"}`), 0o600)
	if r := bulkprov(t, creds, "plan", "--revert", backout, "--config", other); r.code != 2 {
		t.Fatalf("plan --revert with another --config: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if r := bulkprov(t, creds, "apply", "--revert", backout, "--config", cfg, "--quiet", "--checkpoint", filepath.Join(dir, "revert.journal")); r.code != 0 {
		t.Fatalf("apply --revert: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if d := diffSnapshots(before, snapshotAt(t, url, aaa)); len(d) > 0 {
		t.Fatalf("after the revert cluster aaa differs from before:\n%s", strings.Join(d, "\n"))
	}
}

// --sim writes nothing outside the process (cli.md): no back-out file
// unless --backout names one (issue 24: it was written into the state
// folder). A named one documents the run (its simulators are gone, so it
// cannot be reverted) and its path is said, also under --quiet. An apply
// that writes nothing has none.
func TestBackoutUnderSim(t *testing.T) {
	parallelE2E(t)
	state := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + state}, creds...)
	wb := filepath.Join(t.TempDir(), "users.xlsx")
	writeRows(t, wb, []userRow{baseUser(0)})
	r := bulkprov(t, env, "apply", "--sim", "--quiet", wb)
	if r.code != 0 || strings.Contains(r.stderr, "backout: ") {
		t.Fatalf("apply --sim: exit %d\n%s", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("apply --sim wrote into the state folder: %v", ents)
	}
	named := filepath.Join(t.TempDir(), "sim.backout.json")
	r = bulkprov(t, env, "apply", "--sim", "--quiet", "--backout", named, wb)
	if r.code != 0 {
		t.Fatalf("apply --sim --backout: exit %d\n%s", r.code, r.stderr)
	}
	if path := backoutPathOf(t, r.stderr); path != named {
		t.Errorf("back-out file %s, named %s", path, named)
	}
	checkBackoutFile(t, named, []string{baseUser(0).password})
	if r := bulkprov(t, env, "plan", "--revert", named); r.code != 2 || !strings.Contains(r.stderr, "--sim") {
		t.Errorf("plan --revert of a --sim run: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if r := bulkprov(t, env, "apply", "--sim", "--quiet", "--max-changes", "0", "--backout", filepath.Join(t.TempDir(), "none.backout.json"), wb); r.code != 2 || strings.Contains(r.stderr, "backout: ") {
		t.Errorf("an apply that writes nothing: exit %d\n%s", r.code, r.stderr)
	}
}
