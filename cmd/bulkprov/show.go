package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine"
	json "github.com/bulkprov/bulkprov/internal/jsonx"
	"github.com/bulkprov/bulkprov/internal/report"
)

func runShow(args []string, io streams) (err error) {
	var reportPaths reportPaths
	var quiet bool
	fs := newFlagSet("show", "PLAN [--report FILE]...", `
Render a saved plan (from plan --out) again, without contacting any
server: the terminal diff, and with --report the same plan as .json, .csv,
.xlsx or .html (repeat --report for several). The reports carry the plan
file's SHA-256, so the copy a change board signs and what apply --plan
executes are tied by one hash.

Examples:
  bulkprov show plan.json
  bulkprov show plan.json --report plan.html --report plan.xlsx

Exit 0 when the plan was rendered, 2 when PLAN is not a bulkprov plan or a
--report cannot be written.`, io)
	fs.Var(&reportPaths, "report", "write the plan as FILE.json, .csv, .xlsx or .html (repeat for several formats)")
	fs.BoolVar(&quiet, "quiet", false, "only the summary and the failed operations with their reasons")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(paths) != 1 {
		return fail(exitInvalid, "show takes one saved plan (the --out of bulkprov plan); see: bulkprov show --help")
	}
	planPath := paths[0]
	if err := checkOutputs(append(reportPaths.outputs(), readPaths("PLAN", planPath)...)...); err != nil {
		return err
	}
	p, pk, err := readFullPlan(planPath)
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	kind := "plan"
	if len(p.Inputs) == 1 && strings.HasSuffix(p.Inputs[0].Path, ".backout.json") {
		kind = "plan --revert"
	}
	rep := newReporter(kind, reportPaths, io)
	defer func() { err = rep.finish(err) }()
	rep.run.Started, rep.run.Finished = p.Created, p.Created
	rep.inputs(p.Inputs, 0)
	rep.run.Targets = planTargets(p.Targets)
	rep.run.Config = pk.ConfigFile
	rep.recs = pk.Records
	if sum, _, err := fileSHA256(planPath); err == nil {
		rep.run.Plan = &report.RunFile{File: planPath, SHA256: sum}
	}
	doc := report.New(kind, p)
	rep.doc = doc
	report.Print(io.out, doc, report.TextOptions{Color: useColor(io.out), Changes: !quiet})
	printNotRestorable(io, p)
	return nil
}

// readFullPlan reads a saved plan whole, the operations' changes included
// (apply --plan reads it without them: loadPlan).
func readFullPlan(path string) (*engine.Plan, *planPacket, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		engine.Plan
		planPacket
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s is not a bulkprov plan: %v", path, err)
	}
	if doc.Version != 1 {
		return nil, nil, fmt.Errorf("%s: not a bulkprov plan (version %d)", path, doc.Version)
	}
	// A row's operations share one Source, as planned.
	for i, op := range doc.Ops {
		if i > 0 && op.Source != nil && doc.Ops[i-1].Source != nil && *op.Source == *doc.Ops[i-1].Source {
			op.Source = doc.Ops[i-1].Source
		}
	}
	doc.planPacket.restoreNumbers()
	return &doc.Plan, &doc.planPacket, nil
}

// planTargets are a plan's "voss=URL cupi=URL" as a report's targets.
func planTargets(s string) report.RunTargets {
	var t report.RunTargets
	for _, f := range strings.Fields(s) {
		if v, ok := strings.CutPrefix(f, "voss="); ok {
			t.VOSS = v
		}
		if v, ok := strings.CutPrefix(f, "cupi="); ok {
			t.CUPI = map[string]string{engine.DefaultCluster: v}
		}
	}
	return t
}
