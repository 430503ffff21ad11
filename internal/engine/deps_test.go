package engine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The engine depends on neither the input layer nor the mapping: it gets
// rows of wants with their source as plain values, and talks to targets
// through interfaces.
func TestEngineIsFreeOfTheInputLayer(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	const mod = "github.com/bulkprov/bulkprov/"
	out, err := exec.Command("go", "list", "-deps", mod+"internal/engine").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps engine: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range []string{"loader", "transform", "internal/report", "internal/export"} {
			if dep == mod+f {
				t.Errorf("engine depends on %s", f)
			}
		}
	}
}
