package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// sshKeygenPath is the real ssh-keygen, or the test is skipped (.ci/run
// installs openssh-client).
func sshKeygenPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed (apt-get install openssh-client)")
	}
	return p
}

func sshKeygen(t *testing.T, stdin string, args ...string) error {
	t.Helper()
	cmd := exec.Command(sshKeygenPath(t), args...)
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	out, err := cmd.CombinedOutput()
	t.Logf("ssh-keygen %s: %s", strings.Join(args, " "), bytes.TrimSpace(out))
	return err
}

// keygenSignAs signs file with ssh-keygen -Y sign in namespace ns into
// dest.
func keygenSignAs(t *testing.T, key, ns, file, dest string) {
	t.Helper()
	if err := sshKeygen(t, "", "-Y", "sign", "-n", ns, "-f", key, file); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".sig", dest); err != nil {
		t.Fatal(err)
	}
}

// auditLines reads an audit log's records.
func auditLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// The change board's packet end to end, with the real ssh-keygen against
// the built binary and a bulkprov sim process: under a two-approver
// policy each short or wrong set of signatures is refused with exit 2,
// nothing written and no journal left; two valid signatures apply and the
// report names both; the back-out plan needs its own approvals; the audit
// log holds every run, refused ones too, and verify finds an edited byte.
func TestChangeBoardApproval(t *testing.T) {
	parallelE2E(t)
	sshKeygenPath(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	env := append([]string{"BULKPROV_STATE_DIR=" + state, "XDG_STATE_HOME=" + dir}, creds...)
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	run := func(want int, args ...string) result {
		t.Helper()
		r := bulkprov(t, env, args...)
		if r.code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, r.code, want, r.stdout, r.stderr)
		}
		if args[0] != "audit" && !strings.Contains(r.stderr, "audit: ") {
			t.Errorf("%v: no audit: line on stderr:\n%s", args, r.stderr)
		}
		return r
	}
	keys := map[string]string{}
	var allowed []string
	for _, n := range []string{"alice", "bob", "mallory"} {
		keys[n] = filepath.Join(dir, n)
		if err := sshKeygen(t, "", "-q", "-t", "ed25519", "-N", "", "-C", n, "-f", keys[n]); err != nil {
			t.Fatal(err)
		}
		pub, _ := os.ReadFile(keys[n] + ".pub")
		if n != "mallory" {
			allowed = append(allowed, n+"@board.example "+strings.TrimSpace(string(pub)))
		}
	}
	signers := filepath.Join(dir, "allowed_signers")
	os.WriteFile(signers, []byte(strings.Join(allowed, "\n")+"\n"), 0o644)
	policy := []string{"--allowed-signers", signers, "--approvals", "2"}

	var users []userRow
	for i := 0; i < 4; i++ {
		users = append(users, baseUser(i+40))
	}
	wb := filepath.Join(dir, "change.xlsx")
	writeRows(t, wb, users)
	plan := filepath.Join(dir, "plan.json")
	run(0, append([]string{"plan", "--quiet", "--out", plan, wb}, target...)...)
	planBytes, _ := os.ReadFile(plan)

	nothingWritten := func(t *testing.T, before map[string]int) {
		t.Helper()
		if after := sim.writes(t); !reflect.DeepEqual(before, after) {
			t.Errorf("writes %v, before %v", after, before)
		}
		left, _ := filepath.Glob(filepath.Join(state, "checkpoints", "*"))
		if len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	}
	clearSigs := func() {
		sigs, _ := filepath.Glob(plan + "*.sig")
		for _, s := range sigs {
			os.Remove(s)
		}
		os.WriteFile(plan, planBytes, 0o644)
	}
	apply := append(append([]string{"apply", "--quiet", "--plan", plan}, target...), policy...)

	cases := []struct {
		name string
		sign func()
		want string
	}{
		{"unsigned", func() {}, "no signature found"},
		{"one signature", func() { keygenSignAs(t, keys["alice"], "bulkprov-plan", plan, plan+".alice.sig") }, "1 of the 2 approval(s)"},
		{"changed by one byte after signing", func() {
			keygenSignAs(t, keys["alice"], "bulkprov-plan", plan, plan+".alice.sig")
			keygenSignAs(t, keys["bob"], "bulkprov-plan", plan, plan+".bob.sig")
			b := append([]byte(nil), planBytes...)
			b[len(b)-1] = ' ' // the final newline: still the same JSON
			os.WriteFile(plan, b, 0o644)
		}, "the plan changed since it was signed"},
		{"a key not allowed", func() {
			keygenSignAs(t, keys["alice"], "bulkprov-plan", plan, plan+".alice.sig")
			keygenSignAs(t, keys["mallory"], "bulkprov-plan", plan, plan+".mallory.sig")
		}, "key not allowed"},
		{"another namespace", func() {
			keygenSignAs(t, keys["alice"], "bulkprov-plan", plan, plan+".alice.sig")
			keygenSignAs(t, keys["bob"], "git", plan, plan+".bob.sig")
		}, `wrong namespace "git"`},
		{"one key signing twice", func() {
			keygenSignAs(t, keys["alice"], "bulkprov-plan", plan, plan+".sig")
			run(0, "approve", "--key", keys["alice"], "--allowed-signers", signers, plan)
		}, "a key counts once"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearSigs()
			tc.sign()
			before := sim.writes(t)
			r := run(2, apply...)
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "nothing was written") {
				t.Errorf("refusal lacks %q:\n%s", tc.want, r.stderr)
			}
			nothingWritten(t, before)
		})
	}
	clearSigs()
	// Under a policy, apply without a plan is refused, also from the config.
	cfg := filepath.Join(dir, "config.json")
	os.WriteFile(cfg, []byte(`{"approval": {"allowedSigners": "allowed_signers", "required": 2}}`), 0o644)
	before := sim.writes(t)
	r := run(2, append([]string{"apply", "--quiet", "--config", cfg, wb}, target...)...)
	if !strings.Contains(r.stderr, "an approval policy is in force (2 signature(s) of "+signers) {
		t.Errorf("apply without --plan under the config's policy:\n%s", r.stderr)
	}
	nothingWritten(t, before)

	// Two valid signatures: bulkprov approve's (which ssh-keygen verifies)
	// and ssh-keygen's.
	r = run(0, "approve", "--key", keys["alice"], "--allowed-signers", signers, plan)
	aliceSig := plan + ".alice@board.example.sig"
	if !strings.Contains(r.stdout, aliceSig) {
		t.Errorf("approve does not name %s:\n%s", aliceSig, r.stdout)
	}
	if err := sshKeygen(t, plan, "-Y", "verify", "-f", signers, "-I", "alice@board.example", "-n", "bulkprov-plan", "-s", aliceSig); err != nil {
		t.Errorf("ssh-keygen -Y verify refuses what bulkprov approve wrote: %v", err)
	}
	keygenSignAs(t, keys["bob"], "bulkprov-plan", plan, plan+".bob.sig")
	rep := filepath.Join(dir, "apply.json")
	r = run(0, append(apply, "--report", rep)...)
	var doc struct {
		Run struct {
			Plan      struct{ SHA256 string }
			Approvals []struct{ Principal, Key string }
		}
	}
	b, _ := os.ReadFile(rep)
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Run.Approvals) != 2 ||
		doc.Run.Approvals[0].Principal != "alice@board.example" || doc.Run.Approvals[1].Principal != "bob@board.example" ||
		!strings.HasPrefix(doc.Run.Approvals[0].Key, "SHA256:") || doc.Run.Plan.SHA256 == "" {
		t.Errorf("the report's approvals: %+v (%v)", doc.Run, err)
	}
	backout := backoutPathOf(t, r.stderr)

	// The back-out plan is approved the same way.
	revPlan := filepath.Join(dir, "revert-plan.json")
	run(0, "plan", "--quiet", "--revert", backout, "--out", revPlan)
	before = sim.writes(t)
	r = run(2, append([]string{"apply", "--quiet", "--revert", backout, "--plan", revPlan}, policy...)...)
	if !strings.Contains(r.stderr, "0 of the 2") {
		t.Errorf("an unsigned back-out plan:\n%s", r.stderr)
	}
	if after := sim.writes(t); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused revert wrote: %v, before %v", after, before)
	}
	run(0, "approve", "--key", keys["alice"], "--allowed-signers", signers, revPlan)
	run(0, "approve", "--key", keys["bob"], "--allowed-signers", signers, revPlan)
	run(0, append([]string{"apply", "--quiet", "--revert", backout, "--plan", revPlan}, policy...)...)

	// The audit: every run, the refused ones too, in one unbroken chain.
	log := filepath.Join(state, "audit.jsonl")
	recs := auditLines(t, log)
	var commands []string
	for _, rec := range recs {
		commands = append(commands, fmt.Sprintf("%s:%v", rec["command"], rec["exit"]))
	}
	want := "plan:0 apply:2 apply:2 apply:2 apply:2 apply:2 approve:0 apply:2 apply:2 approve:0 apply:0 plan --revert:0 apply --revert:2 approve:0 approve:0 apply --revert:0"
	if strings.Join(commands, " ") != want {
		t.Errorf("audit records:\n%s\nwant\n%s", strings.Join(commands, " "), want)
	}
	applied := recs[10]
	if applied["plan_sha256"] != doc.Run.Plan.SHA256 || len(applied["approvers"].([]any)) != 2 || applied["backout"] != backout {
		t.Errorf("the apply's audit record: %v", applied)
	}
	if b, _ := os.ReadFile(log); bytes.Contains(b, []byte("sim-admin-Secret-9")) {
		t.Error("a password reached the audit log")
	}
	r = run(0, "audit", "verify")
	if !strings.Contains(r.stdout, fmt.Sprintf("%d line(s), chain intact", len(recs))) {
		t.Errorf("audit verify: %s", r.stdout)
	}
	r = run(0, "audit")
	if !strings.Contains(r.stdout, "alice@board.example,bob@board.example") {
		t.Errorf("audit does not list the approvers:\n%s", r.stdout)
	}
	// Each byte of a middle record changed (a sample of them: every 7th)
	// breaks the chain there. The first is verified by the binary, the
	// others by run, its code in this process: a race-enabled process per
	// byte took a minute.
	orig, _ := os.ReadFile(log)
	lines := bytes.SplitAfter(orig, []byte("\n"))
	start := 0
	for _, l := range lines[:5] {
		start += len(l)
	}
	for i := 0; i < len(lines[5])-1; i += 7 {
		b := append([]byte(nil), orig...)
		b[start+i] ^= 0x20
		os.WriteFile(log, b, 0o600)
		var r result
		if i == 0 {
			r = bulkprov(t, env, "audit", "verify")
		} else {
			r = runHere("audit", "verify", "--audit-log", log)
		}
		if r.code != 1 || !(strings.Contains(r.stderr, "breaks at line 6") || strings.Contains(r.stderr, "breaks at line 7")) {
			t.Fatalf("byte %d of line 6 changed: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	os.WriteFile(log, orig, 0o600)
}

// lastAuditHead returns the hash of the last "audit: " line of stderr.
func lastAuditHead(t *testing.T, stderr string) string {
	t.Helper()
	h := ""
	for _, l := range strings.Split(stderr, "\n") {
		if v, ok := strings.CutPrefix(l, "audit: "); ok {
			h = v
		}
	}
	return h
}

// Two applies started together, on one state folder, leave one valid
// chain; a --sim run keeps its audit in memory unless --audit-log names
// a file, and an anchored head finds the tail cut off.
func TestAuditChainUnderConcurrentRuns(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	env := append([]string{"BULKPROV_STATE_DIR=" + state, "XDG_STATE_HOME=" + dir}, creds...)
	sim := startSim(t)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wb := filepath.Join(dir, fmt.Sprintf("w%d.xlsx", i))
		writeRows(t, wb, []userRow{baseUser(60 + i), baseUser(70 + i)})
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = bulkprov(t, env, "apply", "--quiet", "--voss", sim.url, "--cupi", sim.url, wb)
		}(i)
	}
	wg.Wait()
	var heads []string
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("apply %d: exit %d\n%s", i, r.code, r.stderr)
		}
		heads = append(heads, lastAuditHead(t, r.stderr))
	}
	r := bulkprov(t, env, "audit", "verify")
	if r.code != 0 || !strings.Contains(r.stdout, "2 line(s), chain intact") {
		t.Fatalf("audit verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Each printed head is a line of the log; cut the last line off and
	// the chain still holds, but the anchored head is gone.
	log := filepath.Join(state, "audit.jsonl")
	final := strings.Fields(r.stdout)[len(strings.Fields(r.stdout))-1]
	if final != heads[0] && final != heads[1] {
		t.Errorf("the log's head %s is neither printed head %v", final, heads)
	}
	for _, h := range heads {
		if r := bulkprov(t, env, "audit", "verify", "--head", h); r.code != 0 {
			t.Errorf("verify --head %s: exit %d %s", h, r.code, r.stderr)
		}
	}
	b, _ := os.ReadFile(log)
	lines := bytes.SplitAfter(b, []byte("\n"))
	os.WriteFile(log, lines[0], 0o600)
	if r := bulkprov(t, env, "audit", "verify"); r.code != 0 {
		t.Errorf("a log cut back still chains: exit %d %s", r.code, r.stderr)
	}
	if r := bulkprov(t, env, "audit", "verify", "--head", final); r.code != 1 || !strings.Contains(r.stderr, "was cut back") {
		t.Errorf("verify --head after the tail was cut: exit %d %s", r.code, r.stderr)
	}

	// --sim: in memory, unless named.
	os.RemoveAll(state)
	r = bulkprov(t, env, "plan", "--sim", "--quiet", "../../samples/tenant.xlsx")
	if r.code != 0 || lastAuditHead(t, r.stderr) == "" {
		t.Fatalf("plan --sim: exit %d, no audit head?\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("plan --sim wrote into the state folder: %v", err)
	}
	named := filepath.Join(dir, "sim-audit.jsonl")
	r = bulkprov(t, env, "plan", "--sim", "--quiet", "--audit-log", named, "../../samples/tenant.xlsx")
	if recs := auditLines(t, named); r.code != 0 || len(recs) != 1 || recs[0]["command"] != "plan" {
		t.Errorf("plan --sim --audit-log: exit %d, %v", r.code, recs)
	}
}
