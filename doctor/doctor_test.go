package doctor

import "testing"

func TestExitPrecedence(t *testing.T) {
	ok := Check{Status: OK}
	warn := Check{Status: Warn}
	fail := Check{Status: Fail}
	unreach := Check{Status: Fail, Cause: Unreachable}
	access := Check{Status: Fail, Cause: Access}
	for _, tc := range []struct {
		name   string
		checks []Check
		want   int
	}{
		{"all ok", []Check{ok, ok}, 0},
		{"nothing checked", nil, 0},
		{"a warning", []Check{ok, warn}, 1},
		{"a failure", []Check{fail, ok}, 1},
		{"unreachable beats a failure", []Check{fail, unreach, warn}, 3},
		{"access beats unreachable", []Check{unreach, access, fail}, 4},
		{"access first", []Check{access, unreach}, 4},
		// A warning with a cause is still only a warning.
		{"warned access is 1", []Check{{Status: Warn, Cause: Access}}, 1},
	} {
		if got := Exit(tc.checks); got != tc.want {
			t.Errorf("%s: Exit = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestLineFormat(t *testing.T) {
	c := Check{Status: Fail, Name: "cupi.role[Help Desk 100%]", Detail: "named by the config\nbut not found"}
	if got, want := c.String(), "fail  cupi.role[Help%20Desk%20100%25]  named by the config but not found"; got != want {
		t.Fatalf("line = %q, want %q", got, want)
	}
}
