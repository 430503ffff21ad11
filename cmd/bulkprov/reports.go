package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/bulkprov/bulkprov/internal/report"
)

// reportPaths is a repeatable --report flag: one file per format, each
// written at the end of the run.
type reportPaths []string

func (r *reportPaths) String() string { return strings.Join(*r, ",") }

func (r *reportPaths) Set(v string) error {
	*r = append(*r, v)
	return nil
}

// outputs are the --report files for checkOutputs.
func (r reportPaths) outputs() []outputPath {
	var out []outputPath
	for _, p := range r {
		out = append(out, outputPath{flag: "--report", path: p})
	}
	return out
}

// configFile is the run's config as its reports name it: the --config
// path (or, for a revert, the back-out file that holds it) and the SHA-256
// of its bytes; empty when the run has none.
func configFile(path string, cfg []byte, rv *revertRun) *report.RunFile {
	if len(cfg) == 0 {
		return &report.RunFile{}
	}
	sum := sha256.Sum256(cfg)
	if rv != nil {
		path = rv.path + " (the config of the run it undoes)"
	}
	return &report.RunFile{File: path, SHA256: hex.EncodeToString(sum[:])}
}
