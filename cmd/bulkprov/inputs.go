package main

import (
	"bufio"
	"errors"
	"flag"
	"io"

	"github.com/bulkprov/bulkprov/loader"
)

// inputFlags are the flags that control how inputs are read; every command
// that reads inputs has them.
type inputFlags struct {
	opts loader.Options
	// problem, when set, is also told each problem mustLoad finds (the
	// run's report lists them).
	problem func(loader.Problem)
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	d := loader.DefaultLimits
	fs.StringVar(&f.opts.Formulas, "formulas", "error", "formula cells: \"error\" (refuse them; VOSS does not evaluate formulas) or \"cached\" (use the value saved with the file; a formula saved without one is refused either way)")
	fs.StringVar(&f.opts.Model, "model", "", "model type of a CSV whose first row holds column names (data/User, relation/HcsAdminUserREL, cupi/User, cupi/AuthzServer)")
	fs.StringVar(&f.opts.Hierarchy, "hierarchy", "", "hierarchy for rows and items that name none")
	fs.Int64Var(&f.opts.Limits.MaxBytes, "max-bytes", d.MaxBytes, "limit: uncompressed bytes per workbook or zip (declared and actual)")
	fs.IntVar(&f.opts.Limits.MaxEntries, "max-zip-entries", d.MaxEntries, "limit: entries per zip")
	fs.IntVar(&f.opts.Limits.MaxRows, "max-rows", d.MaxRows, "limit: rows per sheet")
	fs.IntVar(&f.opts.Limits.MaxColumns, "max-columns", d.MaxColumns, "limit: columns per row")
	fs.IntVar(&f.opts.Limits.MaxCellChars, "max-cell-chars", d.MaxCellChars, "limit: characters per cell")
	fs.IntVar(&f.opts.Limits.MaxJSONDepth, "max-json-depth", d.MaxJSONDepth, "limit: JSON nesting depth")
	fs.IntVar(&f.opts.Limits.MaxXMLDepth, "max-xml-depth", d.MaxXMLDepth, "limit: element nesting of a workbook's XML")
	fs.IntVar(&f.opts.Limits.MaxSharedStrings, "max-shared-strings", d.MaxSharedStrings, "limit: entries of a workbook's shared-string table")
}

func (f *inputFlags) check() error {
	if f.opts.Formulas != "error" && f.opts.Formulas != "cached" {
		return fail(exitInvalid, "--formulas must be \"error\" or \"cached\", not %q", f.opts.Formulas)
	}
	return nil
}

// loadAll reads and checks every input, calling keep for each valid
// record and report for each problem as it is found (in source order). It
// returns the number of problems and an error when an input could not be
// read at all; the inputs after an unreadable one are still read and
// checked. No problem is held: a small hostile input can yield millions.
func (f *inputFlags) loadAll(paths []string, keep func(*loader.Record), report func(loader.Problem)) (int, error) {
	checker := loader.NewChecker()
	problems := 0
	var errs []error
	rep := func(p loader.Problem) {
		problems++
		report(p)
	}
	for _, p := range paths {
		err := loader.Read(p, f.opts, func(rec *loader.Record) error {
			if ps := checker.Check(rec); len(ps) > 0 {
				for _, q := range ps {
					rep(q)
				}
				return nil
			}
			if keep != nil {
				keep(rec)
			}
			return nil
		}, rep)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return problems, errors.Join(errs...)
}

// problemWriter writes problems one a line to w, buffered; flush before
// anything else is written to w.
func problemWriter(w io.Writer) (report func(loader.Problem), flush func()) {
	bw := bufio.NewWriterSize(w, 64<<10)
	return func(p loader.Problem) {
			bw.WriteString(p.String())
			bw.WriteByte('\n')
		}, func() {
			bw.Flush()
		}
}

// mustLoad loads inputs for plan and apply, calling keep for each valid
// record as it is read (none is held here): any problem is exit 2 with
// every problem printed, as validate would.
func (f *inputFlags) mustLoad(paths []string, io streams, keep func(*loader.Record)) error {
	if len(paths) == 0 {
		return fail(exitInvalid, "no input files given")
	}
	report, flush := problemWriter(io.err)
	if also := f.problem; also != nil {
		printIt := report
		report = func(p loader.Problem) { printIt(p); also(p) }
	}
	// The problems so far are out before each kept record, which may be
	// held for minutes (a plan): a person sees them as they are found.
	problems, err := f.loadAll(paths, func(rec *loader.Record) {
		flush()
		if keep != nil {
			keep(rec)
		}
	}, report)
	flush()
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	if problems > 0 {
		return fail(exitInvalid, "%d problem(s) in the input; nothing was planned or written", problems)
	}
	return nil
}
