package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writePlainCSV writes a CSV of data/User rows with no bulk-load header
// rows: it needs --model and --hierarchy.
func writePlainCSV(t *testing.T, path, prefix string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("username,role,account_information.locked,DtmfAccessId\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s%03d,Help Desk Administrator,%v,%d\n", prefix, i, i%2 == 0, 77000+int(prefix[len(prefix)-1])*10+i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hintOf is the apply command plan --out prints, as printed.
func hintOf(t *testing.T, stderr string) string {
	t.Helper()
	m := regexp.MustCompile(`execute exactly it with: (.*)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("plan --out printed no apply command:\n%s", stderr)
	}
	return m[1]
}

// runPrinted runs a command line bulkprov printed, as printed, in dir.
func runPrinted(t *testing.T, dir, line string, env []string) result {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(bin, "bulkprov")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(testEnv(t, env...), "PATH="+bin+":"+os.Getenv("PATH"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// The change board's packet (issue 24): several --report files from one
// plan, each carrying the config's path and hash; show renders the saved
// plan again with no request to any server; the apply command plan prints
// works as printed (a plain CSV needs --model and --hierarchy); a saved
// plan applies with its input files gone; a plan that sets passwords and
// whose inputs are gone is refused before any request, and its --report
// says why; plan --detailed-exitcode says whether changes are pending.
func TestPacketPlanShowApply(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state"), "XDG_STATE_HOME=" + filepath.Join(dir, "xdg")}, creds...)
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url}
	run := func(want int, args ...string) result {
		t.Helper()
		r := bulkprov(t, env, args...)
		if r.code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, r.code, want, tail(r.stdout), r.stderr)
		}
		return r
	}
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "../../samples/config.json", filepath.Join(in, "config.json"))
	writePlainCSV(t, filepath.Join(in, "users.csv"), "pka", 4)
	csvFlags := []string{"--model", "data/User", "--hierarchy", "sys.hcs.CS-P.CS-NB.AAAGlobal", "--config", "in/config.json"}

	// One plan, four reports, each with the config's path and hash.
	var reps []string
	args := append(append([]string{"plan"}, target...), csvFlags...)
	for _, ext := range []string{"json", "html", "xlsx", "csv"} {
		reps = append(reps, filepath.Join(dir, "plan."+ext))
		args = append(args, "--report", reps[len(reps)-1])
	}
	planFile := filepath.Join(dir, "saved-plan.json")
	cmd := exec.Command(binary, append(args, "--out", planFile, "in/users.csv")...)
	cmd.Dir, cmd.Env = dir, testEnv(t, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("plan: %v\n%s", err, errb.String())
	}
	planOut := out.String()
	cfgSum := fileSum(t, filepath.Join(in, "config.json"))
	for _, p := range reps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("--report %s not written: %v", p, err)
		}
		if strings.HasSuffix(p, ".csv") {
			continue // the flat change table
		}
		text := string(b)
		if strings.HasSuffix(p, ".xlsx") {
			text = string(dumpWorkbook(t, p))
		}
		if !strings.Contains(text, cfgSum) || !strings.Contains(text, "in/config.json") {
			t.Errorf("%s does not name the config and its SHA-256 %s", p, cfgSum)
		}
	}

	// show renders the saved plan again, the same diff, with no request.
	before := sim.requests(t)
	shown := filepath.Join(dir, "shown.json")
	r := run(0, "show", planFile, "--report", shown, "--report", filepath.Join(dir, "shown.html"))
	// What plan prints after its diff and summary (an estimate, say) is
	// the plan run's, not the saved plan's.
	if r.stdout == "" || !strings.HasPrefix(planOut, r.stdout) {
		t.Errorf("show differs from plan:\n%s\nwant:\n%s", r.stdout, planOut)
	}
	if after := sim.requests(t); after != before {
		t.Errorf("show sent %d request(s)", after-before)
	}
	var a, b struct {
		Summary map[string]int `json:"summary"`
		Ops     []any          `json:"operations"`
		Run     struct {
			Plan struct{ SHA256 string } `json:"plan"`
		} `json:"run"`
	}
	ab, _ := os.ReadFile(reps[0])
	bb, _ := os.ReadFile(shown)
	if json.Unmarshal(ab, &a) != nil || json.Unmarshal(bb, &b) != nil || len(a.Ops) != len(b.Ops) || fmt.Sprint(a.Summary) != fmt.Sprint(b.Summary) || b.Run.Plan.SHA256 != fileSum(t, planFile) {
		t.Errorf("show's report differs from the plan's: %v vs %v", a.Summary, b.Summary)
	}

	// The apply command plan printed works as printed.
	hint := hintOf(t, errb.String())
	if !strings.Contains(hint, "--model data/User") {
		t.Errorf("the printed apply command lacks --model: %s", hint)
	}
	if r := runPrinted(t, dir, hint, env); r.code != 0 {
		t.Fatalf("the printed %q: exit %d\n%s", hint, r.code, r.stderr)
	}
	pd := run(0, append(append(append([]string{"plan", "--detailed-exitcode"}, target...), csvFlags[:4]...), "--config", filepath.Join(in, "config.json"), filepath.Join(in, "users.csv"))...)
	if !strings.Contains(pd.stdout, "0 to create, 0 to update, 0 to delete") {
		t.Errorf("after the printed apply the plan is not empty:\n%s", pd.stdout)
	}

	// A saved plan applies with its inputs gone.
	writePlainCSV(t, filepath.Join(in, "users.csv"), "pkb", 3)
	cmd = exec.Command(binary, append(append(append([]string{"plan"}, target...), csvFlags...), "--out", planFile, "in/users.csv")...)
	cmd.Dir, cmd.Env = dir, testEnv(t, env...)
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plan: %v\n%s", err, o)
	}
	// Changes pending: 2 with --detailed-exitcode.
	cmd = exec.Command(binary, append(append(append([]string{"plan", "--detailed-exitcode"}, target...), csvFlags...), "in/users.csv")...)
	cmd.Dir, cmd.Env = dir, testEnv(t, env...)
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Errorf("plan --detailed-exitcode with changes pending: %v, want exit 2", err)
	}
	if err := os.Rename(in, filepath.Join(dir, "gone")); err != nil {
		t.Fatal(err)
	}
	applied := filepath.Join(dir, "applied.json")
	cmd = exec.Command(binary, append([]string{"apply", "--plan", planFile, "--report", applied}, target...)...)
	cmd.Dir, cmd.Env = dir, testEnv(t, env...)
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apply --plan with the inputs gone: %v\n%s", err, o)
	}
	ab, _ = os.ReadFile(applied)
	var ar struct {
		Summary map[string]int `json:"summary"`
		Run     struct {
			Config  struct{ File, SHA256 string } `json:"config"`
			Backout string                        `json:"backout"`
		} `json:"run"`
	}
	if err := json.Unmarshal(ab, &ar); err != nil || ar.Summary["failed"] != 0 || ar.Summary["done"] != ar.Summary["create"]+ar.Summary["update"]+ar.Summary["delete"] || ar.Summary["done"] < 6 || ar.Run.Config.SHA256 != cfgSum || ar.Run.Backout == "" {
		t.Errorf("apply --plan with the inputs gone: %v %+v", err, ar)
	}

	// Passwords are never in a plan: with the inputs gone, a plan that
	// sets some is refused before any request, and its report says why.
	wb := filepath.Join(dir, "secret.xlsx")
	writeUsers(t, wb, 2)
	secretPlan := filepath.Join(dir, "secret-plan.json")
	run(0, append(append([]string{"plan", "--out", secretPlan}, target...), wb)...)
	if b, _ := os.ReadFile(secretPlan); bytes.Contains(b, []byte("Crash-Pass-00001")) {
		t.Fatal("a password reached the saved plan")
	}
	os.Remove(wb)
	before = sim.requests(t)
	refused := filepath.Join(dir, "refused.json")
	r = run(2, append([]string{"apply", "--plan", secretPlan, "--report", refused}, target...)...)
	if !strings.Contains(r.stderr, "--secrets") {
		t.Errorf("the refusal does not say how to give the passwords:\n%s", r.stderr)
	}
	if after := sim.requests(t); after != before {
		t.Errorf("a refused apply sent %d request(s)", after-before)
	}
	var rr struct {
		Run struct {
			Exit  int    `json:"exit"`
			Error string `json:"error"`
		} `json:"run"`
	}
	if b, err := os.ReadFile(refused); err != nil || json.Unmarshal(b, &rr) != nil || rr.Run.Exit != 2 || !strings.Contains(rr.Run.Error, "--secrets") {
		t.Errorf("the refused run's report: %v %+v", err, rr)
	}
}

// dumpWorkbook is every cell of a workbook as text.
func dumpWorkbook(t *testing.T, path string) []byte {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	for _, sh := range f.GetSheetList() {
		rows, _ := f.GetRows(sh)
		for _, r := range rows {
			fmt.Fprintln(&out, strings.Join(r, "\t"))
		}
	}
	return out.Bytes()
}

// plan --detailed-exitcode: invalid input is 1 (an error), not 2 (which
// means changes pending); without the flag it stays 2.
func TestDetailedExitcodeInvalidInput(t *testing.T) {
	parallelE2E(t)
	env := []string{"BULKPROV_STATE_DIR=" + t.TempDir()}
	if r := bulkprov(t, env, "plan", "--sim", "--detailed-exitcode", "../../samples/bad/errors.xlsx"); r.code != 1 {
		t.Errorf("invalid input with --detailed-exitcode: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if r := bulkprov(t, env, "plan", "--sim", "../../samples/bad/errors.xlsx"); r.code != 2 {
		t.Errorf("invalid input: exit %d, want 2", r.code)
	}
	if r := bulkprov(t, env, "plan", "--detailed-exitcode", "--no-such-flag"); r.code != 1 {
		t.Errorf("bad usage with --detailed-exitcode: exit %d, want 1", r.code)
	}
}

// Mistyped commands and flags get a "did you mean", and the flags of other
// tools name the command that does what they ask; one line, no usage dump.
func TestDidYouMean(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"aply"}, `did you mean "apply"?`},
		{[]string{"valdate", "x.xlsx"}, `did you mean "validate"?`},
		{[]string{"apply", "--dry-run", "x.xlsx"}, "'bulkprov plan' shows what apply would change"},
		{[]string{"plan", "--reprot", "x.html", "x.xlsx"}, "did you mean --report?"},
		{[]string{"plan", "--dry-run", "x.xlsx"}, "plan never writes anything"},
		{[]string{"apply", "--chekpoint", "j", "x.xlsx"}, "did you mean --checkpoint?"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := run(tc.args, streams{in: strings.NewReader(""), out: &out, err: &errb})
		if code != 2 || !strings.Contains(errb.String(), tc.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d\n%s\nwant one line with %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

// The sample plan's HTML, printed to PDF by headless Chromium, carries
// every planned value: the text pdftotext reads back holds each field's
// new value (secrets as ***). Skipped where Chromium or pdftotext is
// absent (.ci/run installs them in the background and runs this test after).
func TestPlanHTMLPrintsEveryValue(t *testing.T) {
	parallelE2E(t)
	var browser string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if browser == "" || err != nil {
		t.Skip("needs chromium and pdftotext on PATH (apt-get install chromium poppler-utils)")
	}
	dir := t.TempDir()
	page, js := filepath.Join(dir, "plan.html"), filepath.Join(dir, "plan.json")
	r := bulkprov(t, []string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, "plan", "--sim", "--config", "../../samples/config.json", "--report", page, "--report", js, "../../samples/tenant.xlsx")
	if r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	pdf := filepath.Join(dir, "plan.pdf")
	cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+pdf, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	txt, err := exec.Command(pdftotext, pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// Lines wrap anywhere in a long value, and pdftotext joins a line that
	// ends in "-" with the next, dropping the hyphen (it takes it for a
	// hyphenation): both sides are compared without spaces and hyphens.
	squash := func(s string) string { return strings.ReplaceAll(strings.Join(strings.Fields(s), ""), "-", "") }
	text := squash(string(txt))
	var plan struct {
		Ops []struct {
			Key, Action string
			Changes     []struct {
				Field string
				Old   any
				New   any
			}
		} `json:"operations"`
	}
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &plan); err != nil {
		t.Fatal(err)
	}
	values, missing := 0, 0
	for _, op := range plan.Ops {
		for _, c := range op.Changes {
			v := c.New
			if op.Action == "delete" {
				v = c.Old
			}
			if v == nil || v == "***" {
				continue
			}
			s, _ := json.Marshal(v)
			values++
			if !strings.Contains(text, squash(string(s))) || !strings.Contains(text, squash(c.Field)) {
				if missing++; missing <= 10 {
					t.Errorf("the PDF lacks %s %s: %s", op.Key, c.Field, s)
				}
			}
		}
	}
	if values < 100 {
		t.Fatalf("only %d planned values in the sample plan", values)
	}
	t.Logf("%d planned values, %d not in the PDF's %d bytes of text", values, missing, len(txt))
}

// xlsxDimensions checks every worksheet of a workbook the way a reader
// that trusts <dimension> does (openpyxl read-only): the declared range
// must be the range of the cells the sheet holds.
func xlsxDimensions(t *testing.T, path string) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, f := range z.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			continue
		}
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		dim := regexp.MustCompile(`<dimension ref="([^"]+)"`).FindSubmatch(b)
		maxCol, maxRow := 0, 0
		for _, m := range regexp.MustCompile(`<c r="([A-Z]+[0-9]+)"`).FindAllSubmatch(b, -1) {
			c, r, _ := excelize.CellNameToCoordinates(string(m[1]))
			maxCol, maxRow = max(maxCol, c), max(maxRow, r)
		}
		want, _ := excelize.CoordinatesToCellName(maxCol, maxRow)
		if dim == nil || string(dim[1]) != "A1:"+want {
			t.Errorf("%s: %s declares %q; its cells span A1:%s", filepath.Base(path), f.Name, dim, want)
		}
	}
}

// Every workbook bulkprov writes declares its true used range: a template
// and an apply report (issue 27).
func TestWorkbooksDeclareDimension(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	tpl := filepath.Join(dir, "template.xlsx")
	if r := bulkprov(t, nil, "template", "data/User", "--out", tpl); r.code != 0 {
		t.Fatalf("template: exit %d\n%s", r.code, r.stderr)
	}
	xlsxDimensions(t, tpl)
	rep := filepath.Join(dir, "run.xlsx")
	r := bulkprov(t, []string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, "apply", "--sim", "--quiet", "--report", rep, "../../samples/tenant.xlsx")
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s", r.code, r.stderr)
	}
	xlsxDimensions(t, rep)
}

// A saved plan refused because its target changed says, per field, the
// value planned and the value the target holds now — not "(planned
// update, now update)" (issue 24).
func TestDriftRefusalShowsValues(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	env := append([]string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state")}, creds...)
	sim := startSim(t)
	target := []string{"--voss", sim.url, "--cupi", sim.url, "--model", "data/User", "--hierarchy", "sys.hcs.CS-P.CS-NB.AAAGlobal"}
	csv := filepath.Join(dir, "users.csv")
	write := func(first string) {
		t.Helper()
		body := "username,role,account_information.locked,DtmfAccessId,first_name\ndrift001,Help Desk Administrator,false,78001," + first + "\n"
		if err := os.WriteFile(csv, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(want int, args ...string) result {
		t.Helper()
		r := bulkprov(t, env, args...)
		if r.code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, r.code, want, tail(r.stdout), r.stderr)
		}
		return r
	}
	write("Alpha")
	run(0, append([]string{"apply", "--quiet", "--checkpoint", filepath.Join(dir, "a.journal"), csv}, target...)...)
	write("Beta")
	planFile := filepath.Join(dir, "plan.json")
	run(0, append([]string{"plan", "--out", planFile, csv}, target...)...)
	// Someone else renames the user in between.
	write("Gamma")
	run(0, append([]string{"apply", "--quiet", "--checkpoint", filepath.Join(dir, "b.journal"), csv}, target...)...)
	write("Beta")
	r := run(2, append([]string{"apply", "--plan", planFile, "--checkpoint", filepath.Join(dir, "c.journal"), csv}, target...)...)
	if !strings.Contains(r.stderr, `first_name: planned "Alpha" → "Beta", now "Gamma"`) || strings.Contains(r.stderr, "(planned update, now update)") {
		t.Errorf("the refusal does not show field, planned and current value:\n%s", r.stderr)
	}
}

// The examples of bulkprov --help and the README's first command work as
// written (from the repository root, state in a temporary folder); the
// examples that need real servers (https://…example) are left out. The
// README's answers.csv snippet is the file's first lines.
func TestHelpAndREADMEExamplesAsWritten(t *testing.T) {
	parallelE2E(t)
	var out bytes.Buffer
	usage(&out)
	text := out.String()
	ex := text[strings.Index(text, "Examples:"):]
	ex = ex[:strings.Index(ex, "\n\n")]
	var cmds []string
	for _, l := range strings.Split(strings.ReplaceAll(ex, "\\\n", " "), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "bulkprov ") && !strings.Contains(l, "https://") {
			cmds = append(cmds, l)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	first := regexp.MustCompile("(?m)^go run ./cmd/bulkprov ([^#\n]*)").FindSubmatch(readme)
	if first == nil {
		t.Fatal("the README has no first command")
	}
	cmds = append(cmds, "bulkprov "+strings.TrimSpace(string(first[1])))
	if len(cmds) < 3 {
		t.Fatalf("found only %q", cmds)
	}
	dir := t.TempDir()
	abs, _ := filepath.Abs("../../samples")
	if err := os.Symlink(abs, filepath.Join(dir, "samples")); err != nil {
		t.Fatal(err)
	}
	env := []string{"BULKPROV_STATE_DIR=" + filepath.Join(dir, "state"), "XDG_STATE_HOME=" + filepath.Join(dir, "xdg"), "HOME=" + dir}
	for _, c := range cmds {
		if r := runPrinted(t, dir, c, env); r.code != 0 {
			t.Errorf("%s: exit %d\n%s", c, r.code, tail(r.stderr))
		}
	}
	snippet := regexp.MustCompile("(?s)samples/answers.csv`:\\s*```csv\n(.*?)```").FindSubmatch(readme)
	file, _ := os.ReadFile("../../samples/answers.csv")
	if snippet == nil || !strings.HasPrefix(string(file), string(snippet[1])) {
		t.Errorf("the README's answers.csv snippet is not the file's first lines:\n%s\nfile:\n%.200s", snippet, file)
	}
}

// A run refused for invalid input (exit 2, nothing planned) still writes
// each --report, naming what was wrong: the error and every problem, as
// validate prints them.
func TestRefusedRunWritesReport(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	js, page := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	cmd := exec.Command(binary, "plan", "--sim", "--report", js, "--report", page, "samples/bad/errors.xlsx")
	cmd.Dir, cmd.Env = "../..", testEnv(t, "BULKPROV_STATE_DIR="+filepath.Join(dir, "state"))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2\n%s", err, errb.String())
	}
	want, _ := os.ReadFile("../../samples/bad/errors.xlsx.expected")
	var rep struct {
		Run struct {
			Exit     int      `json:"exit"`
			Error    string   `json:"error"`
			Problems []string `json:"problems"`
		} `json:"run"`
	}
	b, err := os.ReadFile(js)
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("no JSON report for the refused run: %v", err)
	}
	problems := strings.Split(strings.TrimSpace(string(want)), "\n")
	if rep.Run.Exit != 2 || !strings.Contains(rep.Run.Error, "problem(s) in the input") || strings.Join(rep.Run.Problems, "\n") != strings.Join(problems, "\n") {
		t.Errorf("report: exit %d, error %q, problems:\n%s\nwant:\n%s", rep.Run.Exit, rep.Run.Error, strings.Join(rep.Run.Problems, "\n"), strings.Join(problems, "\n"))
	}
	if h, _ := os.ReadFile(page); !strings.Contains(string(h), "problem(s) in the input") {
		t.Error("the HTML report of the refused run does not say what was wrong")
	}
}
