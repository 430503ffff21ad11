package report

import (
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// Run says when, where, by what and with what result a report was made:
// the "run" object of the JSON report, and the head of the HTML page and
// of the xlsx Summary sheet.
type Run struct {
	Command  string     `json:"command"` // "plan", "apply", ...
	Version  string     `json:"version"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
	Targets  RunTargets `json:"targets"`
	Inputs   []RunFile  `json:"inputs"`
	// Plan is the saved plan file: the one plan --out wrote, or the one
	// apply --plan executed. A change board matches its hash with what runs.
	Plan *RunFile `json:"plan,omitempty"`
	// Approvals are the change board's signatures of the plan that apply
	// counted under an approval policy.
	Approvals []Approval `json:"approvals,omitempty"`
	// Backout is the back-out file of an apply that wrote (plan --revert
	// and apply --revert take it).
	Backout string `json:"backout,omitempty"`
	// Config is the --config file the run mapped its inputs with (File
	// empty: no config file; a revert takes the config from its back-out
	// file), with the SHA-256 of the config's bytes.
	Config *RunFile `json:"config,omitempty"`
	Exit   int      `json:"exit"`
	// Error says why a run stopped or was refused (exit 2, 3 or 4).
	Error string `json:"error,omitempty"`
	// Problems are the input problems a run refused for invalid input
	// found (FILE:SHEET:ROW:COLUMN: message, as validate prints them; at
	// most 1,000, Error gives the count).
	Problems []string `json:"problems,omitempty"`
}

// Approval is a signer of the plan: the principal of the allowed signers
// file and the key's SHA256 fingerprint.
type Approval struct {
	Principal string `json:"principal"`
	Key       string `json:"key"`
}

// RunTargets are the base URLs a run talked to; CUPI by cluster name
// ("default" for --cupi).
type RunTargets struct {
	VOSS string            `json:"voss,omitempty"`
	CUPI map[string]string `json:"cupi,omitempty"`
}

// RunFile is a file a run read or wrote, with its SHA-256.
type RunFile struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Duration is how long the run took.
func (r *Run) Duration() time.Duration { return r.Finished.Sub(r.Started) }

// RowCounts count input rows, the unit people count: a row is ok when none
// of its operations failed, not run when none failed and some were not
// run (its target was down, or the run stopped before it).
type RowCounts struct {
	Total  int `json:"total"`
	OK     int `json:"ok"`
	Failed int `json:"failed"`
	NotRun int `json:"not_run"`
}

// CountRows tallies the rows behind ops. It runs at the end of a run, when
// the whole plan is held: a row is an 8-byte hash of its source and a
// byte of flags, not a copy of the source (issue 14).
func CountRows(ops []*engine.Op) RowCounts {
	const failed, skipped = 1, 2
	rows := map[uint64]uint8{}
	var last *engine.Source
	var k uint64
	for i, op := range ops {
		if i == 0 || op.Source != last { // a row's operations share their source
			last, k = op.Source, sourceKey(op.Source)
		}
		f := rows[k]
		switch op.Status {
		case engine.Failed:
			f |= failed
		case engine.Skipped:
			f |= skipped
		}
		rows[k] = f
	}
	c := RowCounts{Total: len(rows)}
	for _, f := range rows {
		switch {
		case f&failed != 0:
			c.Failed++
		case f&skipped != 0:
			c.NotRun++
		default:
			c.OK++
		}
	}
	return c
}

// sourceKey is the FNV-1a hash of a source's fields (nil: the zero Source).
func sourceKey(s *engine.Source) uint64 {
	h := fnv.New64a()
	if s != nil {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00%d", s.File, s.Sheet, s.Row, s.Entry, s.Index)
	}
	return h.Sum64()
}

// Formats are the report formats by extension.
var Formats = []string{".json", ".csv", ".xlsx", ".html"}

// CheckFormat returns an error when path's extension names no report format.
func CheckFormat(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".htm" {
		return nil
	}
	for _, f := range Formats {
		if ext == f {
			return nil
		}
	}
	return fmt.Errorf("%s: unknown report format %q (use %s)", path, ext, strings.Join(Formats, ", "))
}

// WriteAtomic writes a 0600 file at path through fn: into a temporary file
// in the same folder, then renamed over path, so a reader (or a cron job's
// next step) never sees half a file and a failed write leaves none.
func WriteAtomic(path string, fn func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if err = fn(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	// rename replaces a link at path, never writes through it.
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // the new entry made durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}
