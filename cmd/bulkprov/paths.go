package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/report"
)

// outputPath is a file a command will write, named by a flag.
type outputPath struct {
	flag string   // "--report"
	path string   // empty: not asked for
	exts []string // accepted extensions; nil: any
	read bool     // a file the command reads (an input, --config, --plan): never to be written over
}

// readPaths are the files a command reads, for checkOutputs: no output may
// name one of them.
func readPaths(flag string, paths ...string) []outputPath {
	var out []outputPath
	for _, p := range paths {
		out = append(out, outputPath{flag: flag, path: p, read: true})
	}
	return out
}

// refuseWithReport ends a run refused (exit 2) by its flags or output
// paths before its reporter was made: its --report files are still
// written, naming what was wrong (spec/cli.md), when they can be — each a
// known format in a folder that exists, none naming a file the run reads,
// another output or another report. Else err alone, nothing written.
func refuseWithReport(err error, command string, reports reportPaths, outs []outputPath, io streams) error {
	if len(reports) == 0 {
		return err
	}
	var probe []outputPath
	for _, o := range outs {
		if o.flag != "--report" && o.path != "" {
			o.read = true // only its name matters: no report may take it
		}
		probe = append(probe, o)
	}
	if checkOutputs(probe...) != nil {
		return err
	}
	return newReporter(command, reports, io).finish(err)
}

// checkOutputs checks, before any server is contacted, that every output
// can be written: its extension names a known format and its folder exists
// and accepts a new file. A problem is exit 2; nothing is written and no
// file is left behind (the probe file is removed).
//
// Entries marked read are files the command reads: no output may name one
// of them, nor may two outputs name the same file (a report written over
// the input workbook, or over the journal, destroyed it).
func checkOutputs(outs ...outputPath) error {
	for _, o := range outs {
		if o.path == "" || o.read {
			continue
		}
		if err := checkOutput(o); err != nil {
			return fail(exitInvalid, "%s %s: %v; nothing was written", o.flag, o.path, err)
		}
	}
	for i, o := range outs {
		if o.path == "" || o.read {
			continue
		}
		for j, other := range outs {
			if j == i || other.path == "" || (!other.read && j > i) {
				continue
			}
			if samePath(o.path, other.path) {
				what := "is also " + other.flag
				if other.read {
					what = "is a file this run reads (" + other.flag + ")"
				}
				return fail(exitInvalid, "%s %s: %s; name another file; nothing was written", o.flag, o.path, what)
			}
		}
	}
	return nil
}

// samePath reports whether a and b name one file: the same absolute path,
// or (both existing) the same file by another name.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func checkOutput(o outputPath) error {
	if o.flag == "--report" {
		if err := report.CheckFormat(o.path); err != nil {
			return fmt.Errorf("unknown format %q (use %s)", filepath.Ext(o.path), strings.Join(report.Formats, ", "))
		}
	} else if len(o.exts) > 0 {
		ok := false
		for _, e := range o.exts {
			ok = ok || strings.EqualFold(filepath.Ext(o.path), e)
		}
		if !ok {
			return fmt.Errorf("unknown format %q (use %s)", filepath.Ext(o.path), strings.Join(o.exts, ", "))
		}
	}
	if st, err := os.Stat(o.path); err == nil && st.IsDir() {
		return fmt.Errorf("is a folder")
	}
	// A checkpoint or back-out path is appended to on resume: an existing
	// one must be bulkprov's own file of that kind, and no link.
	if typ := map[string]string{"--checkpoint": "run", "--backout": "backout"}[o.flag]; typ != "" {
		if err := engine.CheckOwnPath(o.path, typ); err != nil {
			return err
		}
	}
	dir := filepath.Dir(o.path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("folder %s does not exist", dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	probe, err := os.CreateTemp(dir, ".bulkprov-probe-*")
	if err != nil {
		return fmt.Errorf("cannot create a file in %s: %v", dir, unwrapPath(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// unwrapPath drops the path a *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
