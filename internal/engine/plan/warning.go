package plan

import "fmt"

// Warning is what a plan found about a row that is not a failure, for the
// admin to know before applying: a user the row creates that already
// exists under another hierarchy, or a Unity Connection alias the row's
// new user would get that another user already holds. A plan holds its
// warnings beside its operations (Op keeps its size: TestOpSize), each
// naming the row it is about and the operation it concerns. A warning
// changes no status and no exit code.
type Warning struct {
	Source  *Source `json:"source"`    // the row's, shared with its operations
	Op      string  `json:"operation"` // the id of the operation it concerns
	Target  string  `json:"target"`
	Kind    string  `json:"kind"`
	Key     string  `json:"key"`
	Message string  `json:"message"`
	// ObjectKind and ObjectKey name the one object the warning is about
	// (the user under the other hierarchy, the alias's holder), when it
	// names one, as operations and the journal name objects: a resumed
	// run does not warn of what an earlier part of the same run created.
	ObjectKind string `json:"object_kind,omitempty"`
	ObjectKey  string `json:"object_key,omitempty"`
}

// Src returns the row the warning is about (the zero Source if none).
func (w Warning) Src() Source {
	if w.Source == nil {
		return Source{}
	}
	return *w.Source
}

// Where names the row: "row 7 (users.xlsx:Users:7)" for a sheet's row,
// the source itself (FILE:ENTRY:INDEX) for an export's item.
func (w Warning) Where() string {
	s := w.Src()
	if s.Entry == "" && s.Sheet != "" && s.Row > 0 {
		return fmt.Sprintf("row %d (%s)", s.Row, s)
	}
	return s.String()
}

// String is the warning as one line: where, then what.
func (w Warning) String() string { return w.Where() + ": " + w.Message }
