package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/bulkprov/bulkprov/internal/engine"
	json "github.com/bulkprov/bulkprov/internal/jsonx"
	"github.com/bulkprov/bulkprov/internal/report"
)

func runPlan(args []string, io streams) (err error) {
	defer tightenGC(planGCPercent)()
	// --detailed-exitcode (terraform's meaning): 0 no changes, 2 changes
	// pending, 1 an error (invalid input included); 3 and 4 keep theirs.
	var detailed bool
	pending := silent(exitInvalid) // the one exit 2 that means "changes pending"
	detailedExit := func() { toDetailedExit(detailed, pending, &err) }
	defer detailedExit()
	for _, a := range args {
		detailed = detailed || a == "--detailed-exitcode" || a == "-detailed-exitcode"
	}
	var in inputFlags
	var tf targetFlags
	var reportPaths reportPaths
	var outPath, revertPath string
	var metricsPath string
	var quiet, force bool
	var auditPath string
	fs := newFlagSet("plan", "[TARGETS] [flags] INPUT...", planHelp, io)
	in.register(fs)
	tf.register(fs)
	fs.Var(&reportPaths, "report", "write the plan as FILE.json, .csv, .xlsx or .html (repeat for several formats)")
	fs.StringVar(&outPath, "out", "", "save the plan as `PLAN.json`, for apply --plan PLAN.json to execute exactly")
	fs.BoolVar(&quiet, "quiet", false, "only the summary and the failed operations with their reasons")
	fs.StringVar(&revertPath, "revert", "", "plan the undo of the run whose back-out file this is (no input files; targets and config from the file)")
	fs.BoolVar(&force, "force", false, "with --revert: restore objects someone else changed since the run, too")
	registerMetricsFile(fs, &metricsPath)
	auditLogFlag(fs, &auditPath)
	fs.BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when nothing would change, 2 when changes are pending, 1 on any error (invalid input included); 3 and 4 as always")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	defer tf.releaseState()
	au, err := startAudit("plan", auditPath, args, paths, &tf, io)
	if err != nil {
		return err
	}
	defer func() { err = au.finish(err) }()
	cmd := "plan"
	if revertPath != "" {
		cmd = "plan --revert"
	}
	outs := planOutputs(reportPaths, metricsPath, outPath, revertPath, paths, &tf)
	if err := in.check(); err != nil {
		toDetailedExit(detailed, pending, &err)
		return refuseWithReport(err, cmd, reportPaths, outs, io)
	}
	if err := checkOutputs(outs...); err != nil {
		toDetailedExit(detailed, pending, &err)
		return refuseWithReport(err, cmd, reportPaths, outs, io)
	}
	rep := newReporter(cmd, reportPaths, io)
	rep.metricsPath = metricsPath
	au.rep = rep
	defer func() { err = rep.finish(err) }()
	rep.problems(&in)
	defer detailedExit() // before the report records the exit
	var rv *revertRun
	if revertPath != "" {
		if rv, err = loadRevert(revertPath, paths, &tf, force); err != nil {
			return err
		}
	}
	defer writeMemProfile(io)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	p, run, conn, err := computePlan(ctx, rv, &in, &tf, paths, io, rep, outPath != "" && rv == nil)
	if err != nil {
		return err
	}
	defer conn.close()
	doc := report.New(commandName("plan", rv), p)
	estimateLine, est := planEstimate(p, conn, &tf)
	doc.Estimate = est
	rep.doc = doc
	report.Print(io.out, doc, report.TextOptions{Color: useColor(io.out), Changes: !quiet})
	printNotRestorable(io, p)
	printEstimate(io, estimateLine)
	if outPath != "" {
		if err := savePlanOut(outPath, p, rv, run, rep, &tf, &in, io); err != nil {
			return err
		}
	}
	if len(p.Down) > 0 {
		return clustersExit(p.Down, true)
	}
	if doc.Summary.Failed > 0 {
		return silent(exitRowsFailed)
	}
	if s := doc.Summary; detailed && s.Create+s.Update+s.Delete > 0 {
		return pending
	}
	return nil
}

// toDetailedExit, with --detailed-exitcode, makes an exit 2 (invalid
// input) of *err an exit 1, except pending, the one exit 2 that means
// "changes pending".
func toDetailedExit(detailed bool, pending error, err *error) {
	if detailed && *err != pending && exitCode(*err) == exitInvalid {
		var ee *exitError
		if errors.As(*err, &ee) {
			*err = &exitError{code: exitRowsFailed, err: ee.err}
		} else {
			*err = &exitError{code: exitRowsFailed, err: *err}
		}
	}
}

// planHelp is bulkprov plan's help.
const planHelp = `
Read the current state from the targets, compute the field-level diff of
what the inputs want, and write nothing to any server. Prints a diff
(+ create, ~ update, - delete, old → new; unchanged objects are counted, not
listed) and a one-line summary. Passwords, PINs and server passwords show
as *** and are only planned when they differ from the last value applied
(or with --force-secrets).

Examples:
  bulkprov plan --sim samples/tenant.xlsx
  bulkprov plan --voss https://voss.example --cupi https://cuc.example \
      --config tenant.json --report plan.html --out plan.json users.xlsx
  bulkprov plan --revert users-20260101T020000Z.backout.json --report backout.html

With --revert FILE, the plan is the undo of the apply that wrote that
back-out file, against the current state of the targets the file names
(no input files): objects it created are deleted, fields it updated get
their old values back, objects it deleted are recreated, roles it added or
removed are removed or re-added. Objects someone else changed since then
fail with the three values shown (--force restores them anyway);
passwords, PINs and server passwords are listed as not restorable.

Exit 0 when the plan is complete, 1 when some rows cannot be done (see the
! lines), 2 on invalid input, 3 when a target is unreachable or the plan
was interrupted (no plan is printed then), 4 when a target refused the
credentials or a permission. With --detailed-exitcode (for scripts, as
terraform's): 0 nothing would change, 2 changes are pending, 1 an error
(invalid input, or an operation that cannot be done); 3 and 4 as above.`

// planOutputs are the files plan writes and reads, for checkOutputs to
// check before anything is planned.
func planOutputs(reportPaths reportPaths, metricsPath, outPath, revertPath string, paths []string, tf *targetFlags) []outputPath {
	outs := append(reportPaths.outputs(), outputPath{flag: "--metrics-file", path: metricsPath}, outputPath{flag: "--out", path: outPath, exts: []string{".json"}})
	outs = append(outs, readPaths("input", paths...)...)
	outs = append(outs, readPaths("--config", tf.config)...)
	outs = append(outs, readPaths("--ca-file", tf.caFile)...)
	outs = append(outs, readPaths("--secrets", tf.secrets)...)
	return append(outs, readPaths("--revert", revertPath)...)
}

// savePlanOut saves the plan to --out (with its inputs, as a packet,
// unless it is a revert's), records it in the run report and says how to
// execute exactly it.
func savePlanOut(outPath string, p *engine.Plan, rv *revertRun, run *runInputs, rep *reporter, tf *targetFlags, in *inputFlags, io streams) error {
	var pk *planPacket
	if rv == nil {
		pk = newPlanPacket(rep.recs, rep.run.Config, run.cfgBytes, p)
	}
	sum, err := savePlanPacket(outPath, p, pk)
	if err != nil {
		return fail(exitRowsFailed, "--out: %v", err)
	}
	rep.run.Plan = &report.RunFile{File: outPath, SHA256: sum}
	fmt.Fprintf(io.err, "plan saved to %s (sha256 %s); execute exactly it with: %s\n", outPath, sum, revertApplyHint(rv, tf, in, outPath))
	return nil
}

// computePlan loads the inputs, connects the targets and plans.
// With keepRecs the input records are kept (in rep.recs) for a saved plan.
func computePlan(ctx context.Context, rv *revertRun, in *inputFlags, tf *targetFlags, paths []string, io streams, rep *reporter, keepRecs bool) (*engine.Plan, *runInputs, *connection, error) {
	run, err := loadInputs(rv, tf, in, paths, io, keepRecs || rep.needsRecords())
	if err != nil {
		return nil, nil, nil, err
	}
	rep.inputs(run.files, len(run.rows))
	rep.run.Config = configFile(tf.config, run.cfgBytes, rv)
	rep.recs, run.recs = run.recs, nil
	conn, err := tf.connect(run.cfg, io.err)
	if err != nil {
		return nil, nil, nil, err
	}
	rep.targets(tf, conn)
	defer watch(conn, io.err, slowRequest, min(quietTarget, tf.timeout/2))()
	if err := run.fitTargets(conn.targets, io.err); err != nil {
		conn.close()
		return nil, nil, nil, err
	}
	rs, err := tf.runState(ctx, io.err)
	if err != nil {
		conn.close()
		return nil, nil, nil, err
	}
	o := tf.engineOptions(rs)
	o.ForReview = true // shown and saved, never applied: apply --plan plans afresh
	p, err := makePlan(ctx, rv, run, conn.targets, o)
	if err != nil {
		conn.close()
		return nil, nil, nil, planError(err)
	}
	p.Inputs = run.files
	p.ConfigSHA256 = run.binding
	warnResent(io.err, rs, p)
	return p, run, conn, nil
}

// savePlan writes the plan atomically and returns its SHA-256, which the
// plan's report carries so a change board can match what it approved with
// what apply --plan executes. The operations are encoded one at a time as
// they are written: the plan's encoding is never held whole.
func savePlan(path string, p *engine.Plan) (string, error) { return savePlanPacket(path, p, nil) }

// savePlanPacket is savePlan with what makes the plan self-contained
// (pk, nil for none) beside the engine's plan.
func savePlanPacket(path string, p *engine.Plan, pk *planPacket) (string, error) {
	h := sha256.New()
	err := report.WriteAtomic(path, func(f io.Writer) error {
		w := io.MultiWriter(f, h)
		head := *p
		if p.Ops != nil {
			head.Ops = []*engine.Op{}
		}
		var doc any = &head
		if pk != nil {
			doc = &struct {
				*engine.Plan
				*planPacket
			}{&head, pk}
		}
		if err := json.WriteIndentArray(w, doc, "operations", " ", len(p.Ops), func(i int) any { return p.Ops[i] }); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// loadPlan reads a saved plan for apply --plan, which compares each of
// its operations with a fresh plan's by id, fingerprint and action. The
// file is decoded one operation at a time, and an operation's changes are
// not kept: a saved plan costs a fraction of the fresh one.
func loadPlan(path string) (*engine.Plan, error) {
	p, _, err := loadPlanPacket(path)
	return p, err
}

// loadPlanPacket is loadPlan with what the plan carries to be
// self-contained (empty for a plan saved before it did).
func loadPlanPacket(path string) (*engine.Plan, *planPacket, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	p, pk, err := decodePlan(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a bulkprov plan: %v", path, err)
	}
	if p.Version != 1 {
		return nil, nil, fmt.Errorf("%s: unsupported plan version %d", path, p.Version)
	}
	return p, pk, nil
}

// decodePlan decodes a plan file's top-level object member by member and
// its operations one by one, without their changes.
func decodePlan(r io.Reader) (*engine.Plan, *planPacket, error) {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	var p engine.Plan
	rest := map[string]json.RawMessage{}
	hasRecords := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := tok.(string)
		if key != "operations" {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, nil, err
			}
			if key == "records" {
				// Read again only when apply plans from them
				// (readPlanRecords): not held beside the plan.
				hasRecords = len(v) > 2 && string(v) != "null"
				continue
			}
			rest[key] = v
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			if err == nil && tok == nil { // "operations": null
				continue
			}
			return nil, nil, fmt.Errorf("operations: not an array (%v)", err)
		}
		for dec.More() {
			op := &engine.Op{}
			if err := dec.Decode(op); err != nil {
				return nil, nil, err
			}
			op.Changes = nil
			if n := len(p.Ops); n > 0 && op.Source != nil && p.Ops[n-1].Source != nil && *op.Source == *p.Ops[n-1].Source {
				op.Source = p.Ops[n-1].Source // a row's operations share one Source, as planned
			}
			p.Ops = append(p.Ops, op)
		}
		if _, err := dec.Token(); err != nil {
			return nil, nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, nil, err
	}
	pk := &planPacket{}
	if err := json.Unmarshal(b, pk); err != nil {
		return nil, nil, err
	}
	pk.hasRecords = hasRecords
	return &p, pk, nil
}
