package report

import (
	"fmt"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// unkeptJSON is an operation's "unkept" member in the JSON report.
type unkeptJSON struct {
	Since  string   `json:"since"`
	Fields []string `json:"fields,omitempty"`
}

// unkeptOf returns op's unkept mark in the JSON report's form, or nil.
func (d *Document) unkeptOf(op *engine.Op) *unkeptJSON {
	u, ok := d.Unkept[op.ID]
	if !ok {
		return nil
	}
	return &unkeptJSON{Since: u.Since.UTC().Format(time.RFC3339), Fields: u.Fields}
}

// errorText is the error column of an operation in the text, CSV, xlsx and
// HTML reports: its error, and that it writes again a value written
// before and not kept.
func (d *Document) errorText(op *engine.Op) string {
	u, ok := d.Unkept[op.ID]
	if !ok {
		return op.Error
	}
	if op.Error == "" {
		return u.Note()
	}
	return op.Error + "; " + u.Note()
}

// unkeptLine is the summary's count of writes of values not kept before.
func unkeptLine(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" %d unkept: written before and not kept by the server.", n)
}
