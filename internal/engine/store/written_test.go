package store

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What a run wrote is remembered across runs as keyed hashes with its
// time, merged with what another run saved meanwhile, never in clear.
func TestWrittenRemembered(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC)
	a.SetWritten("voss|data/User|p1|email", "J.Doe@x.com", at)
	// Another process saves meanwhile.
	b, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	b.SetWritten("voss|data/User|p2|email", "A.B@x.com", at)
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	// The same value again keeps the first time.
	a.SetWritten("voss|data/User|p1|email", "J.Doe@x.com", at.Add(time.Hour))
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	c, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for scope, value := range map[string]string{"voss|data/User|p1|email": "J.Doe@x.com", "voss|data/User|p2|email": "A.B@x.com"} {
		since, ok := c.WrittenSince(scope, value)
		if !ok || !since.Equal(at) {
			t.Errorf("%s: %v %v; want %q written at %v", scope, since, ok, value, at)
		}
		if _, ok := c.WrittenSince(scope, "other@x.com"); ok {
			t.Errorf("%s: another value counts as written", scope)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, WrittenFile))
	if strings.Contains(string(raw), "@x.com") || strings.Contains(string(raw), "data/User") {
		t.Errorf("a written value or scope is stored in clear:\n%s", raw)
	}
	if n := strings.Count(string(raw), "\n"); n != 3 {
		t.Errorf("%d lines, want a header and 2 records:\n%s", n, raw)
	}
	// A damaged file is damaged state: refused, or moved aside with
	// --force-secrets.
	if err := os.WriteFile(filepath.Join(dir, WrittenFile), append(raw, "J.Doe@x.com\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRunState(dir, false); err == nil || !strings.Contains(err.Error(), "line 4 is not a record") {
		t.Errorf("a damaged file opened: %v", err)
	}
	d, err := OpenRunState(dir, true)
	if err != nil || len(d.Recovered) != 1 {
		t.Fatalf("--force-secrets: %v, recovered %v", err, d.Recovered)
	}
	if _, ok := d.WrittenSince("voss|data/User|p1|email", "J.Doe@x.com"); ok {
		t.Error("records of a damaged file were kept")
	}
}

// A field set back within a run to the value an earlier run wrote is
// written anew (the server had another between); set to it only, it keeps
// the earlier run's time. A run state in memory remembers across runs the
// same way (its Save folds the run in).
func TestWrittenWithinARun(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC)
	for _, mem := range []bool{false, true} {
		var rs *RunState
		if mem {
			rs = NewMemoryRunState()
		} else {
			var err error
			if rs, err = OpenRunState(t.TempDir(), false); err != nil {
				t.Fatal(err)
			}
		}
		rs.SetWritten("s|a", "v1", at)
		rs.SetWritten("s|b", "v1", at)
		if err := rs.Save(); err != nil {
			t.Fatal(err)
		}
		rs.SetWritten("s|a", "v1", at.Add(time.Hour))
		rs.SetWritten("s|a", "v2", at.Add(2*time.Hour))
		rs.SetWritten("s|a", "v1", at.Add(3*time.Hour))
		rs.SetWritten("s|a", "v1", at.Add(4*time.Hour))
		rs.SetWritten("s|b", "v1", at.Add(time.Hour))
		rs.SetWritten("s|c", "v3", at.Add(time.Hour))
		rs.SetWritten("s|c", "v3", at.Add(2*time.Hour))
		if _, ok := rs.WrittenSince("s|c", "v3"); ok {
			t.Errorf("memory %v: a value this run wrote counts before it is saved", mem)
		}
		if err := rs.Save(); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			scope, value string
			at           time.Time
		}{{"s|a", "v1", at.Add(3 * time.Hour)}, {"s|b", "v1", at}, {"s|c", "v3", at.Add(time.Hour)}} {
			if since, ok := rs.WrittenSince(c.scope, c.value); !ok || !since.Equal(c.at) {
				t.Errorf("memory %v: %s: %v %v, want %v", mem, c.scope, since, ok, c.at)
			}
		}
		if _, ok := rs.WrittenSince("s|a", "v2"); ok {
			t.Errorf("memory %v: an overwritten value counts", mem)
		}
	}
}

// This run's records span chunks: merged in key order, the last value
// set for each key winning, at the time it was first set.
func TestWrittenAcrossChunks(t *testing.T) {
	dir := t.TempDir()
	rs, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	n := 2*writtenChunk + 100
	scope := func(i int) string { return "voss|data/User|p" + strconv.Itoa(i) + "|email" }
	for i := range n {
		rs.SetWritten(scope(i), "a", at)
	}
	for i := range 50 { // again in a later chunk: the first time holds
		rs.SetWritten(scope(i), "a", at.Add(time.Hour))
	}
	for i := 50; i < 100; i++ { // another value: it wins, at its own time
		rs.SetWritten(scope(i), "b", at.Add(2*time.Hour))
		rs.SetWritten(scope(i), "b", at.Add(3*time.Hour))
	}
	if err := rs.Save(); err != nil {
		t.Fatal(err)
	}
	c, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		value, want := "a", at
		if i >= 50 && i < 100 {
			value, want = "b", at.Add(2*time.Hour)
		}
		if since, ok := c.WrittenSince(scope(i), value); !ok || !since.Equal(want) {
			t.Fatalf("%d: %v %v, want %q at %v", i, since, ok, value, want)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, WrittenFile))
	if lines := strings.Count(string(raw), "\n"); lines != n+1 {
		t.Errorf("%d lines, want a header and %d records", lines, n)
	}
}
