package main

import (
	"strings"
	"testing"
)

// Credentials come from the environment only: a target URL carrying
// user:password@ is refused (exit 2), and the refusal does not repeat the
// password. (It was accepted: the password was dropped from the URL
// silently and the run went on with the environment's credentials.)
func TestTargetURLWithCredentialsRefused(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want string // "" = accepted
	}{
		{"https://voss.example", ""},
		{"HTTPS://Voss.Example:8443/", ""},
		{"http://127.0.0.1:8080", ""},
		{"https://admin:S3cret-pw@voss.example", "carries a user name or password"},
		{"https://admin@voss.example", "carries a user name or password"},
		{"voss.example", "expected a URL"},
		{"ftp://voss.example", "expected a URL"},
		{"https://", "expected a URL"},
	} {
		err := checkTargetURL("--voss", c.raw)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.raw, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.raw, err, c.want)
		case err != nil && exitCode(err) != exitInvalid:
			t.Errorf("%s: exit %d, want %d", c.raw, exitCode(err), exitInvalid)
		case err != nil && strings.Contains(err.Error(), "S3cret"):
			t.Errorf("%s: the refusal repeats the password: %v", c.raw, err)
		}
	}
	r := bulkprov(t, stateEnv(t.TempDir()), "plan", "--voss", "https://admin:S3cret-pw@127.0.0.1:1", "--cupi", "https://127.0.0.1:1", "../../samples/users.csv")
	if r.code != exitInvalid || strings.Contains(r.stderr+r.stdout, "S3cret") || !strings.Contains(r.stderr, "environment only") {
		t.Errorf("plan with a password in --voss: exit %d\n%s", r.code, r.stderr)
	}
}
