package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cheggaaa/pb/v3"

	"github.com/bulkprov/bulkprov/internal/approval"
	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/report"
)

func runApply(args []string, io streams) (err error) {
	defer tightenGC(applyGCPercent)()
	o := &applyOptions{}
	fs := newFlagSet("apply", "[TARGETS] [flags] INPUT...", applyHelp, io)
	o.register(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	defer o.tf.releaseState()
	au, err := startAudit("apply", o.auditPath, args, paths, &o.tf, io)
	if err != nil {
		return err
	}
	defer func() { err = au.finish(err) }()
	cmd := "apply"
	if o.revertPath != "" {
		cmd = "apply --revert"
	}
	if err := o.check(paths); err != nil {
		return refuseWithReport(err, cmd, o.reportPaths, o.outputs(paths), io)
	}
	a := &applyRun{applyOptions: o, io: io, paths: paths, au: au, rep: newReporter(cmd, o.reportPaths, io)}
	a.rep.metricsPath = o.metricsPath
	au.rep = a.rep
	defer func() { err = a.rep.finish(err) }()
	a.rep.problems(&o.in)
	if err := a.prepare(); err != nil {
		return err
	}
	defer writeMemProfile(io)
	if err := a.approve(); err != nil {
		return err
	}
	if err := a.loadSavedPlan(); err != nil {
		return err
	}
	if len(a.paths) == 0 {
		fs.Usage()
		return fail(exitInvalid, "no input files given")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return a.run(ctx)
}

// applyHelp is bulkprov apply's help.
const applyHelp = `
Plan, then execute: rows run in parallel, the operations of one row in
order (the CUPI user before its roles and credentials), each target under
an adaptive concurrency limit that backs off on 503/429. VOSS's writes
start as soon as VOSS's part of the plan is made, while Unity Connection's
per-user reads go on; with --plan, --max-deletes, --max-changes or
--canary the whole plan is made and checked before the first write. Failed rows are
recorded and the run goes on. Every write is journaled in a checkpoint:
if the run is interrupted (Ctrl-C, kill, a crash, a target going away),
run the same command again and it resumes — nothing done twice, nothing
lost.

Examples:
  bulkprov apply --sim samples/tenant.xlsx
  bulkprov apply --voss https://voss.example --cupi https://cuc.example \
      --config tenant.json --report run.xlsx --max-deletes 0 nightly.xlsx
  bulkprov apply --plan plan.json     # exactly the plan a change board approved
  bulkprov apply --revert users-20260101T020000Z.backout.json   # back it out

Every apply that writes writes a back-out file as it goes (path printed as
"backout: PATH"); apply --revert FILE undoes that run, against the targets
the file names, with the same journal, resume and reports.

Exit 0 all done, 1 some rows failed (see the report), 2 invalid input or
a refused plan (nothing written), 3 target unreachable or interrupted
(run the same command again to resume), 4 a target refused the
credentials or a permission (fix the access, then run again).`

// applyOptions are bulkprov apply's flags.
type applyOptions struct {
	in                                            inputFlags
	tf                                            targetFlags
	reportPaths                                   reportPaths
	planPath, checkpoint, revertPath, backoutPath string
	metricsPath                                   string
	fresh, quiet, verbose, force                  bool
	maxDeletes, maxChanges, keep                  int
	af                                            approvalFlags
	fc                                            firstContactFlags
	auditPath                                     string
}

func (o *applyOptions) register(fs *flag.FlagSet) {
	o.in.register(fs)
	o.tf.register(fs)
	fs.Var(&o.reportPaths, "report", "write per-row results as FILE.json, .csv, .xlsx (with a sheet of failed rows to fix and re-feed) or .html (repeat for several formats)")
	fs.StringVar(&o.planPath, "plan", "", "apply this saved plan (from plan --out) to the targets it was planned against; refused if any object changed since")
	fs.StringVar(&o.checkpoint, "checkpoint", "", "checkpoint journal (default: STATE-DIR/checkpoints/NAME-HASH.journal, named after the first input and bound to the inputs, config and targets)")
	fs.BoolVar(&o.fresh, "fresh", false, "ignore an unfinished checkpoint and start over")
	fs.BoolVar(&o.quiet, "quiet", false, "only the summary, the failures with their reasons and the back-out path: no progress, no metrics")
	fs.BoolVar(&o.verbose, "verbose", false, "also list every changed object with its field changes")
	fs.StringVar(&o.revertPath, "revert", "", "undo the run whose back-out file this is (no input files; targets and config from the file)")
	fs.BoolVar(&o.force, "force", false, "with --revert: restore objects someone else changed since the run, too")
	fs.StringVar(&o.backoutPath, "backout", "", "write the back-out file here (default: beside the checkpoint, named after it with -UTCTIME.backout.json)")
	fs.IntVar(&o.maxDeletes, "max-deletes", -1, "refuse to run (before any write) when the plan deletes more than N objects")
	fs.IntVar(&o.keep, "keep", engine.DefaultKeep, "after a run, keep the checkpoints and back-out files of the N most recent completed runs in the state folder's checkpoints and remove older ones (never an unfinished run's; 0 keeps all)")
	fs.IntVar(&o.maxChanges, "max-changes", -1, "refuse to run (before any write) when the plan changes more than N objects")
	registerMetricsFile(fs, &o.metricsPath)
	o.af.register(fs)
	o.fc.register(fs)
	auditLogFlag(fs, &o.auditPath)
}

// check refuses bad inputs and flags, and outputs that cannot be written
// or inputs that cannot be read, before anything is planned.
func (o *applyOptions) check(paths []string) error {
	if err := o.in.check(); err != nil {
		return err
	}
	if o.keep < 0 {
		return fail(exitInvalid, "--keep %d: want a number of runs ≥ 0 (0 keeps all)", o.keep)
	}
	if err := o.fc.check(); err != nil {
		return err
	}
	return checkOutputs(o.outputs(paths)...)
}

// outputs are the files apply writes and reads, for checkOutputs.
func (o *applyOptions) outputs(paths []string) []outputPath {
	outs := append(o.reportPaths.outputs(), outputPath{flag: "--metrics-file", path: o.metricsPath}, outputPath{flag: "--checkpoint", path: o.checkpoint},
		outputPath{flag: "--backout", path: o.backoutPath, exts: []string{".json"}})
	outs = append(outs, readPaths("input", paths...)...)
	outs = append(outs, readPaths("--config", o.tf.config)...)
	outs = append(outs, readPaths("--ca-file", o.tf.caFile)...)
	outs = append(outs, readPaths("--secrets", o.tf.secrets)...)
	outs = append(outs, readPaths("--plan", o.planPath)...)
	return append(outs, readPaths("--revert", o.revertPath)...)
}

// applyRun is one bulkprov apply as it goes: its flags, what the back-out
// file (--revert) and the saved plan (--plan) give, and where it reports.
type applyRun struct {
	*applyOptions
	io       streams
	paths    []string
	au       *auditRun
	rep      *reporter
	rv       *revertRun
	approved *approval.Result
	saved    *engine.Plan
	packet   *planPacket
	fromPlan bool // the inputs are the saved plan's records
}

// prepare reads the back-out file of apply --revert.
func (a *applyRun) prepare() (err error) {
	if a.revertPath != "" {
		if a.rv, err = loadRevert(a.revertPath, a.paths, &a.tf, a.force); err != nil {
			return err
		}
		a.paths = []string{a.revertPath}
	}
	return nil
}

// approve checks the plan's signatures when the approval policy asks.
func (a *applyRun) approve() error {
	pol, err := a.af.policy(&a.tf, a.rv)
	if err != nil || pol == nil {
		return err
	}
	a.approved, err = checkApproval(pol, a.planPath, a.rep, a.au, a.io)
	return err
}

// loadSavedPlan reads --plan: the plan to execute exactly, its targets,
// and its inputs when none are given.
func (a *applyRun) loadSavedPlan() (err error) {
	if a.planPath == "" {
		return nil
	}
	if a.saved, a.packet, err = loadPlanPacket(a.planPath); err != nil {
		return fail(exitInvalid, "--plan: %v", err)
	}
	if sum, _, err := fileSHA256(a.planPath); err == nil {
		a.rep.run.Plan = &report.RunFile{File: a.planPath, SHA256: sum}
	}
	if a.approved != nil && (a.rep.run.Plan == nil || a.rep.run.Plan.SHA256 != a.approved.PlanSHA256) {
		return fail(exitInvalid, "--plan %s changed after its signatures were checked; nothing was written", a.planPath)
	}
	if err := backoutPlanNeedsRevert(a.saved, a.rv, a.planPath); err != nil {
		return err
	}
	if err := targetsFromPlan(&a.tf, a.saved, a.io.err); err != nil {
		return err
	}
	if len(a.paths) == 0 {
		for _, i := range a.saved.Inputs {
			a.paths = append(a.paths, i.Path)
		}
		a.fromPlan = a.rv == nil && a.packet.hasRecords && inputsGone(a.saved)
	}
	return nil
}

// load reads the inputs (or the saved plan's records) and connects the
// targets they and the config name.
func (a *applyRun) load() (*runInputs, *connection, error) {
	var run *runInputs
	var err error
	if a.fromPlan {
		run, err = a.tf.loadRunFromPlan(a.saved, a.packet, a.planPath, a.io.err)
	} else {
		run, err = loadInputs(a.rv, &a.tf, &a.in, a.paths, a.io, a.rep.needsRecords())
	}
	if err != nil {
		return nil, nil, err
	}
	a.rep.inputs(run.files, len(run.rows))
	a.rep.run.Config = configFile(a.tf.config, run.cfgBytes, a.rv)
	if a.fromPlan && a.packet.ConfigFile != nil {
		a.rep.run.Config = a.packet.ConfigFile
	}
	a.rep.recs, run.recs = run.recs, nil
	conn, err := a.tf.connect(run.cfg, a.io.err)
	if err != nil {
		return nil, nil, err
	}
	return run, conn, nil
}

// run loads and connects, opens the run on its checkpoint and state
// folder, executes it and reports.
func (a *applyRun) run(ctx context.Context) (err error) {
	runStart := time.Now()
	run, conn, err := a.load()
	if err != nil {
		return err
	}
	defer conn.close()
	a.rep.targets(&a.tf, conn)
	defer watch(conn, a.io.err, slowRequest, min(quietTarget, a.tf.timeout/2))()
	if err := run.fitTargets(conn.targets, a.io.err); err != nil {
		return err
	}
	rs, binding, err := a.state(ctx, run, conn)
	if err != nil {
		return err
	}
	if a.tf.held != nil {
		// Registered before the run's close, so it runs after it: this
		// run's files are counted as they end.
		defer pruneCheckpoints(filepath.Join(a.tf.held.Path, "checkpoints"), a.keep, a.io)
	}
	r, checkpoint, err := a.openRun(run, conn, rs, binding)
	if err != nil {
		return err
	}
	defer func() { printErrors(a.io, r.Close()) }()
	if err := r.Open(); err != nil {
		return fail(exitInvalid, "%v", err)
	}
	if err := r.Settle(ctx); err != nil {
		return resumeHint(planError(err), checkpoint, a.io)
	}
	prog := newProgress(a.io, a.quiet)
	r.Apply.Progress = prog.update
	p, applyErr := a.execute(ctx, r, run)
	if p == nil {
		if r.Refused() {
			return applyErr
		}
		return resumeHint(planError(applyErr), checkpoint, a.io)
	}
	return a.report(p, applyErr, r, conn.targets, checkpoint, runStart, prog)
}

// state takes the state folder (not with --sim) and reads its run state;
// binding binds the checkpoint to the inputs, the config and the targets
// (the same sheet against another server is another run).
func (a *applyRun) state(ctx context.Context, run *runInputs, conn *connection) (*engine.RunState, string, error) {
	binding := hashString(run.binding + "|" + conn.targets.ID)
	if !a.tf.sim {
		// One run at a time on a state folder: taken before its
		// checkpoint or records are read.
		if _, err := a.tf.holdState(ctx, a.io.err); err != nil {
			return nil, "", err
		}
	}
	rs, err := a.tf.runState(ctx, a.io.err)
	return rs, binding, err
}

// openRun opens the checkpoint and makes the run over it, the run state
// and the back-out file BeforeWrites opens.
func (a *applyRun) openRun(run *runInputs, conn *connection, rs *engine.RunState, binding string) (*engine.Run, string, error) {
	journal, checkpoint, created, err := openCheckpoint(&a.tf, a.checkpoint, a.paths[0], binding, a.fresh, a.io)
	if err != nil {
		return nil, "", err
	}
	r := &engine.Run{Targets: conn.targets, Options: a.tf.engineOptions(rs), Journal: journal, JournalCreated: created, State: rs, OneTimePath: a.tf.oneTime}
	r.Options.SkipUnkept = a.fc.skipUnkept
	r.Apply.Canary, r.Apply.Verify = a.fc.canary, a.fc.verify
	// Before the first write: the plan made so far is checked and the
	// back-out file opened.
	r.BeforeWrites = func(p *engine.Plan, o *engine.Options) error {
		p.Inputs, p.ConfigSHA256 = run.files, run.binding
		if err := beforeWrites(p, a.saved, a.planPath, a.maxDeletes, a.maxChanges, a.io); err != nil {
			return err
		}
		warnResent(a.io.err, rs, p)
		bo, err := openBackout(a.backoutPath, journal, conn.targets, run, a.rv, p, a.io)
		o.Backout = bo
		if bo != nil {
			a.rep.run.Backout = bo.Path
		}
		return err
	}
	return r, checkpoint, nil
}

// execute plans and applies: the rows planned as they are applied when
// nothing needs the whole plan before the first write, else the whole
// plan first.
func (a *applyRun) execute(ctx context.Context, r *engine.Run, run *runInputs) (*engine.Plan, error) {
	// A state folder with no records (new, or lost) plans the whole run
	// first, so the warning of secrets sent again counts them all before
	// the first is sent.
	if a.saved == nil && a.maxDeletes < 0 && a.maxChanges < 0 && a.rv == nil && !r.State.Fresh() && a.fc.canary == 0 {
		// Nothing needs the whole plan before the first write: VOSS's
		// writes start once VOSS's part is planned, while Unity
		// Connection's per-user reads go on.
		r.Options.ReleaseRows = true // the rows are spent as they are planned
		rows := run.rows
		run.rows = nil // held only by the run, which lets go of them once planned
		return r.Execute(ctx, rows, nil)
	}
	return r.Execute(ctx, nil, func(ctx context.Context, o engine.Options) (*engine.Plan, error) {
		return makePlan(ctx, a.rv, run, r.Targets, o)
	})
}

// report ends an executed run: the one-time passwords and run state
// written, the report printed, and the exit; a run that went to its end
// is marked complete.
func (a *applyRun) report(p *engine.Plan, applyErr error, r *engine.Run, t *engine.Targets, checkpoint string, runStart time.Time, prog *progress) error {
	markEarlierWork(p, r.Journal)
	if r.Options.OneTime != nil {
		if n, err := r.Options.OneTime.Close(); err != nil {
			fmt.Fprintln(a.io.err, "bulkprov: one-time passwords:", err)
		} else if n > 0 {
			fmt.Fprintf(a.io.err, "%d one-time password(s) written to %s (mode 0600; the last line of a user is in force); hand them over and delete the file\n", n, a.tf.oneTime)
		}
	}
	if err := r.State.Save(); err != nil {
		fmt.Fprintln(a.io.err, "bulkprov: saving run state:", err)
	}
	doc := report.New(commandName("apply", a.rv), p)
	doc.Metrics = metrics(t, time.Since(runStart)) // over the whole run: its reads count too
	a.rep.doc = doc
	prog.finish(doc.Account())
	report.Print(a.io.out, doc, report.TextOptions{Color: useColor(a.io.out), Changes: a.verbose && !a.quiet})
	printNotRestorable(a.io, p)
	if !a.quiet {
		printMetrics(a.io, doc.Metrics, t, time.Since(runStart))
	}
	if err := stoppedExit(p, applyErr); err != nil {
		return resumeHint(err, checkpoint, a.io)
	}
	r.Complete()
	if doc.Summary.Failed > 0 {
		return silent(exitRowsFailed)
	}
	return nil
}

// printErrors prints each of errs (joined or one) on stderr as bulkprov's.
func printErrors(io streams, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			fmt.Fprintln(io.err, "bulkprov:", e)
		}
		return
	}
	fmt.Fprintln(io.err, "bulkprov:", err)
}

// openCheckpoint opens the run's journal: at path, or (not with --sim)
// in the state folder's checkpoints/, named after the first input and
// the binding. It returns the journal (nil for none), its path and whether
// this run created the file.
func openCheckpoint(tf *targetFlags, path, firstInput, binding string, fresh bool, io streams) (*engine.Journal, string, bool, error) {
	if path == "" && !tf.sim {
		dir, err := tf.stateFolder()
		if err != nil {
			return nil, "", false, err
		}
		dir = filepath.Join(dir, "checkpoints")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, "", false, fail(exitInvalid, "checkpoint folder: %v", err)
		}
		base := strings.TrimSuffix(filepath.Base(firstInput), filepath.Ext(firstInput))
		path = filepath.Join(dir, base+"-"+binding[:12]+tf.shard.suffix()+".journal")
	}
	if path == "" {
		return nil, "", false, nil
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	journal, err := engine.OpenJournal(path, binding, fresh)
	if err != nil {
		return nil, "", false, fail(exitInvalid, "%v", err)
	}
	if journal.Resumed {
		fmt.Fprintf(io.err, "resuming from checkpoint %s: %d operation(s) already done, %d to verify\n", path, len(journal.Done), len(journal.Pending))
	}
	return journal, path, created, nil
}

// pruneCheckpoints applies --keep to the state folder's checkpoints.
func pruneCheckpoints(dir string, keep int, io streams) {
	removed, err := engine.PruneCheckpoints(dir, keep)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(io.err, "bulkprov: pruning old checkpoints:", err)
	}
	if len(removed) > 0 {
		fmt.Fprintf(io.err, "pruned %d checkpoint and back-out file(s) of completed runs older than the last %d (--keep)\n", len(removed), keep)
	}
}

// stoppedExit is the exit of a run that stopped short, or nil: clusters
// that failed as a whole (at plan or apply time), a fatal error, or an
// interrupt. When more than one happened, the exit is the most severe by
// the documented precedence (4 before 3) and the message names each.
func stoppedExit(p *engine.Plan, applyErr error) error {
	var stops []error
	down := map[string]error{}
	for name, err := range p.Down {
		down[name] = err
	}
	var cd *engine.ClustersDown
	if errors.As(applyErr, &cd) {
		for name, err := range cd.Errs {
			down[name] = err
		}
	} else if applyErr != nil {
		var fe *engine.FatalError
		if errors.As(applyErr, &fe) {
			stops = append(stops, fatalExit(fe))
		} else {
			stops = append(stops, fail(exitInterrupted, "%v", applyErr))
		}
	}
	if len(down) > 0 {
		stops = append(stops, clustersExit(down, false))
	}
	if len(stops) < 2 {
		return errors.Join(stops...) // nil, or the one
	}
	code, msgs := exitInterrupted, make([]string, len(stops))
	for i, err := range stops {
		var ee *exitError
		if errors.As(err, &ee) && ee.code == exitAccess {
			code = exitAccess
		}
		msgs[i] = err.Error()
	}
	return fail(code, "%s", strings.Join(msgs, "; "))
}

// beforeWrites checks a plan before its first write: against the saved
// plan it must match, and against the limits on deletes and changes.
func beforeWrites(p *engine.Plan, saved *engine.Plan, planPath string, maxDeletes, maxChanges int, io streams) error {
	if saved != nil {
		if err := checkSavedPlan(saved, p, planPath, io); err != nil {
			return err
		}
	}
	s := p.Summary()
	if maxDeletes >= 0 && s.Delete > maxDeletes {
		return fail(exitInvalid, "the plan deletes %d object(s), more than --max-deletes %d; nothing was written", s.Delete, maxDeletes)
	}
	if changes := s.Create + s.Update + s.Delete; maxChanges >= 0 && changes > maxChanges {
		return fail(exitInvalid, "the plan changes %d object(s), more than --max-changes %d; nothing was written", changes, maxChanges)
	}
	return nil
}

func resumeHint(err error, checkpoint string, io streams) error {
	var ee *exitError
	if errors.As(err, &ee) && ee.code == exitInterrupted {
		if checkpoint != "" {
			fmt.Fprintf(io.err, "bulkprov: stopped; run the same command again to resume from %s\n", checkpoint)
		} else {
			fmt.Fprintln(io.err, "bulkprov: stopped; run the same command again (state is re-read, nothing is done twice)")
		}
	}
	return err
}

// checkSavedPlan refuses a saved plan whose operations no longer match the
// current state of the targets (or the inputs).
//
// A refusal names, per field, the value planned and the value the target
// holds now; the saved plan's changes are read again for that (apply
// --plan holds the saved operations without them).
func checkSavedPlan(saved, fresh *engine.Plan, planPath string, io streams) error {
	for i, in := range saved.Inputs {
		if i >= len(fresh.Inputs) || fresh.Inputs[i].SHA256 != in.SHA256 {
			return fail(exitInvalid, "--plan: input %s changed since the plan was made; make a new plan", in.Path)
		}
	}
	now := map[string]*engine.Op{}
	for _, op := range fresh.Ops {
		now[op.ID] = op
	}
	refused := 0
	say := &capped{w: io.err, max: 20}
	for _, op := range saved.Ops {
		cur := now[op.ID]
		switch {
		case cur == nil:
			refused++
			say.printf("%s: %s %s: no longer in the plan\n", op.Src(), op.Kind, op.Key)
		case cur.Fingerprint != op.Fingerprint || cur.Action != op.Action:
			refused++
			say.printf("%s: %s %s: the target changed since the plan was made: %s\n", op.Src(), op.Kind, op.Key, driftDetail(op, cur, plannedChanges(planPath)))
		}
		delete(now, op.ID)
	}
	for _, op := range now {
		if op.Writes() {
			refused++
			say.printf("%s: %s %s: not in the saved plan\n", op.Src(), op.Kind, op.Key)
		}
	}
	if refused > 0 && nothingToDo(fresh) {
		return fail(exitInvalid, "--plan: the targets already hold what this plan makes (was it applied already?); nothing was written; a new plan shows nothing to do")
	}
	say.close()
	if refused > 0 {
		return fail(exitInvalid, "--plan: %d operation(s) refused because the targets changed since the plan was made; nothing was written; make a new plan", refused)
	}
	return nil
}

// plannedChanges returns the saved plan's changes by operation id, read
// once on first use; nil when the plan cannot be read again.
func plannedChanges(planPath string) map[string][]engine.Change {
	if cached, ok := plannedCache[planPath]; ok {
		return cached
	}
	var m map[string][]engine.Change
	if p, _, err := readFullPlan(planPath); err == nil {
		m = map[string][]engine.Change{}
		for _, op := range p.Ops {
			m[op.ID] = op.Changes
		}
	}
	plannedCache[planPath] = m
	return m
}

var plannedCache = map[string]map[string][]engine.Change{}

// driftDetail says how a saved operation and the fresh one differ: the
// actions when they differ, and per field the value planned (old → new)
// and the value the target holds now. Write-only values show as ***.
func driftDetail(saved, cur *engine.Op, planned map[string][]engine.Change) string {
	var parts []string
	if saved.Action != cur.Action {
		parts = append(parts, fmt.Sprintf("planned %s, now %s", saved.Action, cur.Action))
	}
	show := func(v any, secret bool) string { return report.Value(v, secret) }
	now := map[string]engine.Change{}
	for _, c := range cur.Changes {
		now[c.Field] = c
	}
	seen := map[string]bool{}
	for _, c := range planned[saved.ID] {
		seen[c.Field] = true
		n, changed := now[c.Field]
		switch {
		case !changed: // the target holds what the plan would write
			parts = append(parts, fmt.Sprintf("%s: planned %s → %s, now %s already", c.Field, show(c.Old, c.Secret), show(c.New, c.Secret), show(c.New, c.Secret)))
		case fmt.Sprint(n.Old) != fmt.Sprint(c.Old):
			parts = append(parts, fmt.Sprintf("%s: planned %s → %s, now %s", c.Field, show(c.Old, c.Secret), show(c.New, c.Secret), show(n.Old, n.Secret)))
		}
	}
	for _, c := range cur.Changes {
		if !seen[c.Field] && saved.Action == cur.Action {
			parts = append(parts, fmt.Sprintf("%s: planned unchanged, now %s (would become %s)", c.Field, show(c.Old, c.Secret), show(c.New, c.Secret)))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("planned %s, now %s (the object's current state differs from when the plan was made)", saved.Action, cur.Action)
	}
	return strings.Join(parts, "; ")
}

func metrics(t *engine.Targets, elapsed time.Duration) []report.TargetMetrics {
	var out []report.TargetMetrics
	for _, l := range t.Limiters() {
		s := l.Stats()
		if s.Requests == 0 {
			continue
		}
		out = append(out, report.TargetMetrics{Target: l.Name, Requests: s.Requests, PerSecond: float64(s.Requests) / elapsed.Seconds(),
			P50Ms: float64(s.Percentile(50).Microseconds()) / 1000, P95Ms: float64(s.Percentile(95).Microseconds()) / 1000,
			Status503: s.Status503, Status429: s.Status429, Retries: s.Retries, BackoffS: s.Backoff.Seconds(), PaceWaitS: s.PaceWait.Seconds(), MaxLimit: l.Max, Timeline: s.Timeline})
	}
	return out
}

func printMetrics(io streams, ms []report.TargetMetrics, t *engine.Targets, elapsed time.Duration) {
	for _, m := range ms {
		wait := ""
		if m.PaceWaitS > 0 {
			wait = fmt.Sprintf(", %.1fs waiting for the rate budget", m.PaceWaitS)
		}
		fmt.Fprintf(io.err, "%s: %d requests in %.1fs (%.1f req/s), p50 %.1f ms, p95 %.1f ms, %d throttled (%d×503, %d×429), %.1fs backing off%s\n",
			m.Target, m.Requests, elapsed.Seconds(), m.PerSecond, m.P50Ms, m.P95Ms, m.Status503+m.Status429, m.Status503, m.Status429, m.BackoffS, wait)
	}
	if b := boundBy(ms, t, elapsed); b != "" {
		fmt.Fprintln(io.err, "limit:", b)
	}
}

// minLimitRun is the shortest run the limit line speaks of: a shorter
// one's rate says more about its start than about any budget.
const minLimitRun = 2 * time.Second

// boundBy names the server that set the run's pace, when one did: VOSS's
// requests-per-second budget, or CUPI's slots (5 requests in service).
func boundBy(ms []report.TargetMetrics, t *engine.Targets, elapsed time.Duration) string {
	var notes []string
	if elapsed < minLimitRun {
		return "" // too short a run to say what set its pace
	}
	for _, m := range ms {
		switch {
		case m.Target == "voss" && t.VOSSPace != nil:
			budget := float64(t.VOSSPace.Limit())
			if float64(m.Requests) < budget*minLimitRun.Seconds() {
				continue // fewer requests than the budget's share of the time
			}
			if use := m.PerSecond / budget; use >= 0.7 {
				notes = append(notes, fmt.Sprintf("the VOSS rate budget (%.1f of %.0f req/s)", min(m.PerSecond, budget), budget))
			}
		case m.Target == "cupi" && m.Requests >= 10*engine.StartLimit:
			// Busy share of the 5 slots: requests × median latency ÷ 5.
			if busy := float64(m.Requests) * m.P50Ms / 1000 / engine.StartLimit / elapsed.Seconds(); busy >= 0.7 {
				notes = append(notes, fmt.Sprintf("the CUPI slots (5 busy %.0f%% of the run)", 100*min(busy, 1)))
			}
		}
	}
	return strings.Join(notes, " and ")
}

// progress shows a bar on a terminal and plain periodic lines otherwise.
type progress struct {
	mu    sync.Mutex
	io    streams
	bar   *pb.ProgressBar
	quiet bool
	last  time.Time
	start time.Time

	done, failed, total int // the last update
}

func newProgress(io streams, quiet bool) *progress {
	return &progress{io: io, quiet: quiet, start: time.Now(), last: time.Now()}
}

func (p *progress) update(done, failed, total int) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// While Unity Connection's part of the plan is still being made, the
	// total grows: it counts the rows with writes planned so far.
	p.done, p.failed, p.total = done, failed, total
	if isTerminal(p.io.err) {
		if p.bar == nil {
			p.bar = pb.New(total)
			p.bar.SetWriter(p.io.err)
			p.bar.SetTemplateString(`{{counters .}} rows {{bar .}} {{percent .}} {{speed .}} {{rtime .}} {{string . "failed"}}`)
			p.bar.Start()
		}
		p.bar.SetTotal(int64(total))
		p.bar.SetCurrent(int64(done))
		p.bar.Set("failed", fmt.Sprintf("%d failed", failed))
		return
	}
	if time.Since(p.last) >= 10*time.Second {
		p.last = time.Now()
		p.line()
	}
}

func (p *progress) line() { progressLine(p.io.err, p.done, p.failed, p.total, time.Since(p.start)) }
