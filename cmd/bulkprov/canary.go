package main

import "flag"

// firstContactFlags are apply's flags for meeting a server whose
// behaviour is not known yet (cli.md, "First contact"): canary rows,
// read-back verification, values the server does not keep.
type firstContactFlags struct {
	canary     int
	verify     bool
	skipUnkept bool
}

func (f *firstContactFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.canary, "canary", 0, "write the first N rows, read back every object they wrote and stop (exit 1, nothing else written) if the server did not keep a value as written; else go on with the rest")
	fs.BoolVar(&f.verify, "verify", false, "after writing, read back every written object and fail each operation whose value the server did not keep (exit 1)")
	fs.BoolVar(&f.skipUnkept, "skip-unkept", false, "leave alone the fields an earlier run wrote the same value to that the server did not keep (default: write them again, marked \"not kept\")")
}

func (f *firstContactFlags) check() error {
	if f.canary < 0 {
		return fail(exitInvalid, "--canary %d: want a number of rows ≥ 1 (0: no canary)", f.canary)
	}
	return nil
}
