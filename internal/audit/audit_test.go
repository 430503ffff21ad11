package audit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func appendN(t *testing.T, l *Log, n int) []string {
	t.Helper()
	var heads []string
	for i := 0; i < n; i++ {
		h, err := l.Append(&Record{Command: fmt.Sprintf("run%d", i), Exit: i})
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	return heads
}

func TestChainAndHead(t *testing.T) {
	for _, path := range []string{"file", ""} {
		l := &Log{}
		if path != "" {
			l.Path = filepath.Join(t.TempDir(), "sub", "audit.jsonl")
		}
		heads := appendN(t, l, 3)
		lines, brk, err := l.Verify()
		if err != nil || brk != nil || len(lines) != 3 {
			t.Fatalf("%q: %d lines, break %v, %v", path, len(lines), brk, err)
		}
		for i, ln := range lines {
			if ln.Hash != heads[i] {
				t.Errorf("line %d hash %s, Append said %s", i+1, ln.Hash, heads[i])
			}
			want := ""
			if i > 0 {
				want = heads[i-1]
			}
			if ln.Record.Prev != want {
				t.Errorf("line %d prev %q, want %q", i+1, ln.Record.Prev, want)
			}
		}
	}
}

// The head is what sha256sum prints for the last line (tail -n 1).
func TestHeadIsSha256sumOfLastLine(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	l := &Log{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	heads := appendN(t, l, 2)
	out, err := exec.Command("sh", "-c", "tail -n 1 "+l.Path+" | sha256sum").Output()
	if err != nil || !strings.HasPrefix(string(out), heads[1]) {
		t.Errorf("sha256sum of the last line: %s (%v), head %s", out, err, heads[1])
	}
}

// Any byte of a middle record changed breaks the chain at that record or
// the next, and verify names the line.
func TestVerifyFindsEveryEditedByte(t *testing.T) {
	l := &Log{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	appendN(t, l, 4)
	orig, _ := os.ReadFile(l.Path)
	lines := bytes.SplitAfter(orig, []byte("\n"))
	start := len(lines[0])
	for i := start; i < start+len(lines[1]); i++ {
		b := append([]byte(nil), orig...)
		b[i] ^= 0x01
		if err := os.WriteFile(l.Path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, brk, err := l.Verify()
		if err != nil || brk == nil || (brk.Line != 2 && brk.Line != 3) {
			t.Fatalf("byte %d of line 2 changed: break %v, %v", i-start, brk, err)
		}
	}
	// A line removed from the middle.
	os.WriteFile(l.Path, append(append([]byte(nil), lines[0]...), bytes.Join(lines[2:], nil)...), 0o600)
	if _, brk, _ := l.Verify(); brk == nil || brk.Line != 2 || !strings.Contains(brk.Error(), "line 2: its prev") {
		t.Errorf("line removed: %v", brk)
	}
	// The first line removed.
	os.WriteFile(l.Path, bytes.Join(lines[1:], nil), 0o600)
	if _, brk, _ := l.Verify(); brk == nil || brk.Line != 1 {
		t.Errorf("first line removed: %v", brk)
	}
}

// Runs appending at once (each with its own open file, as two processes
// have) leave one chain.
func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var wg sync.WaitGroup
	const n = 16
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l := &Log{Path: path}
			for j := 0; j < 5; j++ {
				if _, err := l.Append(&Record{Command: fmt.Sprint(i, j)}); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
	lines, brk, err := (&Log{Path: path}).Verify()
	if err != nil || brk != nil || len(lines) != n*5 {
		t.Fatalf("%d lines, break %v, %v", len(lines), brk, err)
	}
}

// A last line cut short by a crash is ended by the next append, and verify
// names it.
func TestTornLine(t *testing.T) {
	l := &Log{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	appendN(t, l, 1)
	f, _ := os.OpenFile(l.Path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026`)
	f.Close()
	if _, brk, _ := l.Verify(); brk == nil || brk.Line != 2 || !strings.Contains(brk.Why, "cut short") {
		t.Errorf("torn: %v", brk)
	}
	appendN(t, l, 1)
	lines, brk, _ := l.Verify()
	if len(lines) != 3 || brk == nil || brk.Line != 2 || lines[2].Record == nil || lines[2].Record.Prev != lines[1].Hash {
		t.Errorf("after an append: %d lines, %v", len(lines), brk)
	}
}

func TestScrubArgs(t *testing.T) {
	cases := []struct{ in, want string }{
		{"--voss https://admin:hunter2@voss.example:8443/x", "--voss https://admin:***@voss.example:8443/x"},
		{"--voss=https://admin:hunter2@voss.example", "--voss=https://admin:***@voss.example"},
		{"--password hunter2 in.xlsx", "--password *** in.xlsx"},
		{"--db-password=hunter2", "--db-password=***"},
		{"--force-secrets --secrets s.csv in.xlsx", "--force-secrets --secrets s.csv in.xlsx"},
		{"--sim in.xlsx", "--sim in.xlsx"},
	}
	if got := ScrubText("--voss https://a:hunter2@h: refused"); got != "--voss https://a:***@h: refused" {
		t.Errorf("ScrubText: %s", got)
	}
	for _, c := range cases {
		got := strings.Join(ScrubArgs(strings.Fields(c.in)), " ")
		if got != c.want || strings.Contains(got, "hunter2") {
			t.Errorf("%s: %s, want %s", c.in, got, c.want)
		}
	}
}
