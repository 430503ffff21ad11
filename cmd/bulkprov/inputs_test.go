package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/loader"
)

// Problems are written as they are found, not held to the end: a small
// hostile input (a 90 KB zip of four million bad JSON items) otherwise
// made validate hold every problem and grow to gigabytes.
func TestProblemsAreStreamed(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	csv := "\"entity: data/User; hierarchy: sys.A\"\nusername,role,account_information.locked\nu1,R,maybe\nu2,R,no\n"
	if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	var f inputFlags
	seen := false
	err := f.mustLoad([]string{in}, streams{out: &bytes.Buffer{}, err: &stderr}, func(rec *loader.Record) {
		seen = true
		if !strings.Contains(stderr.String(), in+":csv:3:C: expected a boolean") {
			t.Errorf("the problem of row 3 was not yet written when row 4 was read; stderr: %q", stderr.String())
		}
	})
	if err == nil || !seen {
		t.Fatalf("err %v, row 4 read %v", err, seen)
	}
	if strings.Count(stderr.String(), "expected a boolean") != 1 {
		t.Errorf("stderr: %q", stderr.String())
	}
}
