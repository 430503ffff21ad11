package conformance_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSimulatorsAreIndependent holds the simulators (and this suite) apart
// from the code they check: a simulator that decodes with the client's
// decoder or validates with bulkprov's schema shares its mistakes.
func TestSimulatorsAreIndependent(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	const mod = "github.com/bulkprov/bulkprov/"
	forbidden := []string{"targets/cupi", "targets/voss", "schema", "engine", "transform", "loader", "targets"}
	for _, pkg := range []string{"targets/cupi/sim", "targets/voss/sim", "targets/simkit", "targets/simserve", "targets/conformance"} {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == mod+f {
					t.Errorf("%s depends on %s", pkg, f)
				}
			}
		}
	}
}
