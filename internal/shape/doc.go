// Package shape holds no code: its test holds the module to small parts
// (issue 22) — no function longer than maxLines lines and none over
// cyclomatic complexity maxCyclo, as gocyclo v0.6.0 counts it, tests aside,
// with one named exemption; runApply, flags and wiring, to fewer lines.
package shape
