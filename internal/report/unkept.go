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
	text := op.Error
	if u, ok := d.Unkept[op.ID]; ok {
		text = joinNote(text, u.Note())
	}
	for _, w := range d.warningsOf(op) {
		text = joinNote(text, "warning: "+w)
	}
	return text
}

func joinNote(text, note string) string {
	if text == "" {
		return note
	}
	return text + "; " + note
}

// warningsOf returns the warnings about op (engine.Warning), for the
// formats that say them beside the operation (CSV, xlsx, HTML).
func (d *Document) warningsOf(op *engine.Op) []string {
	d.warnOnce.Do(func() {
		for _, w := range d.Warnings {
			if d.warnOf == nil {
				d.warnOf = map[string][]string{}
			}
			d.warnOf[w.Op] = append(d.warnOf[w.Op], w.Message)
		}
	})
	return d.warnOf[op.ID]
}

// warningsLine is the summary's count of the plan's warnings.
func warningsLine(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" %d %s.", n, plural(n, "warning"))
}

// unkeptLine is the summary's count of writes of values not kept before.
func unkeptLine(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" %d unkept: written before and not kept by the server.", n)
}
