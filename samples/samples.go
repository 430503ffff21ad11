// Package samples holds the example inputs shipped with bulkprov. They are
// written by the program in gen/; regenerate them with `go generate ./samples`.
package samples

//go:generate go run ./gen
