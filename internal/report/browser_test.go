package report

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// chromium returns a headless browser's path, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on PATH (apt-get install chromium); the browser test is skipped")
	return ""
}

// render loads the page at url in headless Chromium and returns the DOM
// after the page's script has run.
func render(t *testing.T, browser, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", url)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	dom := out.String()
	if !strings.Contains(dom, `data-ready="`) {
		t.Fatalf("the page's script did not finish:\n%.2000s", dom)
	}
	return dom
}

var shownRE = regexp.MustCompile(`id="shown">showing (\d+) of (\d+) rows<`)

func shown(t *testing.T, dom string) (int, int) {
	t.Helper()
	m := shownRE.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no row count in the page:\n%.2000s", dom)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return a, b
}

// The HTML report in a real browser: every row is in the page, the
// failures-only switch and the filter box narrow it (the address carries
// the filter), failed rows first.
func TestHTMLInBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	d := bigPlan(500)
	d.Ops[5].Status, d.Ops[5].Error = engine.Failed, "CUPI role \"Help Desk Admin\" does not exist"
	path := filepath.Join(dir, "plan.html")
	if err := Write(path, d, nil); err != nil {
		t.Fatal(err)
	}
	url := "file://" + path
	dom := render(t, browser, url)
	if n, total := shown(t, dom); n != 500 || total != 500 {
		t.Errorf("unfiltered: showing %d of %d rows", n, total)
	}
	if i, j := strings.Index(dom, "users.csv:csv:4 ("), strings.Index(dom, "users.csv:csv:3 ("); i < 0 || j < 0 || i > j {
		t.Errorf("the failed row (csv:4) is not listed first")
	}
	dom = render(t, browser, url+"#failed=1")
	if n, total := shown(t, dom); n != 2 || total != 500 || !strings.Contains(dom, "Help Desk Admin") || !strings.Contains(dom, "credential policy refuses") {
		t.Errorf("failures only: showing %d of %d rows", n, total)
	}
	dom = render(t, browser, url+"#q=user00123%40")
	if n, total := shown(t, dom); n != 1 || total != 500 || !strings.Contains(dom, "users.csv:csv:126 (4 operations)") {
		t.Errorf("filter on a value: showing %d of %d rows", n, total)
	}
	dom = render(t, browser, url+"#q=nobody-at-all")
	if n, total := shown(t, dom); n != 0 || total != 500 {
		t.Errorf("filter matching nothing: showing %d of %d rows", n, total)
	}
}
