package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bulkprov/bulkprov/engine"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/report"
)

// reporter writes a command's --report when the command returns, with the
// exit code it returns, also when it stops with 3 or 4 (even before a plan
// exists). Exit 2 writes nothing: nothing was done.
type reporter struct {
	path string
	io   streams
	run  report.Run
	doc  *report.Document
	recs []*loader.Record
}

func newReporter(command, path string, io streams) *reporter {
	return &reporter{path: path, io: io, run: report.Run{Command: command, Version: version, Started: time.Now().UTC().Truncate(time.Millisecond)}}
}

// inputs records the input files of the run.
func (r *reporter) inputs(files []engine.Input) {
	r.run.Inputs = r.run.Inputs[:0]
	for _, f := range files {
		r.run.Inputs = append(r.run.Inputs, report.RunFile{File: f.Path, SHA256: f.SHA256})
	}
}

// targets records the base URLs of the connected targets.
func (r *reporter) targets(tf *targetFlags, c *connection) {
	v, cu := tf.voss, tf.cupi
	if c != nil && c.sim != nil {
		v, cu = c.sim.URL, c.sim.URL
	}
	if c != nil && c.targets != nil {
		if c.targets.VOSS == nil {
			v = ""
		}
		if c.targets.CUPI == nil {
			cu = ""
		}
	}
	r.run.Targets = report.RunTargets{VOSS: v}
	if cu != "" {
		r.run.Targets.CUPI = map[string]string{"default": cu}
	}
}

// finish writes the report for a command that returns err, and returns
// the error the command should return: a report that cannot be written
// turns a success into exit 1, so a cron job notices.
func (r *reporter) finish(err error) error {
	code := exitCode(err)
	if r.path == "" || code == exitInvalid {
		return err
	}
	if r.doc == nil {
		if code == exitOK || code == exitRowsFailed {
			return err
		}
		r.doc = &report.Document{Kind: r.run.Command}
	}
	r.run.Finished = time.Now().UTC().Truncate(time.Millisecond)
	r.run.Exit = code
	r.doc.Run = &r.run
	if werr := report.Write(r.path, r.doc, r.recs); werr != nil {
		fmt.Fprintf(r.io.err, "bulkprov: --report %s: %v\n", r.path, werr)
		if code == exitOK {
			return silent(exitRowsFailed)
		}
	}
	return err
}

// exitCode is the exit code main returns for err.
func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitInvalid
}

// useColor reports whether output to w may be coloured: a terminal, and
// NO_COLOR (https://no-color.org) unset or empty.
func useColor(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && isTerminal(w)
}

// markEarlierWork marks the operations an interrupted run did before this
// one resumed: the fresh plan sees them as unchanged, the journal knows
// they were done (or sent, with no outcome recorded: unchanged now means
// the write landed), and so the report covers the whole run. An entry
// whose operation the fresh plan folds into a summary noop (a role granted
// before: "alias/role" is now the noop "alias") marks that noop. It
// returns how many operations it marked.
func markEarlierWork(p *engine.Plan, j *engine.Journal) int {
	if j == nil || !j.Resumed {
		return 0
	}
	byID := map[string]*engine.Op{}
	byKey := map[string]*engine.Op{}
	for _, op := range p.Ops {
		if op.Status == engine.Planned && op.Action == engine.Noop {
			byID[op.ID] = op
			byKey[op.Kind+"\x00"+strings.ToLower(op.Key)] = op
		}
	}
	n := 0
	mark := func(e engine.Entry) {
		op := byID[e.Op]
		for key := strings.ToLower(e.Key); op == nil && key != ""; {
			op = byKey[e.Kind+"\x00"+key]
			i := strings.LastIndex(key, "/")
			if i < 0 {
				break
			}
			key = key[:i]
		}
		if op == nil || op.Status == engine.Done {
			return
		}
		op.Status, op.CreatedID = engine.Done, e.ID
		n++
	}
	for _, e := range j.Done {
		mark(e)
	}
	for _, e := range j.Pending {
		mark(e)
	}
	return n
}
