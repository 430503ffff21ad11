package main

import (
	"bytes"
	"strings"
	"testing"
)

// version and --version print the same lines; a revision stamped with
// -ldflags -X main.revision (the container build, where -buildvcs=false)
// is shown when the build information has no vcs.revision, as a test
// binary's has none.
func TestVersion(t *testing.T) {
	defer func(r, tm, m string) { revision, buildTime, modified = r, tm, m }(revision, buildTime, modified)
	revision, buildTime, modified = "0123456789abcdef0123456789abcdef01234567", "2026-12-07T23:00:00Z", "false"
	say := func(args ...string) string {
		var out, errb bytes.Buffer
		if code := run(args, streams{in: strings.NewReader(""), out: &out, err: &errb}); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	got := say("version")
	if alt := say("--version"); alt != got {
		t.Errorf("--version printed\n%s\nversion printed\n%s", alt, got)
	}
	for _, want := range []string{"bulkprov " + version + "\n", "revision: " + revision + "\n", "time: 2026-12-07T23:00:00Z\n", "modified: false\n", "go: go1."} {
		if !strings.Contains(got, want) {
			t.Errorf("version lacks %q:\n%s", want, got)
		}
	}
	if s := versionString(); !strings.HasPrefix(s, version+" (revision "+revision+", 2026-12-07T23:00:00Z) go1.") {
		t.Errorf("run.version = %q", s)
	}
	modified = "true"
	if s := versionString(); !strings.Contains(s, ", modified)") {
		t.Errorf("a modified tree is not said: %q", s)
	}
}
