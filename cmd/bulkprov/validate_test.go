package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validate reads every input, also after one it cannot read at all, and
// reports a business key named in two inputs, as plan refuses it.
func TestValidateEveryFileAndKeysAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.csv")
	b := filepath.Join(dir, "b.csv")
	bad := filepath.Join(dir, "bad.xlsx")
	csv := "\"entity: data/User; hierarchy: sys.A\"\nusername,role\nu1,R\n"
	_ = os.WriteFile(a, []byte(csv), 0o644)
	_ = os.WriteFile(b, []byte(csv+"u2,R,extra\n"), 0o644)
	_ = os.WriteFile(bad, []byte("not a workbook"), 0o644)
	r := bulkprov(t, nil, "validate", bad, a, b)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		bad + ": not a valid xlsx workbook",
		b + ":csv:3:A: duplicate business key \"sys.A/u1\": the same data/User is also at " + a + ":csv:3",
		b + ":csv:4:C: value in a column without a name",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}
