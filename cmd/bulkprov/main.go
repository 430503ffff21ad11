// Command bulkprov provisions and migrates Cisco UC users in bulk: it reads
// VOSS bulk-load workbooks, CSV and VOSS JSON exports, plans the field-level
// changes against VOSS Automate and Cisco Unity Connection (CUPI), and
// applies them with retries, throttle awareness and a crash-safe journal.
//
// This file holds the command dispatch only; each command lives in its own
// file.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/bulkprov/bulkprov/internal/schema"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes (spec/cli.md).
const (
	exitOK          = 0
	exitRowsFailed  = 1
	exitInvalid     = 2
	exitInterrupted = 3
	exitAccess      = 4
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func fail(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// silent is an exitError whose message was already printed.
func silent(code int) error { return &exitError{code: code, err: errSilent} }

var errSilent = errors.New("")

// streams are the command's I/O, so tests can capture them.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

type command struct {
	name, summary string
	run           func(args []string, io streams) error
}

func commands() []command {
	return []command{
		{"validate", "check inputs without contacting any server", runValidate},
		{"plan", "show what apply would change, field by field", runPlan},
		{"apply", "plan, then execute, with retries and a resumable journal", runApply},
		{"approve", "sign a saved plan as a change-board approval (an SSH signature)", runApprove},
		{"audit", "list the audit log of runs, or verify its hash chain (audit verify)", runAudit},
		{"show", "render a saved plan again (terminal, or --report html, xlsx, json, csv), offline", runShow},
		{"export", "read instances from a target into a workbook or JSON zip", runExport},
		{"doctor", "check, read-only, that the targets are ready for a run", runDoctor},
		{"sim", "serve the VOSS and CUPI simulators over HTTP", runSim},
		{"list", "list the roles, hierarchies, credential policies or user templates of the targets", runList},
		{"template", "write a blank bulk-load sheet of a model", runTemplate},
		{"version", "print the version, VCS revision and Go version", runVersion},
		{"completion", "print a completion script for bash, zsh or fish", runCompletion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `bulkprov %s — bulk provisioning and migration for VOSS Automate and Cisco Unity Connection

Usage:
  bulkprov COMMAND [flags] INPUT...

Commands:
`, version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Inputs: VOSS bulk-load workbooks (.xlsx), CSV in the same layout, VOSS JSON
exports (.json, .json.zip, .zip).

Examples:
  bulkprov validate samples/tenant.xlsx
  bulkprov plan --sim samples/tenant.xlsx --report plan.html --report plan.xlsx
  bulkprov apply --voss https://voss.example --cupi https://cuc.example \
      --config tenant.json --report run.xlsx nightly.xlsx

Credentials come from the environment only: BULKPROV_VOSS_USER,
BULKPROV_VOSS_PASSWORD, BULKPROV_CUPI_USER, BULKPROV_CUPI_PASSWORD.

Exit codes: 0 done (or nothing to do), 1 some rows failed, 2 bad usage or
invalid input (nothing written), 3 target unreachable or interrupted
(resume by running the same command again), 4 a target refused the
credentials or a permission (fix the access first). When several apply:
2, then 4, then 3, then 1.

Run 'bulkprov COMMAND --help' for the flags of a command.
`)
}

func main() {
	stop := startCPUProfile()
	code := run(os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

func run(args []string, io streams) int {
	lw := newLogWriter(io.err) // every stderr line goes through it (--log-format)
	defer lw.flush()
	io.err = lw
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.out)
		if len(args) == 0 {
			return exitInvalid
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], io)
		if err == nil {
			return exitOK
		}
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if !errors.Is(ee.err, errSilent) {
				logEvent(io.err, slog.LevelError, "bulkprov: "+ee.err.Error(), ee.err.Error(), "exit", ee.code)
			}
			return ee.code
		}
		fmt.Fprintln(io.err, "bulkprov:", err)
		return exitInvalid
	}
	fmt.Fprintf(io.err, "bulkprov: unknown command %q%s; commands: %s\n", args[0], suggestCommand(args[0]), commandNames())
	return exitInvalid
}

// suggestCommand is " (did you mean X?)" for a mistyped command, or "".
func suggestCommand(name string) string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if s := schema.Closest(name, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// flagHints name the command that does what a flag of other tools asks.
var flagHints = map[string]string{
	"dry-run": "bulkprov has no --dry-run: 'bulkprov plan' shows what apply would change and writes nothing",
	"dryrun":  "bulkprov has no --dry-run: 'bulkprov plan' shows what apply would change and writes nothing",
	"n":       "bulkprov has no -n: 'bulkprov plan' shows what apply would change and writes nothing",
}

// flagError explains a flag the command does not know: the nearest flag it
// does know, or the command that does what the flag asks.
func flagError(fs *flag.FlagSet, msg string) string {
	name, ok := strings.CutPrefix(msg, "flag provided but not defined: -")
	if !ok {
		return strings.NewReplacer("argument: -", "argument: --", "flag -", "flag --").Replace(msg)
	}
	name = strings.TrimPrefix(name, "-")
	msg = "unknown flag --" + name
	if hint, ok := flagHints[strings.ToLower(name)]; ok {
		if fs.Name() == "plan" {
			hint = "plan never writes anything; leave --" + name + " out"
		}
		return msg + "; " + hint
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if s := schema.Closest(name, names); s != "" {
		return msg + fmt.Sprintf(" (did you mean --%s?)", s)
	}
	return msg
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// newFlagSet returns a flag set whose --help prints a teaching usage text.
func newFlagSet(name, synopsis, about string, io streams) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	registerLogFormat(fs, io.err)
	fs.Usage = func() {
		fmt.Fprintf(io.err, "Usage: bulkprov %s %s\n\n%s\n\nFlags:\n", name, synopsis, strings.TrimSpace(about))
		printFlags(io.err, fs)
	}
	return fs
}

// parseFlags parses flags that may appear before or after the positional
// arguments (bulkprov plan in.xlsx --sim works like bulkprov plan --sim in.xlsx).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	if captureFlags != nil {
		captureFlags(fs) // completion: the command's real flag set, nothing run
		return nil, errCaptured
	}
	var pos []string
	// The flag package's own message and full usage on a mistake are
	// replaced by one line that says what was meant.
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = usage; fs.SetOutput(out) }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return nil, err
			}
			return nil, fail(exitInvalid, "%s: %s; see: bulkprov %s --help", fs.Name(), flagError(fs, err.Error()), fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
