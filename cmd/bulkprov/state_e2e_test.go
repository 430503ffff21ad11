package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/statedir"
)

// Shared state and damaged files (issue 23 findings 1, 4 and 6; issue 24's
// state hygiene). Every run here names its own state folder.

// extSeq numbers the extensions nightlyCSV gives (tests run in parallel).
var extSeq atomic.Int64

// nightlyCSV writes n data/User rows with passwords, usernames prefixed.
func nightlyCSV(t *testing.T, path, prefix string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,role,password,DtmfAccessId\n")
	for i := range n {
		fmt.Fprintf(&b, "add,%s%03d,Help Desk Administrator,Night-Pass-%s-%03d,7%06d\n", prefix, i, prefix, i, extSeq.Add(1))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// stateEnv points a run's state folder (and XDG/HOME) at dir.
func stateEnv(dir string) []string {
	return append(append([]string(nil), creds...), "BULKPROV_STATE_DIR="+dir)
}

// records counts the applied-secret records of a state folder.
func records(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, engine.RunStateFile))
	if err != nil {
		t.Fatal(err)
	}
	var sf struct {
		Applied map[string]string `json:"applied"`
	}
	if err := json.Unmarshal(b, &sf); err != nil {
		t.Fatal(err)
	}
	return len(sf.Applied)
}

// Finding 1: two tenants' nightly CSVs (40 users each) started together
// on one state folder lost half the records (80 of 160, 8 of 8 tries).
// Now the second run waits for the first, and every record is kept. CI
// runs 4 rounds, each of which must keep every record, and in one at least
// the second run must have waited (else nothing overlapped); the figures
// in RELIABILITY.md are of 20:
//
//	BULKPROV_OVERLAP_ROUNDS=20 go test ./cmd/bulkprov -run TestOverlappingRunsKeepEveryRecord -v
func TestOverlappingRunsKeepEveryRecord(t *testing.T) {
	parallelE2E(t)
	rounds := envInt("BULKPROV_OVERLAP_ROUNDS", 4)
	sim := startSim(t)
	dir := t.TempDir()
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--quiet"}
	solo := filepath.Join(dir, "solo")
	nightlyCSV(t, filepath.Join(dir, "solo.csv"), "solo", 40)
	if r := bulkprov(t, stateEnv(solo), append([]string{"apply"}, append(target, filepath.Join(dir, "solo.csv"))...)...); r.code != 0 {
		t.Fatalf("solo run: exit %d\n%s", r.code, r.stderr)
	}
	per := records(t, solo)
	if per < 40 {
		t.Fatalf("a run of 40 users left %d records", per)
	}
	lost, waited := 0, 0
	for round := range rounds {
		state := filepath.Join(dir, fmt.Sprintf("state%d", round))
		var cmds [2]*exec.Cmd
		var errs [2]bytes.Buffer
		for i, tenant := range []string{"a", "b"} {
			csv := filepath.Join(dir, fmt.Sprintf("%s%d.csv", tenant, round))
			nightlyCSV(t, csv, fmt.Sprintf("r%d%s", round, tenant), 40)
			cmds[i] = exec.Command(binary, append([]string{"apply"}, append(target, csv)...)...)
			cmds[i].Env = testEnv(t, stateEnv(state)...)
			cmds[i].Stderr = &errs[i]
		}
		for _, c := range cmds {
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
		}
		for i, c := range cmds {
			if err := c.Wait(); err != nil {
				t.Fatalf("round %d run %d: %v\n%s", round, i, err, errs[i].String())
			}
			if strings.Contains(errs[i].String(), "is held by pid") {
				waited++
			}
		}
		if n := records(t, state); n != 2*per {
			lost += 2*per - n
			t.Errorf("round %d: %d records, want %d", round, n, 2*per)
		}
	}
	t.Logf("%d rounds of two overlapping runs: %d record(s) lost; the second run waited in %d round(s)", rounds, lost, waited)
	if waited == 0 {
		t.Fatal("in no round did the second run wait for the first: nothing overlapped, the test proves nothing")
	}
}

// A second run on a held state folder waits --wait, saying so, then exits
// 3 naming the holder; nothing is written.
func TestHeldStateFolderExits3NamingHolder(t *testing.T) {
	parallelE2E(t)
	state := t.TempDir()
	held, err := statedir.Open(context.Background(), state, statedir.Options{Command: "bulkprov apply tenant-a.csv"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	r := bulkprov(t, stateEnv(state), "plan", "--wait", "20ms", "--voss", "http://127.0.0.1:1", "../../samples/users.csv")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"waiting up to 20ms", fmt.Sprintf("pid %d", os.Getpid()), "bulkprov apply tenant-a.csv", "run the same command again"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(state, engine.HashKeyFile)); err == nil {
		t.Error("a refused run made hash.key")
	}
}

// Finding 4: damaged state was taken as "nothing applied" (every password
// re-sent, an unreadable file then overwritten). Each damage exits 2
// naming the file and the way out, and changes nothing; --force-secrets
// keeps the damage aside and goes on.
func TestDamagedStateExits2(t *testing.T) {
	parallelE2E(t)
	sim := startSim(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "n.csv")
	nightlyCSV(t, csv, "dmg", 5)
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--quiet"}
	base := filepath.Join(dir, "base")
	if r := bulkprov(t, stateEnv(base), append([]string{"apply"}, append(target, csv)...)...); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, c := range []struct {
		name, file, says string
		damage           func(dir string)
	}{
		{"non-hex hash", engine.RunStateFile, "is not a keyed hash", func(d string) {
			p := filepath.Join(d, engine.RunStateFile)
			b, _ := os.ReadFile(p)
			var sf map[string]any
			json.Unmarshal(b, &sf)
			for k := range sf["applied"].(map[string]any) {
				sf["applied"].(map[string]any)[k] = "not-hex"
				break
			}
			b, _ = json.Marshal(sf)
			os.WriteFile(p, b, 0o600)
		}},
		{"key lost", engine.HashKeyFile, "is missing", func(d string) { os.Remove(filepath.Join(d, engine.HashKeyFile)) }},
		{"key empty", engine.HashKeyFile, "is empty", func(d string) { os.WriteFile(filepath.Join(d, engine.HashKeyFile), nil, 0o600) }},
		{"key changed", engine.HashKeyFile, "changed", func(d string) {
			os.WriteFile(filepath.Join(d, engine.HashKeyFile), bytes.Repeat([]byte{7}, 32), 0o600)
		}},
		{"unreadable", engine.RunStateFile, "cannot be read", func(d string) {
			p := filepath.Join(d, engine.RunStateFile)
			os.Remove(p)
			os.Mkdir(p, 0o700)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			os.Mkdir(state, 0o700)
			for _, f := range []string{engine.RunStateFile, engine.HashKeyFile} {
				copyFile(t, filepath.Join(base, f), filepath.Join(state, f))
			}
			c.damage(state)
			before := dirFiles(t, state)
			r := bulkprov(t, stateEnv(state), append([]string{"apply"}, append(target, csv)...)...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			for _, want := range []string{filepath.Join(state, c.file), c.says, "--force-secrets", "Restore"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
				}
			}
			if after := dirFiles(t, state); after != before {
				t.Errorf("the refused run changed the state folder:\n%s\nnow\n%s", before, after)
			}
			// The next night's passwords (a server refuses one reused).
			b, _ := os.ReadFile(csv)
			next := filepath.Join(t.TempDir(), "n.csv")
			os.WriteFile(next, bytes.ReplaceAll(b, []byte("Night-Pass"), []byte("Next-Pass-"+strings.ReplaceAll(c.name, " ", "-"))), 0o600)
			r = bulkprov(t, stateEnv(state), append([]string{"apply", "--force-secrets"}, append(target, next)...)...)
			if r.code != 0 || !strings.Contains(r.stderr, ".damaged-") {
				t.Fatalf("--force-secrets: exit %d\n%s", r.code, r.stderr)
			}
			if n := records(t, state); n == 0 {
				t.Error("--force-secrets kept no records")
			}
		})
	}
}

// dirFiles lists a folder's files with their sizes and bytes' hash.
func dirFiles(t *testing.T, dir string) string {
	var b strings.Builder
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		// The lock, and the audit log: a refused run is audited by
		// contract (cli.md, "Approval and audit"), an append-only record.
		if e.Name() == statedir.LockName || e.Name() == auditFileName {
			continue
		}
		c, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s %v %x\n", e.Name(), e.IsDir(), c)
	}
	return b.String()
}

// Finding 6: --checkpoint and --backout followed symlinks and wrote over
// files that were not bulkprov's, even on runs that exit 2.
func TestForeignCheckpointAndBackoutRefused(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("someone else's file\n"), 0o600)
	link := filepath.Join(dir, "link.journal")
	os.Symlink(victim, link)
	oneLine := filepath.Join(dir, "notes.journal")
	os.WriteFile(oneLine, []byte("my notes\n"), 0o600)
	linkB := filepath.Join(dir, "link.backout.json")
	os.Symlink(victim, linkB)
	oneLineB := filepath.Join(dir, "notes.json")
	os.WriteFile(oneLineB, []byte("{\"mine\": true}\n"), 0o600)
	state := filepath.Join(dir, "state")
	for _, c := range []struct {
		name string
		args []string
		file string
	}{
		{"checkpoint symlink", []string{"--checkpoint", link}, victim},
		{"checkpoint one-line file", []string{"--checkpoint", oneLine}, oneLine},
		{"checkpoint symlink, run refused anyway", []string{"--checkpoint", link, "--max-changes", "0"}, victim},
		{"backout symlink", []string{"--backout", linkB}, victim},
		{"backout one-line file", []string{"--backout", oneLineB}, oneLineB},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, _ := os.ReadFile(c.file)
			r := bulkprov(t, stateEnv(state), append(append([]string{"apply", "--sim"}, c.args...), "../../samples/users.csv")...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "not a bulkprov") {
				t.Errorf("stderr: %s", r.stderr)
			}
			if after, _ := os.ReadFile(c.file); !bytes.Equal(before, after) {
				t.Errorf("%s now %q", c.file, after)
			}
		})
	}
}

// Finding 6: an existing state folder others may write is refused; a new
// one is made 0700.
func TestStateFolderModes(t *testing.T) {
	parallelE2E(t)
	sim := startSim(t)
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	r := bulkprov(t, stateEnv(open), "plan", "--voss", sim.url, "--cupi", sim.url, "../../samples/users.csv")
	if r.code != 2 || !strings.Contains(r.stderr, "writable by others") {
		t.Fatalf("0777 state folder: exit %d\n%s", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(open); len(ents) != 0 {
		t.Errorf("files made in a refused folder: %v", ents)
	}
	fresh := filepath.Join(dir, "a", "new")
	bulkprov(t, stateEnv(fresh), "plan", "--voss", sim.url, "--cupi", sim.url, "../../samples/users.csv")
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("new state folder: %v %v", st, err)
	}
}

// Issue 24: --sim wrote checkpoints' back-out files into the user's state
// folder. It writes nothing outside the process.
func TestSimWritesNoState(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	env := append(append([]string(nil), creds...), "BULKPROV_STATE_DIR="+filepath.Join(dir, "state"),
		"XDG_STATE_HOME="+filepath.Join(dir, "xdg"), "HOME="+filepath.Join(dir, "home"))
	for _, args := range [][]string{{"apply", "--sim"}, {"plan", "--sim"}} {
		if r := bulkprov(t, env, append(args, "../../samples/tenant.xlsx")...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	for _, d := range []string{"state", "xdg", "home"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("--sim made %s", d)
		}
	}
}

// Issue 24: a new (or lost) state folder against objects that exist
// re-sent every password without a word. It warns, with the count,
// before any is sent; a new folder against new objects says nothing.
func TestLostStateFolderWarns(t *testing.T) {
	parallelE2E(t)
	sim := startSim(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "n.csv")
	nightlyCSV(t, csv, "lost", 6)
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--quiet"}
	r := bulkprov(t, stateEnv(filepath.Join(dir, "first")), append([]string{"apply"}, append(target, csv)...)...)
	if r.code != 0 || strings.Contains(r.stderr, "warning:") {
		t.Fatalf("first run into a new folder: exit %d\n%s", r.code, r.stderr)
	}
	n := records(t, filepath.Join(dir, "first"))
	want := fmt.Sprintf("warning: %d secret(s)", n)
	for _, cmd := range []string{"plan", "apply"} {
		rj := filepath.Join(dir, cmd+".json")
		r = bulkprov(t, stateEnv(filepath.Join(dir, "lost-"+cmd)), append([]string{cmd, "--report", rj}, append(target, csv)...)...)
		if r.code > 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "holds no record") {
			t.Fatalf("%s with a lost state folder: exit %d\n%s", cmd, r.code, r.stderr)
		}
		// The report counts them as the warning does (the account's
		// resent_secrets).
		var doc struct {
			Account struct {
				Resent int `json:"resent_secrets"`
			} `json:"account"`
		}
		if b, err := os.ReadFile(rj); err != nil || json.Unmarshal(b, &doc) != nil || doc.Account.Resent != n {
			t.Errorf("%s report: resent_secrets %d, want %d (%v)", cmd, doc.Account.Resent, n, err)
		}
		if cmd == "apply" && strings.Index(r.stderr, "warning:") > strings.Index(r.stderr, "backout:") {
			t.Errorf("warned after the first write:\n%s", r.stderr)
		}
	}
}

// Finding 6: a run killed at its first back-out write left a 0-byte
// back-out file, and every resume (and revert) was refused for good while
// the message said "run the same command again". The header is written
// again on resume, and the file then reverts.
func TestResumeRebuildsEmptyBackout(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "u.csv")
	nightlyCSV(t, csv, "bo", 3)
	journal, backout := filepath.Join(dir, "j.journal"), filepath.Join(dir, "b.backout.json")
	sim := startSim(t)
	args := []string{"apply", "--voss", sim.url, "--cupi", sim.url, "--quiet", "--checkpoint", journal, "--backout", backout, csv}
	env := stateEnv(filepath.Join(dir, "state"))
	if r := bulkprov(t, env, args...); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	// The same run as killed at its first back-out write, against a
	// server that has none of it yet: the journal holds its run and
	// back-out lines only, the back-out file nothing.
	sim.stop()
	again := exec.Command(binary, "sim", "--listen", strings.TrimPrefix(sim.url, "http://"))
	again.Env = testEnv(t, creds...)
	out, _ := again.StdoutPipe()
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = again.Process.Kill(); _ = again.Wait() }()
	sc := bufio.NewScanner(out) // serving once it prints its URLs
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "cupi=") {
	}
	go io.Copy(io.Discard, out)
	b, _ := os.ReadFile(journal)
	var keep []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(`{"type":"run"`)) || bytes.HasPrefix(line, []byte(`{"type":"backout"`)) {
			keep = append(keep, line...)
		}
	}
	os.WriteFile(journal, keep, 0o600)
	os.WriteFile(backout, nil, 0o600)
	r := bulkprov(t, env, args...)
	if r.code != 0 || !strings.Contains(r.stderr, "resuming from checkpoint") {
		t.Fatalf("resume with a 0-byte back-out file: exit %d\n%s", r.code, r.stderr)
	}
	if r := bulkprov(t, env, "plan", "--revert", backout); r.code != 0 {
		t.Fatalf("plan --revert: exit %d\n%s", r.code, r.stderr)
	}
}

// A run killed (SIGKILL) while it holds the state folder leaves no lock in
// the way: the kernel drops it with the process. The next run takes the
// folder at once (no wait) and resumes.
func TestKilledRunLeavesNoLock(t *testing.T) {
	parallelE2E(t)
	sim := startSim(t, "--cupi-service-time", "20ms")
	dir := t.TempDir()
	csv := filepath.Join(dir, "k.csv")
	nightlyCSV(t, csv, "kil", 60)
	env := stateEnv(filepath.Join(dir, "state"))
	args := []string{"apply", "--voss", sim.url, "--cupi", sim.url, "--quiet", "--wait", "0s", csv}
	cmd := exec.Command(binary, args...)
	cmd.Env = testEnv(t, env...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "backout: ") { // printed while it holds the folder
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	r := bulkprov(t, env, args...)
	if r.code != 0 || strings.Contains(r.stderr, "held by") {
		t.Fatalf("the run after a killed one: exit %d\n%s", r.code, r.stderr)
	}
}
