package doctor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

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

// CHECK names the object as the admin wrote it, never escaped: the fields
// are two spaces apart and CHECK holds no two spaces in a row, so a line
// splits on two spaces into exactly STATUS, CHECK and the detail.
func TestLineFormat(t *testing.T) {
	for _, tc := range []struct {
		c    Check
		want string
	}{
		{Check{Status: Fail, Name: "cupi.role[Voicemail Auditor Typo]", Detail: "named by the config but not found on Unity Connection"},
			"fail  cupi.role[Voicemail Auditor Typo]  named by the config but not found on Unity Connection"},
		{Check{Status: Fail, Name: "cupi.role[Help Desk 100%]", Detail: "named by the config\nbut not found"},
			"fail  cupi.role[Help Desk 100%]  named by the config but not found"},
		{Check{Status: OK, Name: "cupi[aaa].policy[Default%20Credential Policy]", Detail: "exists"},
			"ok  cupi[aaa].policy[Default%20Credential Policy]  exists"},
		// Whitespace runs would split the line wrongly: one space each.
		{Check{Status: Warn, Name: "cupi.template[Two  Spaces\tand a tab]", Detail: "a  b"},
			"warn  cupi.template[Two Spaces and a tab]  a b"},
		{Check{Status: OK, Name: "voss.role[AAAGlobalENTCustomerAdministrator]", Detail: "exists at sys"},
			"ok  voss.role[AAAGlobalENTCustomerAdministrator]  exists at sys"},
	} {
		got := tc.c.String()
		if got != tc.want {
			t.Errorf("line = %q, want %q", got, tc.want)
		}
		if f := strings.Split(got, "  "); len(f) != 3 || f[1] != strings.Join(strings.Fields(tc.c.Name), " ") {
			t.Errorf("%q splits on two spaces into %q", got, f)
		}
	}
}

// Targets are checked side by side, yet each block comes whole and in the
// order of Options.Targets; a refusal names the target's own credentials.
func TestRunBlocksInOrder(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer slow.Close()
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer fast.Close()
	cr := targets.Credentials{User: "u", Password: "p"}
	var ts []Target
	for i, u := range []string{slow.URL, fast.URL, slow.URL} {
		name := []string{"aaa", "bbb", "ccc"}[i]
		ts = append(ts, Target{Name: "cupi[" + name + "]", URL: u, HTTP: http.DefaultClient, CUPI: cupi.New(u, http.DefaultClient, cr),
			CredentialsEnv: "BULKPROV_CUPI_" + strings.ToUpper(name)})
	}
	checks := Run(context.Background(), Options{Targets: ts, Samples: 1})
	var order []string
	for _, c := range checks {
		target, _, _ := strings.Cut(c.Name, ".")
		if len(order) == 0 || order[len(order)-1] != target {
			order = append(order, target)
		}
		if strings.HasSuffix(c.Name, ".auth") && !strings.Contains(c.Detail, "BULKPROV_CUPI_"+strings.ToUpper(target[5:8])+"_USER") {
			t.Errorf("%s: %q does not name the target's credentials", c.Name, c.Detail)
		}
	}
	if got := strings.Join(order, " "); got != "cupi[aaa] cupi[bbb] cupi[ccc]" {
		t.Fatalf("blocks in the order %s", got)
	}
	if Exit(checks) != 4 {
		t.Errorf("exit %d, want 4", Exit(checks))
	}
}

// A proxy's block page (200 text/html) where the API answers JSON is the
// target unreachable, exit 3 — as a run says it (issue 23: one exit per
// class of bad answer), not a failed check (exit 1).
func TestBlockPageIsUnreachable(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Blocked by policy</body></html>"))
	}))
	defer ts.Close()
	cr := targets.Credentials{User: "u", Password: "p"}
	checks := Run(context.Background(), Options{Targets: []Target{{Name: "cupi", URL: ts.URL, HTTP: http.DefaultClient, CUPI: cupi.New(ts.URL, http.DefaultClient, cr)}}, Samples: 1})
	if Exit(checks) != 3 {
		for _, c := range checks {
			t.Logf("%v %s %s", c.Status, c.Name, c.Detail)
		}
		t.Errorf("exit %d, want 3", Exit(checks))
	}
}
