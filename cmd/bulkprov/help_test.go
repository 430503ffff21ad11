package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every command's --help is pinned by a golden file, so a change to a
// flag or an example shows up in review.
func TestHelpGolden(t *testing.T) {
	for _, c := range append(commandNames2(), "") {
		var out, errb bytes.Buffer
		args := []string{"--help"}
		name := "bulkprov"
		if c != "" {
			args = []string{c, "--help"}
			name = c
		}
		code := run(args, streams{in: strings.NewReader(""), out: &out, err: &errb})
		if code != 0 {
			t.Errorf("%s --help: exit %d", name, code)
		}
		got := out.String() + errb.String()
		path := filepath.Join("testdata", "help", name+".golden")
		if *update {
			_ = os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s --help differs from %s (run go test -run TestHelpGolden -update):\n%s", name, path, got)
		}
		if strings.Contains(got, "\n  -") && !strings.Contains(got, "\n  --") {
			t.Errorf("%s --help shows single-dash flags", name)
		}
	}
}

func commandNames2() []string {
	var out []string
	for _, c := range commands() {
		if c.name != "version" {
			out = append(out, c.name)
		}
	}
	return out
}

// Help texts say what the commands do: plan names the file apply --plan
// takes, export lists only the flags that do something there, and an
// unknown --model is one error line with a hint, not the whole usage.
func TestHelpAccuracy(t *testing.T) {
	help := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(args, streams{in: strings.NewReader(""), out: &out, err: &errb})
		return code, out.String() + errb.String()
	}
	_, plan := help("plan", "--help")
	if !strings.Contains(plan, "--out PLAN.json") || strings.Contains(plan, "-out apply") {
		t.Errorf("plan --help:\n%s", plan)
	}
	_, export := help("export", "--help")
	for _, f := range []string{"--force-secrets", "--exact-roles", "--secrets", "--workers", "--retries"} {
		if strings.Contains(export, f+" ") || strings.Contains(export, f+"\n") {
			t.Errorf("export --help lists %s, which does nothing there", f)
		}
	}
	code, msg := help("export", "--model", "data/Usr", "--out", "x.xlsx")
	if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "see: bulkprov export --help") {
		t.Errorf("unknown model: exit %d\n%s", code, msg)
	}
}
