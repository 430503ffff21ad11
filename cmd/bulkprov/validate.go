package main

import (
	"fmt"

	"github.com/bulkprov/bulkprov/loader"
)

func runValidate(args []string, io streams) error {
	var in inputFlags
	fs := newFlagSet("validate", "[flags] INPUT...", `
Parse and check inputs without contacting any server: model types, columns
(unknown ones get a "did you mean"), value types, required fields, lengths,
patterns, actions, array indices and business keys that appear twice across
all inputs. Every problem is printed on stderr as FILE:SHEET:ROW:COLUMN:
message (JSON exports: FILE:ENTRY:INDEX: field: message), all in one pass.

Exit 0 when every input is valid, 2 when not.`, io)
	in.register(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
		return fail(exitInvalid, "no input files given")
	}
	records := 0
	report, flush := problemWriter(io.err)
	problems, readErr := in.loadAll(paths, func(*loader.Record) { records++ }, report)
	flush()
	if readErr != nil {
		fmt.Fprintln(io.err, readErr)
		return silent(exitInvalid)
	}
	if problems > 0 {
		fmt.Fprintf(io.out, "%d problem(s) in %d input(s)\n", problems, len(paths))
		return silent(exitInvalid)
	}
	fmt.Fprintf(io.out, "%d record(s) in %d input(s): valid\n", records, len(paths))
	return nil
}
