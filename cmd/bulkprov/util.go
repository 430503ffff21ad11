package main

import (
	"os"

	"github.com/mattn/go-isatty"
)

// isTerminal reports whether f is a terminal (for colour and progress bars).
func isTerminal(f any) bool {
	if l, ok := f.(*logWriter); ok {
		f = l.terminal() // none in json mode
	}
	file, ok := f.(*os.File)
	return ok && (isatty.IsTerminal(file.Fd()) || isatty.IsCygwinTerminal(file.Fd()))
}
