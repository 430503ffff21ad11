package engine

import (
	"strings"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine/kinds"
	"github.com/bulkprov/bulkprov/internal/engine/plan"
)

// Unkept marks an operation that writes again a value an earlier run
// wrote to the same fields while the server holds something else: the
// server did not keep it (issue 25, cli.md "First contact").
type Unkept struct {
	// Since is when the earlier run wrote the value (the earliest, when
	// several fields).
	Since time.Time `json:"since"`
	// Fields are the fields written again.
	Fields []string `json:"fields"`
	// Skipped: --skip-unkept left these fields alone.
	Skipped bool `json:"skipped,omitempty"`
}

// Note is how every report but JSON says it: "written before on DATE and
// not kept".
func (u Unkept) Note() string {
	s := strings.Join(u.Fields, ", ") + ": written before on " + u.Since.UTC().Format("2006-01-02 15:04 UTC") + " and not kept"
	if u.Skipped {
		s += " (left alone: --skip-unkept)"
	}
	return s
}

// writtenScope is the run-state key of the value written to field of
// op's object: the secrets' scope (target, kind, server identity, field).
func writtenScope(t *Targets, op *Op, field string) string {
	if op.Target == "cupi" {
		t = t.Cluster(op.Cluster)
	}
	return t.SecretScope(op, field)
}

// writtenValue is the text a field's value is hashed as.
func writtenValue(v any) string { return plan.Norm(v) }

// markUnkept records in p the operations of ops that write again, to a
// field of an object that exists, the value an earlier run wrote there
// (the run state's keyed hash) while the server holds another. With
// o.SkipUnkept those fields are left out of the write (an operation left
// with nothing to write is skipped). Called as each part of the plan is
// made, before it is applied.
func markUnkept(p *Plan, ops []*Op, t *Targets, o Options) {
	for _, op := range ops {
		if op.Action != Update || op.Status != Planned || !op.Writes() || kinds.ObjectID(op) == "" {
			continue
		}
		var u Unkept
		for _, c := range op.Changes {
			if c.Secret || c.New == nil {
				continue
			}
			since, ok := o.RunState.WrittenSince(writtenScope(t, op, c.Field), writtenValue(c.New))
			if !ok {
				continue
			}
			if u.Since.IsZero() || since.Before(u.Since) {
				u.Since = since
			}
			u.Fields = append(u.Fields, c.Field)
		}
		if len(u.Fields) == 0 {
			continue
		}
		if o.SkipUnkept {
			u.Skipped = leaveAlone(op, u.Fields)
		}
		if p.Unkept == nil {
			p.Unkept = map[string]Unkept{}
		}
		p.Unkept[op.ID] = u
	}
}

// leaveAlone takes fields out of op's write (--skip-unkept); an operation
// with nothing else to write is skipped. It reports whether it could:
// a field inside an array (sent whole) is written again.
func leaveAlone(op *Op, fields []string) bool {
	for _, f := range fields {
		if strings.Contains(f, "[") {
			return false
		}
	}
	skip := map[string]bool{}
	for _, f := range fields {
		skip[f] = true
	}
	kept := op.Changes[:0:0]
	for _, c := range op.Changes {
		if !skip[c.Field] {
			kept = append(kept, c)
		}
	}
	for _, f := range fields {
		deleteDotted(op.Body, f)
	}
	if len(kept) == 0 {
		op.Status, op.Error = Skipped, "not written: --skip-unkept (written before and not kept)"
		return true
	}
	op.Changes = kept
	return true
}

// deleteDotted removes the value at a path like "a.b" from a field tree.
func deleteDotted(m map[string]any, path string) {
	segs := strings.Split(path, ".")
	for i, s := range segs {
		if m == nil {
			return
		}
		if i == len(segs)-1 {
			delete(m, s)
			return
		}
		m, _ = m[s].(map[string]any)
	}
}

// recordWritten remembers, in the run state, the keyed hash of each value
// a done create or update wrote to a field (never a secret), and when.
func recordWritten(op *Op, t *Targets, o Options) {
	if op.Action != Create && op.Action != Update || kinds.ObjectID(op) == "" {
		return
	}
	now := time.Now()
	for _, c := range op.Changes {
		if c.Secret || c.New == nil {
			continue
		}
		o.RunState.SetWritten(t.SecretScope(op, c.Field), writtenValue(c.New), now)
	}
}
