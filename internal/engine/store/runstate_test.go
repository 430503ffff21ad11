package store

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// Save writes, key by key, the file MarshalIndent would, and a reopened
// run state knows every hash and unknown outcome saved.
func TestRunStateSaveReopen(t *testing.T) {
	dir := t.TempDir()
	rs, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Save(); err != nil { // nothing changed: no file
		t.Fatal(err)
	}
	if _, err := os.Stat(rs.path); !os.IsNotExist(err) {
		t.Fatalf("a run state with nothing applied wrote %s", rs.path)
	}
	scopes := []string{"voss|data/User|p2|password", "cupi|cupi/credential/pin|u<1>&|Credentials", "cupi|cupi/credential/password|u1|Credentials"}
	for _, s := range scopes {
		rs.Set(s, rs.Hash(s, "value of "+s))
	}
	h9 := rs.Hash("cupi|x|u9|Credentials", "nine")
	rs.SetMaybe("cupi|x|u9|Credentials", h9, "2026-01-01T00:00:00Z")
	if err := rs.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(rs.path)
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]string{}
	for k, h := range rs.hashes {
		applied[k] = h.String()
	}
	want, _ := json.MarshalIndent(stateFile{Applied: applied, Maybe: rs.maybe, KeyCheck: keyCheck(rs.key)}, "", " ")
	if string(got) != string(want) {
		t.Errorf("file:\n%s\nwant\n%s", got, want)
	}
	again, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scopes {
		if again.Known(s) == "" || again.Known(s) != rs.Known(s) {
			t.Errorf("%s: reopened hash %q, saved %q", s, again.Known(s), rs.Known(s))
		}
	}
	if m, ok := again.Maybe("cupi|x|u9|Credentials"); !ok || m.Hash != h9 {
		t.Errorf("unknown outcome %+v %v after reopening", m, ok)
	}
}

// saved makes a state folder with records (two applied, one unknown
// outcome) as a run leaves it, and returns its path.
func saved(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rs, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"voss|data/User|p1|password", "cupi|cupi/credential/pin|u1|Credentials"} {
		rs.Set(s, rs.Hash(s, "v"))
	}
	rs.SetMaybe("cupi|x|u9|Credentials", rs.Hash("cupi|x|u9|Credentials", "w"), "2026-01-01T00:00:00Z")
	if err := rs.Save(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Issue 23 finding 4: damaged state was taken as "nothing applied" and
// every secret re-sent without a word (and an unreadable file was then
// written over). Each damage is refused, naming the file and the way out,
// and nothing is changed; --force-secrets moves the damage aside.
func TestDamagedRunStateRefused(t *testing.T) {
	replace := func(name, content string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	edit := func(from, to string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, RunStateFile)
			b, _ := os.ReadFile(p)
			re := regexp.MustCompile(from)
			if !re.Match(b) {
				t.Fatalf("no %s in %s", from, b)
			}
			os.WriteFile(p, re.ReplaceAll(b, []byte(to)), 0o600)
		}
	}
	for _, c := range []struct {
		name, file, problem string
		damage              func(t *testing.T, dir string)
	}{
		{"non-hex hash", RunStateFile, "is not a keyed hash", edit(`"voss\|data/User\|p1\|password": "[0-9a-f]{64}"`, `"voss|data/User|p1|password": "zz"`)},
		{"non-hex unknown outcome", RunStateFile, "is not a keyed hash", edit(`"hash": "[0-9a-f]{64}"`, `"hash": "h9"`)},
		{"not JSON", RunStateFile, "does not parse", replace(RunStateFile, `{"applied": {`)},
		{"unreadable", RunStateFile, "cannot be read", func(t *testing.T, dir string) {
			p := filepath.Join(dir, RunStateFile)
			os.Remove(p)
			os.Mkdir(p, 0o700) // reads fail, as root too
		}},
		{"key lost", HashKeyFile, "is missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, HashKeyFile)) }},
		{"key empty", HashKeyFile, "is empty", replace(HashKeyFile, "")},
		{"key short", HashKeyFile, "holds 5 bytes", replace(HashKeyFile, "short")},
		{"key changed", HashKeyFile, "changed", replace(HashKeyFile, strings.Repeat("k", 32))},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := saved(t)
			c.damage(t, dir)
			before := snapshot(t, dir)
			_, err := OpenRunState(dir, false)
			var de *DamagedStateError
			if !errors.As(err, &de) {
				t.Fatalf("opened damaged state: %v", err)
			}
			for _, want := range []string{filepath.Join(dir, c.file), c.problem, "--force-secrets", "Restore"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if after := snapshot(t, dir); !maps.Equal(before, after) {
				t.Errorf("refusing changed the folder:\n%v\n%v", before, after)
			}
			// --force-secrets: the damage is kept aside, the run starts
			// with no records.
			rs, err := OpenRunState(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			if !rs.Fresh() || len(rs.Recovered) == 0 {
				t.Errorf("forced: fresh %v, recovered %v", rs.Fresh(), rs.Recovered)
			}
			for _, p := range rs.Recovered {
				name := strings.SplitN(filepath.Base(p), ".damaged-", 2)[0]
				if _, ok := before[name]; ok && snapshot(t, dir)[filepath.Base(p)] != before[name] {
					t.Errorf("%s does not hold the damaged %s", p, name)
				}
			}
			rs.Set("s", rs.Hash("s", "x"))
			if err := rs.Save(); err != nil {
				t.Fatal(err)
			}
			if again, err := OpenRunState(dir, false); err != nil || again.Known("s") == "" {
				t.Errorf("after a forced run: %v", err)
			}
		})
	}
}

// snapshot is every file of dir by name: its bytes, or "dir".
func snapshot(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			out[e.Name()] = "dir"
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out[e.Name()] = string(b)
	}
	return out
}

// A new folder is no error: a 32-byte 0600 key is made, the state is fresh.
func TestNewRunStateFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	rs, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Fresh() {
		t.Error("a new folder is not fresh")
	}
	st, err := os.Stat(filepath.Join(dir, HashKeyFile))
	if err != nil || st.Size() != 32 || st.Mode().Perm() != 0o600 {
		t.Fatalf("key %v %v", st, err)
	}
	if again, _ := OpenRunState(dir, false); !again.Fresh() || string(again.key) != string(rs.key) {
		t.Error("reopened: another key")
	}
}

// Issue 23 finding 1, in process: two runs holding copies of one state
// file lost each other's records (the last save replaced the file). Each
// save merges its own changes into the file on disk: 20 rounds, two
// writers interleaved, nothing lost.
func TestRunStateSavesMerge(t *testing.T) {
	dir := t.TempDir()
	want := map[string]string{}
	for round := range 20 {
		a, err := OpenRunState(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		b, err := OpenRunState(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 40 {
			sa, sb := fmt.Sprintf("voss|A|%d-%d|password", round, i), fmt.Sprintf("voss|B|%d-%d|password", round, i)
			a.Set(sa, a.Hash(sa, "a"))
			b.Set(sb, b.Hash(sb, "b"))
			want[sa], want[sb] = a.Known(sa), b.Known(sb)
		}
		// b also learns an unknown outcome, a settles one b recorded
		// in an earlier round.
		b.SetMaybe(fmt.Sprintf("m%d", round), b.Hash("m", "x"), "t")
		if round > 0 {
			a.ForgetMaybe(fmt.Sprintf("m%d", round-1))
		}
		first, second := a, b
		if round%2 == 1 {
			first, second = b, a
		}
		if err := first.Save(); err != nil {
			t.Fatal(err)
		}
		if err := second.Save(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for s, h := range want {
		if got.Known(s) != h {
			lost++
		}
	}
	if lost > 0 || len(got.hashes) != len(want) {
		t.Errorf("%d of %d records lost (%d kept)", lost, len(want), len(got.hashes))
	}
	if _, ok := got.Maybe("m19"); !ok {
		t.Error("the last unknown outcome lost")
	}
	if _, ok := got.Maybe("m18"); ok {
		t.Error("a settled unknown outcome came back")
	}
}

// A file damaged while the run held it is not written over at the save.
func TestRunStateSaveKeepsDamage(t *testing.T) {
	dir := saved(t)
	rs, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	rs.Set("new", rs.Hash("new", "v"))
	p := filepath.Join(dir, RunStateFile)
	os.WriteFile(p, []byte("garbage"), 0o600)
	if err := rs.Save(); err == nil || !strings.Contains(err.Error(), "not saved") {
		t.Fatalf("save over a damaged file: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "garbage" {
		t.Errorf("damaged file written over: %q", b)
	}
}

// The key is made once: racing makers all end with the one key linked
// into place first (issue 23 finding 1: a hash stored under a key then
// replaced).
func TestHashKeyMadeOnce(t *testing.T) {
	for range 20 {
		dir := t.TempDir()
		keys := make([][]byte, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := createKey(filepath.Join(dir, HashKeyFile))
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			}()
		}
		wg.Wait()
		onDisk, _ := os.ReadFile(filepath.Join(dir, HashKeyFile))
		for i, k := range keys {
			if string(k) != string(onDisk) {
				t.Fatalf("maker %d uses a key not on disk", i)
			}
		}
	}
}
