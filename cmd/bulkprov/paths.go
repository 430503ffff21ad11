package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bulkprov/bulkprov/report"
)

// outputPath is a file a command will write, named by a flag.
type outputPath struct {
	flag string   // "--report"
	path string   // empty: not asked for
	exts []string // accepted extensions; nil: any
}

// checkOutputs checks, before any server is contacted, that every output
// can be written: its extension names a known format and its folder exists
// and accepts a new file. A problem is exit 2; nothing is written and no
// file is left behind (the probe file is removed).
func checkOutputs(outs ...outputPath) error {
	for _, o := range outs {
		if o.path == "" {
			continue
		}
		if err := checkOutput(o); err != nil {
			return fail(exitInvalid, "%s %s: %v; nothing was written", o.flag, o.path, err)
		}
	}
	return nil
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
