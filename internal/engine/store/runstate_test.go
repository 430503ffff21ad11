package store

import (
	"os"
	"testing"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// Save writes, key by key, the file MarshalIndent would, and a reopened
// run state knows every hash and unknown outcome saved.
func TestRunStateSaveReopen(t *testing.T) {
	dir := t.TempDir()
	rs, err := OpenRunState(dir)
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
	rs.SetMaybe("cupi|x|u9|Credentials", "h9", "2026-01-01T00:00:00Z")
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
	want, _ := json.MarshalIndent(stateFile{Applied: applied, Maybe: rs.maybe}, "", " ")
	if string(got) != string(want) {
		t.Errorf("file:\n%s\nwant\n%s", got, want)
	}
	again, err := OpenRunState(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scopes {
		if again.Known(s) == "" || again.Known(s) != rs.Known(s) {
			t.Errorf("%s: reopened hash %q, saved %q", s, again.Known(s), rs.Known(s))
		}
	}
	if m, ok := again.Maybe("cupi|x|u9|Credentials"); !ok || m.Hash != "h9" {
		t.Errorf("unknown outcome %+v %v after reopening", m, ok)
	}
}
