package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bulkprov/bulkprov/internal/approval"
	"github.com/bulkprov/bulkprov/internal/audit"
	"github.com/bulkprov/bulkprov/internal/statedir"
)

// auditFileName is the audit log's name in the state folder.
const auditFileName = "audit.jsonl"

// auditLogFlag registers --audit-log on a command.
func auditLogFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "audit-log", "", "append this run's audit record to FILE (default: audit.jsonl in the state folder; with --sim, kept in memory unless named)")
}

// auditLog is the log a run appends to: --audit-log, else (not with
// --sim) audit.jsonl in the state folder, else one held in memory.
func auditLog(path string, sim bool, stateDir string) (*audit.Log, error) {
	if path != "" || sim {
		return &audit.Log{Path: path}, nil
	}
	dir, err := (&targetFlags{stateDir: stateDir}).stateFolder()
	if err != nil {
		return nil, err
	}
	// Nothing is written into a state folder the run will refuse (one
	// others may write): not even the audit record.
	if err := statedir.Ensure(dir); err != nil {
		return nil, fail(exitInvalid, "%v; nothing was done", err)
	}
	return &audit.Log{Path: filepath.Join(dir, auditFileName)}, nil
}

// auditRun is the audit record of one run, appended when the run ends.
type auditRun struct {
	log   *audit.Log
	rec   audit.Record
	rep   *reporter
	tf    *targetFlags
	paths []string
	io    streams
}

// startAudit begins the record of a run whose flags parsed, after making
// sure the log can be appended to (else exit 2 before anything is done).
func startAudit(command, logPath string, args, paths []string, tf *targetFlags, io streams) (*auditRun, error) {
	l, err := auditLog(logPath, tf.sim, tf.stateDir)
	if err != nil {
		return nil, err
	}
	if err := l.Check(); err != nil {
		return nil, fail(exitInvalid, "%v; nothing was done", err)
	}
	a := &auditRun{log: l, tf: tf, paths: paths, io: io}
	a.rec = audit.Record{Time: time.Now().UTC().Format(time.RFC3339Nano), Command: command, Args: audit.ScrubArgs(args), Version: version}
	a.rec.User, a.rec.Host = whoAmI()
	return a, nil
}

// approvers records the approvals a run counted.
func (a *auditRun) approvers(res *approval.Result) {
	a.rec.Plan, a.rec.PlanSHA256 = res.Plan, res.PlanSHA256
	for _, ap := range res.Approvers {
		a.rec.Approvers = append(a.rec.Approvers, audit.Approver{Principal: ap.Principal, Key: ap.Key})
	}
}

// finish appends the record of a run that returns err, prints the new
// head as "audit: SHA256" and returns the error the run should return: a
// run that did its work but cannot be recorded exits 1, not 0.
func (a *auditRun) finish(err error) error {
	if a == nil {
		return err
	}
	code := exitCode(err)
	r := &a.rec
	if a.rep != nil {
		run := a.rep.run
		command := strings.Fields(run.Command)
		if len(command) > 0 {
			r.Command = run.Command
		}
		r.Targets = audit.Targets{VOSS: run.Targets.VOSS, CUPI: run.Targets.CUPI}
		for _, in := range run.Inputs {
			r.Inputs = append(r.Inputs, audit.File{File: in.File, SHA256: in.SHA256})
		}
		if run.Plan != nil {
			r.Plan, r.PlanSHA256 = run.Plan.File, run.Plan.SHA256
		}
		r.Backout = run.Backout
		if d := a.rep.doc; d != nil {
			acct := d.Account()
			c := acct.Rows
			r.Rows = &audit.Rows{Total: c.Total, OK: c.OK, Failed: c.Failed, NotRun: c.NotRun}
			s := acct.Summary()
			r.Operations = &audit.Ops{Create: s.Create, Update: s.Update, Delete: s.Delete, Noop: s.Noop, Done: s.Done, Failed: s.Failed}
		}
	}
	if r.Rows == nil {
		// Stopped before a plan: the record still carries every field.
		r.Rows = &audit.Rows{}
	}
	if r.Inputs == nil {
		r.Inputs = []audit.File{}
	}
	if r.Approvers == nil {
		r.Approvers = []audit.Approver{}
	}
	if len(r.Inputs) == 0 {
		// Refused before the inputs were read: their hashes as they are.
		for _, p := range a.paths {
			if sum, _, err := fileSHA256(p); err == nil {
				r.Inputs = append(r.Inputs, audit.File{File: p, SHA256: sum})
			}
		}
	}
	if r.Targets.VOSS == "" && r.Targets.CUPI == nil && a.tf != nil {
		if a.tf.sim {
			r.Targets = audit.Targets{VOSS: "sim-voss", CUPI: map[string]string{"default": "sim-cupi"}}
		} else {
			r.Targets.VOSS = a.tf.voss
			if a.tf.cupi != "" {
				r.Targets.CUPI = map[string]string{"default": a.tf.cupi}
			}
		}
	}
	r.Exit = code
	if err != nil && !errors.Is(err, errSilent) && code != exitOK {
		r.Error = audit.ScrubText(err.Error())
	}
	r.Targets.VOSS = audit.ScrubText(r.Targets.VOSS)
	if len(r.Targets.CUPI) > 0 {
		cupi := map[string]string{}
		for name, u := range r.Targets.CUPI {
			cupi[name] = audit.ScrubText(u)
		}
		r.Targets.CUPI = cupi
	}
	head, werr := a.log.Append(r)
	if werr != nil {
		fmt.Fprintf(a.io.err, "bulkprov: the run could not be recorded in the audit log: %v\n", werr)
		if code == exitOK {
			return silent(exitRowsFailed)
		}
		return err
	}
	fmt.Fprintf(a.io.err, "audit: %s\n", head)
	return err
}

// whoAmI is the OS user and host name.
func whoAmI() (string, string) {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = fmt.Sprintf("uid %d", os.Getuid())
	}
	host, _ := os.Hostname()
	return name, host
}

// runAudit is bulkprov audit [verify].
func runAudit(args []string, io streams) error {
	verify := len(args) > 0 && args[0] == "verify"
	if verify {
		args = args[1:]
	}
	var stateDir, logPath, head string
	var asJSON bool
	fs := newFlagSet("audit", "[verify] [--state-dir DIR] [--audit-log FILE] [--json]", `
List the runs in the audit log (audit.jsonl in the state folder): every
plan, apply (revert included) and approve, also those refused, with who
ran it where, the plan's SHA-256 and its approvers, the back-out file and
the exit code. Each line carries the SHA-256 of the line before it.

bulkprov audit verify checks that chain: exit 0 when every line's prev is
the SHA-256 of the line before it, 1 naming the first line where it breaks
(a line edited, removed or inserted). With --head SHA256 (a head printed
as "audit: SHA256" by a run and kept elsewhere, such as a ticket), it also
checks that line is still in the log: a log cut back past it fails.

Examples:
  bulkprov audit
  bulkprov audit --json
  bulkprov audit verify --head 5d41402abc4b2a76b9719d911017c592...`, io)
	fs.StringVar(&stateDir, "state-dir", "", "state folder whose audit.jsonl to read (default $BULKPROV_STATE_DIR, else $XDG_STATE_HOME/bulkprov)")
	fs.StringVar(&logPath, "audit-log", "", "read this audit log instead")
	fs.BoolVar(&asJSON, "json", false, "print the records as a JSON array, each with its line and SHA-256")
	fs.StringVar(&head, "head", "", "verify: also require the line whose SHA-256 this is (an anchored head)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 1 && rest[0] == "verify" && !verify {
		verify, rest = true, nil
	}
	if len(rest) > 0 {
		return fail(exitInvalid, "audit takes no arguments but verify: %s", strings.Join(rest, " "))
	}
	if logPath == "" {
		dir, err := (&targetFlags{stateDir: stateDir}).stateFolder()
		if err != nil {
			return err
		}
		logPath = filepath.Join(dir, auditFileName)
	}
	if _, err := os.Stat(logPath); err != nil {
		return fail(exitInvalid, "audit log %s: %v", logPath, unwrapPath(err))
	}
	l := &audit.Log{Path: logPath}
	lines, brk, err := l.Verify()
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	if verify {
		return auditVerify(io, logPath, head, lines, brk)
	}
	if asJSON {
		return auditJSON(io, lines, brk)
	}
	auditTable(io, lines, brk)
	return nil
}

// auditVerify says whether the log's chain is intact and, with --head,
// holds the line of that SHA-256.
func auditVerify(io streams, logPath, head string, lines []audit.Line, brk *audit.Break) error {
	if brk != nil {
		return fail(exitRowsFailed, "audit log %s: the chain breaks at line %d: %s", logPath, brk.Line, brk.Why)
	}
	if head != "" {
		at := 0
		for _, ln := range lines {
			if ln.Hash == strings.ToLower(strings.TrimSpace(head)) {
				at = ln.N
			}
		}
		if at == 0 {
			return fail(exitRowsFailed, "audit log %s: no line has the SHA-256 %s: the log was cut back (or replaced) since that head was printed", logPath, head)
		}
		fmt.Fprintf(io.out, "head %s is line %d of %d\n", head, at, len(lines))
	}
	last := ""
	if len(lines) > 0 {
		last = lines[len(lines)-1].Hash
	}
	fmt.Fprintf(io.out, "audit log %s: %d line(s), chain intact; head %s\n", logPath, len(lines), last)
	return nil
}

// auditJSON prints the log's records as a JSON array, each with its line,
// SHA-256 and where the chain breaks.
func auditJSON(io streams, lines []audit.Line, brk *audit.Break) error {
	type entry struct {
		Line   int           `json:"line"`
		SHA256 string        `json:"sha256"`
		Error  string        `json:"chain_error,omitempty"`
		Record *audit.Record `json:"record"`
	}
	out := []entry{}
	for _, ln := range lines {
		e := entry{Line: ln.N, SHA256: ln.Hash, Record: ln.Record}
		if brk != nil && brk.Line == ln.N {
			e.Error = brk.Why
		}
		out = append(out, e)
	}
	enc := json.NewEncoder(io.out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// auditTable prints the log as a table, one run a line, and on stderr
// where the chain breaks.
func auditTable(io streams, lines []audit.Line, brk *audit.Break) {
	tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tTIME\tUSER@HOST\tCOMMAND\tEXIT\tROWS\tPLAN\tAPPROVERS\tBACKOUT")
	for _, ln := range lines {
		r := ln.Record
		if r == nil {
			fmt.Fprintf(tw, "%d\t%s\n", ln.N, ln.Err)
			continue
		}
		rows, plan := "-", "-"
		if r.Rows != nil && (r.Rows.Total > 0 || r.Operations != nil) {
			rows = fmt.Sprintf("%d/%d ok", r.Rows.OK, r.Rows.Total)
		}
		if r.PlanSHA256 != "" {
			plan = r.PlanSHA256[:min(12, len(r.PlanSHA256))]
		}
		var who []string
		for _, a := range r.Approvers {
			who = append(who, a.Principal)
		}
		approvers := strings.Join(who, ",")
		if approvers == "" {
			approvers = "-"
		}
		backout := r.Backout
		if backout == "" {
			backout = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s@%s\t%s\t%d\t%s\t%s\t%s\t%s\n", ln.N, r.Time, r.User, r.Host, r.Command, r.Exit, rows, plan, approvers, backout)
	}
	tw.Flush()
	if brk != nil {
		fmt.Fprintf(io.err, "bulkprov: the chain breaks at line %d: %s (bulkprov audit verify)\n", brk.Line, brk.Why)
	}
}
