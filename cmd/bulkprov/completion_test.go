package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The completion scripts are generated from the commands' real flag sets:
// each script parses in its shell (where the shell is installed) and names
// every command and every flag of every command, and the file extensions
// of inputs and reports.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range completionShells {
		t.Run(shell, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"completion", shell}, streams{in: strings.NewReader(""), out: &out, err: &errb}); code != 0 {
				t.Fatalf("completion %s: exit %d\n%s", shell, code, errb.String())
			}
			script := out.String()
			if r := bulkprov(t, nil, "completion", shell); r.code != 0 || r.stdout != script {
				t.Errorf("the built binary's completion %s: exit %d, differs from the in-process script: %v", shell, r.code, r.stdout != script)
			}
			for _, c := range commands() {
				if !strings.Contains(script, c.name) {
					t.Errorf("%s script lacks command %s", shell, c.name)
				}
				var fs *flag.FlagSet
				captureFlags = func(f *flag.FlagSet) { fs = f }
				_ = c.run(nil, streams{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &bytes.Buffer{}})
				captureFlags = nil
				if fs == nil {
					t.Fatalf("command %s built no flag set", c.name)
				}
				fs.VisitAll(func(f *flag.Flag) {
					if f.Usage == "" {
						return
					}
					word := "--" + f.Name
					if shell == "fish" {
						word = "-l " + f.Name
					}
					if !strings.Contains(script, word) {
						t.Errorf("%s script lacks %s of %s", shell, word, c.name)
					}
				})
			}
			for _, want := range []string{"xlsx", "csv", "zip", "json", "html", "text json", "error cached", "bash zsh fish"} {
				if !strings.Contains(script, want) {
					t.Errorf("%s script lacks %q", shell, want)
				}
			}
			path := filepath.Join(t.TempDir(), "bulkprov."+shell)
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			bin, err := exec.LookPath(shell)
			if err != nil {
				t.Skipf("%s is not installed: the script's syntax is not checked here (apt-get install %s)", shell, shell)
			}
			if out, err := exec.Command(bin, "-n", path).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

// A completion script sourced by an interactive bash completes a
// command's flags and the files its flag takes, by extension.
func TestCompletionBashCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	var out bytes.Buffer
	if code := run([]string{"completion", "bash"}, streams{in: strings.NewReader(""), out: &out, err: &bytes.Buffer{}}); code != 0 {
		t.Fatal("completion bash failed")
	}
	dir := t.TempDir()
	for _, f := range []string{"a.xlsx", "b.html", "c.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "c.bash")
	if err := os.WriteFile(script, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words string
		want  []string
		not   []string
	}{
		{"bulkprov pl", []string{"plan"}, []string{"apply"}},
		{"bulkprov plan --log-f", []string{"--log-format"}, nil},
		{"bulkprov plan --log-format ''", []string{"text", "json"}, nil},
		{"bulkprov plan --report ''", []string{"b.html", "a.xlsx"}, []string{"c.txt"}},
		{"bulkprov apply ''", []string{"a.xlsx"}, []string{"b.html", "c.txt"}},
		{"bulkprov completion ''", []string{"bash", "zsh", "fish"}, nil},
	}
	for _, tc := range tests {
		prog := "cd " + dir + " && source " + script + " && COMP_WORDS=(" + tc.words + ") && COMP_CWORD=$((${#COMP_WORDS[@]}-1)) && { _bulkprov; printf '%s\\n' \"${COMPREPLY[@]}\"; }"
		got, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.words, err, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(got), w) {
				t.Errorf("%s: completions %q lack %s", tc.words, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(string(got), w) {
				t.Errorf("%s: completions %q offer %s", tc.words, got, w)
			}
		}
	}
}
