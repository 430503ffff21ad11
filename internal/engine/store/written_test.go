package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What a run wrote is remembered across runs as a keyed hash with its
// time, merged with what another run saved meanwhile, never in clear.
func TestWrittenRemembered(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC)
	a.SetWritten("voss|data/User|p1|email", a.Hash("voss|data/User|p1|email", "J.Doe@x.com"), at)
	// Another process saves meanwhile.
	b, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	b.SetWritten("voss|data/User|p2|email", b.Hash("voss|data/User|p2|email", "A.B@x.com"), at)
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	// The same value again keeps the first time.
	a.SetWritten("voss|data/User|p1|email", a.Hash("voss|data/User|p1|email", "J.Doe@x.com"), at.Add(time.Hour))
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	c, err := OpenRunState(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for scope, value := range map[string]string{"voss|data/User|p1|email": "J.Doe@x.com", "voss|data/User|p2|email": "A.B@x.com"} {
		w, ok := c.Written(scope)
		if !ok || w.Hash != c.Hash(scope, value) || !w.At.Equal(at) {
			t.Errorf("%s: %+v %v; want the hash of %q written at %v", scope, w, ok, value, at)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, RunStateFile))
	if strings.Contains(string(raw), "@x.com") {
		t.Errorf("a written value is stored in clear:\n%s", raw)
	}
	// A record in clear is damaged state, refused.
	bad := strings.Replace(string(raw), c.Hash("voss|data/User|p1|email", "J.Doe@x.com"), "J.Doe@x.com", 1)
	if err := os.WriteFile(filepath.Join(dir, RunStateFile), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRunState(dir, false); err == nil || !strings.Contains(err.Error(), "not a keyed hash") {
		t.Errorf("a value in clear opened: %v", err)
	}
}
