package main

import (
	"context"
	"errors"
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
	"github.com/bulkprov/bulkprov/targets"
)

func runApply(args []string, io streams) (err error) {
	defer tightenGC(applyGCPercent)()
	var in inputFlags
	var tf targetFlags
	var reportPaths reportPaths
	var planPath, checkpoint, revertPath, backoutPath string
	var metricsPath string
	var fresh, quiet, verbose, force bool
	var maxDeletes, maxChanges, keep int
	var af approvalFlags
	var auditPath string
	fs := newFlagSet("apply", "[TARGETS] [flags] INPUT...", `
Plan, then execute: rows run in parallel, the operations of one row in
order (the CUPI user before its roles and credentials), each target under
an adaptive concurrency limit that backs off on 503/429. VOSS's writes
start as soon as VOSS's part of the plan is made, while Unity Connection's
per-user reads go on; with --plan, --max-deletes or --max-changes the
whole plan is made and checked before the first write. Failed rows are
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
credentials or a permission (fix the access, then run again).`, io)
	in.register(fs)
	tf.register(fs)
	fs.Var(&reportPaths, "report", "write per-row results as FILE.json, .csv, .xlsx (with a sheet of failed rows to fix and re-feed) or .html (repeat for several formats)")
	fs.StringVar(&planPath, "plan", "", "apply this saved plan (from plan --out); refused if any target changed since")
	fs.StringVar(&checkpoint, "checkpoint", "", "checkpoint journal (default: STATE-DIR/checkpoints/NAME-HASH.journal, named after the first input and bound to the inputs, config and targets)")
	fs.BoolVar(&fresh, "fresh", false, "ignore an unfinished checkpoint and start over")
	fs.BoolVar(&quiet, "quiet", false, "only the summary, the failures with their reasons and the back-out path: no progress, no metrics")
	fs.BoolVar(&verbose, "verbose", false, "also list every changed object with its field changes")
	fs.StringVar(&revertPath, "revert", "", "undo the run whose back-out file this is (no input files; targets and config from the file)")
	fs.BoolVar(&force, "force", false, "with --revert: restore objects someone else changed since the run, too")
	fs.StringVar(&backoutPath, "backout", "", "write the back-out file here (default: beside the checkpoint, named after it with -UTCTIME.backout.json)")
	fs.IntVar(&maxDeletes, "max-deletes", -1, "refuse to run (before any write) when the plan deletes more than N objects")
	fs.IntVar(&keep, "keep", engine.DefaultKeep, "after a run, keep the checkpoints and back-out files of the N most recent completed runs in the state folder's checkpoints and remove older ones (never an unfinished run's; 0 keeps all)")
	fs.IntVar(&maxChanges, "max-changes", -1, "refuse to run (before any write) when the plan changes more than N objects")
	registerMetricsFile(fs, &metricsPath)
	af.register(fs)
	auditLogFlag(fs, &auditPath)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	defer tf.releaseState()
	au, err := startAudit("apply", auditPath, args, paths, &tf, io)
	if err != nil {
		return err
	}
	defer func() { err = au.finish(err) }()
	if err := in.check(); err != nil {
		return err
	}
	if keep < 0 {
		return fail(exitInvalid, "--keep %d: want a number of runs ≥ 0 (0 keeps all)", keep)
	}
	outs := append(reportPaths.outputs(), outputPath{flag: "--metrics-file", path: metricsPath}, outputPath{flag: "--checkpoint", path: checkpoint},
		outputPath{flag: "--backout", path: backoutPath, exts: []string{".json"}})
	outs = append(outs, readPaths("input", paths...)...)
	outs = append(outs, readPaths("--config", tf.config)...)
	outs = append(outs, readPaths("--ca-file", tf.caFile)...)
	outs = append(outs, readPaths("--secrets", tf.secrets)...)
	outs = append(outs, readPaths("--plan", planPath)...)
	outs = append(outs, readPaths("--revert", revertPath)...)
	if err := checkOutputs(outs...); err != nil {
		return err
	}
	cmd := "apply"
	if revertPath != "" {
		cmd = "apply --revert"
	}
	rep := newReporter(cmd, reportPaths, io)
	rep.metricsPath = metricsPath
	au.rep = rep
	defer func() { err = rep.finish(err) }()
	rep.problems(&in)
	var rv *revertRun
	if revertPath != "" {
		if rv, err = loadRevert(revertPath, paths, &tf, force); err != nil {
			return err
		}
		paths = []string{revertPath}
	}
	defer writeMemProfile(io)
	pol, err := af.policy(&tf, rv)
	if err != nil {
		return err
	}
	var approved *approval.Result
	if pol != nil {
		if approved, err = checkApproval(pol, planPath, rep, au, io); err != nil {
			return err
		}
	}
	var saved *engine.Plan
	var packet *planPacket
	fromPlan := false // the inputs are the saved plan's records
	if planPath != "" {
		if saved, packet, err = loadPlanPacket(planPath); err != nil {
			return fail(exitInvalid, "--plan: %v", err)
		}
		if sum, _, err := fileSHA256(planPath); err == nil {
			rep.run.Plan = &report.RunFile{File: planPath, SHA256: sum}
		}
		if approved != nil && (rep.run.Plan == nil || rep.run.Plan.SHA256 != approved.PlanSHA256) {
			return fail(exitInvalid, "--plan %s changed after its signatures were checked; nothing was written", planPath)
		}
		if err := backoutPlanNeedsRevert(saved, rv, planPath); err != nil {
			return err
		}
		targetsFromPlan(&tf, saved, io.err)
		if len(paths) == 0 {
			for _, i := range saved.Inputs {
				paths = append(paths, i.Path)
			}
			fromPlan = rv == nil && packet.hasRecords && inputsGone(saved)
		}
	}
	if len(paths) == 0 {
		fs.Usage()
		return fail(exitInvalid, "no input files given")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	runStart := time.Now()

	var run *runInputs
	if fromPlan {
		run, err = tf.loadRunFromPlan(saved, packet, planPath, io.err)
	} else {
		run, err = loadInputs(rv, &tf, &in, paths, io, rep.needsRecords())
	}
	if err != nil {
		return err
	}
	rep.inputs(run.files)
	rep.run.Config = configFile(tf.config, run.cfgBytes, rv)
	if fromPlan && packet.ConfigFile != nil {
		rep.run.Config = packet.ConfigFile
	}
	rep.recs, run.recs = run.recs, nil
	conn, err := tf.connect(run.cfg, io.err)
	if err != nil {
		return err
	}
	defer conn.close()
	rep.targets(&tf, conn)
	defer watch(conn, io.err, slowRequest, min(quietTarget, tf.timeout/2))()
	if err := run.fitTargets(conn.targets, io.err); err != nil {
		return err
	}
	// The checkpoint is bound to the inputs, the config and the targets:
	// the same sheet against another server is another run.
	binding := hashString(run.binding + "|" + conn.targets.ID)
	if !tf.sim {
		// One run at a time on a state folder: taken before its
		// checkpoint or records are read.
		if _, err := tf.holdState(ctx, io.err); err != nil {
			return err
		}
	}
	rs, err := tf.runState(ctx, io.err)
	if err != nil {
		return err
	}
	if tf.held != nil {
		// Registered before the journal's close, so it runs after it:
		// this run's files are counted as they end.
		defer pruneCheckpoints(filepath.Join(tf.held.Path, "checkpoints"), keep, io)
	}
	journal, checkpoint, created, err := openCheckpoint(&tf, checkpoint, paths[0], binding, fresh, io)
	if err != nil {
		return err
	}
	complete, refused := false, false
	defer func() {
		if journal != nil {
			if refused && !journal.Resumed {
				// Refused before the first write (exit 2, nothing was
				// written): nothing to resume, and a journal this run
				// made is not left behind.
				complete = true
			}
			if err := journal.Close(complete); err != nil {
				fmt.Fprintln(io.err, "bulkprov:", err)
			}
			if refused && !journal.Resumed && created {
				_ = os.Remove(checkpoint)
			}
		}
	}()
	if journal != nil {
		journal.Restore(rs)
	}
	opts := tf.engineOptions(rs)
	if opts.OneTime != nil {
		if err := opts.OneTime.Open(tf.oneTime, journal != nil && journal.Resumed); err != nil {
			return fail(exitInvalid, "%v", err)
		}
	}
	// Whatever ends the run, what it learnt of applied secrets is kept.
	defer func() {
		if err := rs.Save(); err != nil {
			fmt.Fprintln(io.err, "bulkprov: saving run state:", err)
		}
	}()
	if err := engine.ResolvePending(ctx, journal, conn.targets, opts); err != nil {
		complete = journalIdle(journal, err)
		return resumeHint(planError(err), checkpoint, io)
	}
	// Before the first write: the plan made so far is checked and the
	// back-out file opened.
	var bo *engine.Backout
	defer func() {
		if err := bo.Close(); err != nil {
			fmt.Fprintln(io.err, "bulkprov: back-out file:", err)
		}
	}()
	var startErr error
	startWrites := func(p *engine.Plan, o *engine.Options) error {
		p.Inputs, p.ConfigSHA256 = run.files, run.binding
		startErr = beforeWrites(p, saved, planPath, maxDeletes, maxChanges, io)
		if startErr == nil {
			warnResent(io.err, rs, p)
			bo, startErr = openBackout(backoutPath, journal, conn.targets, run, rv, p, io)
			o.Backout = bo
			if bo != nil {
				rep.run.Backout = bo.Path
			}
		}
		return startErr
	}
	prog := newProgress(io, quiet)
	ao := engine.ApplyOptions{Journal: journal, Progress: prog.update}
	var p *engine.Plan
	var applyErr error
	// A state folder with no records (new, or lost) plans the whole run
	// first, so the warning of secrets sent again counts them all before
	// the first is sent.
	if saved == nil && maxDeletes < 0 && maxChanges < 0 && rv == nil && !rs.Fresh() {
		// Nothing needs the whole plan before the first write: VOSS's
		// writes start once VOSS's part is planned, while Unity
		// Connection's per-user reads go on.
		opts.ReleaseRows = true // the rows are spent as they are planned
		rows := run.rows
		run.rows = nil // held only by PlanAndApply, which lets go of them once planned
		p, applyErr = engine.PlanAndApply(ctx, rows, conn.targets, opts, ao, startWrites)
		if p == nil {
			if startErr != nil {
				refused = true
				return startErr
			}
			complete = journalIdle(journal, applyErr)
			return resumeHint(planError(applyErr), checkpoint, io)
		}
	} else {
		p, err = makePlan(ctx, rv, run, conn.targets, opts)
		if err != nil {
			complete = journalIdle(journal, err)
			return resumeHint(planError(err), checkpoint, io)
		}
		if err := startWrites(p, &opts); err != nil {
			refused = true
			return err
		}
		applyErr = engine.Apply(ctx, p, conn.targets, opts, ao)
	}
	markEarlierWork(p, journal)
	if opts.OneTime != nil {
		if n, err := opts.OneTime.Close(); err != nil {
			fmt.Fprintln(io.err, "bulkprov: one-time passwords:", err)
		} else if n > 0 {
			fmt.Fprintf(io.err, "%d one-time password(s) written to %s (mode 0600; the last line of a user is in force); hand them over and delete the file\n", n, tf.oneTime)
		}
	}
	if err := rs.Save(); err != nil {
		fmt.Fprintln(io.err, "bulkprov: saving run state:", err)
	}
	doc := report.New(commandName("apply", rv), p)
	doc.Metrics = metrics(conn.targets, time.Since(runStart)) // over the whole run: its reads count too
	rep.doc = doc
	prog.finish(doc.Account())
	report.Print(io.out, doc, report.TextOptions{Color: useColor(io.out), Changes: verbose && !quiet})
	printNotRestorable(io, p)
	if !quiet {
		printMetrics(io, doc.Metrics, conn.targets, time.Since(runStart))
	}
	if err := stoppedExit(p, applyErr); err != nil {
		return resumeHint(err, checkpoint, io)
	}
	complete = true
	if doc.Summary.Failed > 0 {
		return silent(exitRowsFailed)
	}
	return nil
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
		stops = append(stops, clustersExit(down))
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

// journalIdle reports whether a run that stopped before its first write
// because a target refused access can close its journal as complete: a
// refusal is not an interruption to resume, and the journal must not
// stand in the way of the next run.
func journalIdle(j *engine.Journal, err error) bool {
	var fe *engine.FatalError
	return j != nil && errors.As(err, &fe) && targets.AccessDenied(fe.Err) && len(j.Pending) == 0
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
