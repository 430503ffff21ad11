package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/transform"
)

// revertRun is a back-out file being planned (plan --revert) or applied
// (apply --revert).
type revertRun struct {
	path  string
	file  *engine.BackoutFile
	cfg   *transform.Config
	sum   string
	size  int64
	force bool
}

// loadRevert reads the back-out file and takes the targets from it: target
// flags, if given, must name the same targets; no input files are given.
func loadRevert(path string, paths []string, tf *targetFlags, force bool) (*revertRun, error) {
	if len(paths) > 0 {
		return nil, fail(exitInvalid, "--revert takes no input files (the back-out file says what to undo): %s", strings.Join(paths, " "))
	}
	if tf.sim {
		return nil, fail(exitInvalid, "--revert cannot use --sim: the back-out file names the targets it undoes")
	}
	bf, err := engine.ReadBackout(path)
	if err != nil {
		return nil, fail(exitInvalid, "--revert %s: %v", path, err)
	}
	h := bf.Header.Targets
	if h.VOSS == "sim-voss" || h.CUPI == "sim-cupi" {
		return nil, fail(exitInvalid, "--revert %s: it undoes a run against in-process simulators (--sim), whose state is gone", path)
	}
	for _, t := range []struct{ flag, given, want string }{{"--voss", tf.voss, h.VOSS}, {"--cupi", tf.cupi, h.CUPI}} {
		if t.given != "" && targets.NormalizeURL(t.given) != t.want {
			want := t.want
			if want == "" {
				want = "none"
			}
			return nil, fail(exitInvalid, "%s %s is not a target of the back-out file (%s there: %s)", t.flag, t.given, t.flag, want)
		}
	}
	tf.voss, tf.cupi = h.VOSS, h.CUPI
	if tf.config != "" && !sameJSON(tf.config, bf.Header.Config) {
		return nil, fail(exitInvalid, "--config %s is not the config of the run the back-out file undoes (the revert takes it from the file; leave --config out)", tf.config)
	}
	cfg := &transform.Config{}
	if len(bf.Header.Config) > 0 {
		if cfg, _, err = transform.ParseConfig(path+" (the config of the run)", bf.Header.Config); err != nil {
			return nil, fail(exitInvalid, "--revert: %v", err)
		}
	}
	sum, size, err := fileSHA256(path)
	if err != nil {
		return nil, fail(exitInvalid, "%v", err)
	}
	return &revertRun{path: path, file: bf, cfg: cfg, sum: sum, size: size, force: force}, nil
}

// inputs are what a revert run is bound to: the back-out file itself.
func (r *revertRun) inputs() *runInputs {
	return &runInputs{files: []engine.Input{{Path: r.path, SHA256: r.sum, Size: r.size}},
		binding: hashString("revert|" + r.sum + fmt.Sprint(r.force)), cfg: r.cfg, cfgBytes: r.file.Header.Config}
}

// loadInputs reads the inputs of a run: the rows, or a back-out file.
func loadInputs(rv *revertRun, tf *targetFlags, in *inputFlags, paths []string, io streams, keepRecs bool) (*runInputs, error) {
	if rv != nil {
		return rv.inputs(), nil
	}
	return tf.loadRun(in, paths, io, keepRecs)
}

// makePlan plans the rows, or the undo of a back-out file.
func makePlan(ctx context.Context, rv *revertRun, run *runInputs, t *engine.Targets, o engine.Options) (*engine.Plan, error) {
	if rv != nil {
		return engine.MakeRevertPlan(ctx, rv.file, t, o, rv.force)
	}
	// The rows are spent once planned (each as soon as it is diffed): the
	// operations hold what they write, the records what a report shows.
	o.ReleaseRows = true
	p, err := engine.MakePlan(ctx, run.rows, t, o)
	run.rows = nil
	return p, err
}

// commandName is the report's name of the command.
func commandName(cmd string, rv *revertRun) string {
	if rv != nil {
		return cmd + " --revert"
	}
	return cmd
}

// printNotRestorable lists the write-only values a revert cannot put back.
func printNotRestorable(io streams, p *engine.Plan) {
	if len(p.NotRestorable) == 0 {
		return
	}
	fmt.Fprintf(io.out, "Not restorable (write-only values; set them again by hand or with a new apply): %d\n", len(p.NotRestorable))
	for _, n := range p.NotRestorable {
		fmt.Fprintf(io.out, "  %s: %s %s: %s\n", n.Source, n.Kind, n.Key, n.Field)
	}
}

// openBackout opens the back-out file of an apply that writes something,
// records its path in the journal and prints it on stderr (also under
// --quiet), before the first write. A resumed run appends to the file its
// interrupted run recorded. With neither a journal nor a path (no state
// folder), there is none.
func openBackout(flagPath string, j *engine.Journal, t *engine.Targets, run *runInputs, rv *revertRun, p *engine.Plan, io streams) (*engine.Backout, error) {
	if !p.WillWrite() {
		return nil, nil
	}
	path := flagPath
	if j != nil && j.Resumed && path == "" {
		prev, err := j.BackoutPath()
		if err != nil {
			return nil, fail(exitInvalid, "checkpoint %s: %v", j.Path, err)
		}
		path = prev
	}
	h := engine.BackoutHeader{Command: commandName("apply", rv), Targets: engine.BackoutTargets{VOSS: t.VOSSName, CUPI: t.CUPIName}}
	for name, c := range t.Clusters {
		if h.Targets.Clusters == nil {
			h.Targets.Clusters = map[string]string{}
		}
		h.Targets.Clusters[name] = c.URL
	}
	if json.Valid(run.cfgBytes) {
		h.Config = run.cfgBytes
	}
	if j != nil {
		h.Journal = j.Path
	}
	var b *engine.Backout
	var err error
	if _, serr := os.Lstat(path); path != "" && serr == nil && j != nil && j.Resumed {
		// The interrupted run's file; a header lost with the crash is
		// written again from this run's (the same targets and config: the
		// journal is bound to them).
		b, err = engine.AppendBackout(path, h)
	} else {
		if path == "" && j == nil {
			return nil, nil
		}
		if path == "" {
			path = defaultBackoutPath(j.Path, time.Now())
		}
		b, err = engine.CreateBackout(path, h)
	}
	if errors.Is(err, os.ErrExist) {
		return nil, fail(exitInvalid, "--backout %s exists and belongs to another run; a back-out file is never overwritten; nothing was written", path)
	}
	if err != nil {
		return nil, fail(exitInvalid, "%v", err)
	}
	if j != nil {
		if err := j.RecordBackout(path); err != nil {
			b.Close()
			return nil, fail(exitInvalid, "%v", err)
		}
	}
	logEvent(io.err, slog.LevelInfo, "backout: "+path, "backout", "path", path)
	return b, nil
}

// defaultBackoutPath names the back-out file after its journal, with the
// UTC time (and a counter, should a file of that second exist).
func defaultBackoutPath(journal string, now time.Time) string {
	base := strings.TrimSuffix(journal, filepath.Ext(journal)) + "-" + now.UTC().Format("20060102T150405Z")
	path := base + ".backout.json"
	for i := 2; ; i++ {
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			return path
		}
		path = fmt.Sprintf("%s-%d.backout.json", base, i)
	}
}

// sameJSON reports whether the JSON file at path holds the same document
// as b, whitespace aside.
func sameJSON(path string, b []byte) bool {
	f, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var x, y bytes.Buffer
	return json.Compact(&x, f) == nil && json.Compact(&y, b) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}

// revertApplyHint is the command that executes a saved plan: for a
// back-out plan, apply --revert with the back-out file.
func revertApplyHint(rv *revertRun, tf *targetFlags, in *inputFlags, plan string) string {
	if rv == nil {
		return applyHint(tf, in, plan)
	}
	hint := "bulkprov apply --revert " + rv.path + " --plan " + plan
	if rv.force {
		hint += " --force"
	}
	return hint
}

// backoutPlanNeedsRevert refuses a saved back-out plan given to apply
// without the back-out file it undoes.
func backoutPlanNeedsRevert(saved *engine.Plan, rv *revertRun, planPath string) error {
	if rv != nil || len(saved.Inputs) != 1 || !strings.HasSuffix(saved.Inputs[0].Path, ".backout.json") {
		return nil
	}
	return fail(exitInvalid, "--plan %s is a back-out plan: run bulkprov apply --revert %s --plan %s", planPath, saved.Inputs[0].Path, planPath)
}
