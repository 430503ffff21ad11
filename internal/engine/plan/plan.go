package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Action is what an operation does. It is a byte, not a string, because
// a plan holds one per operation for the whole run (issue 14); it reads
// and writes as its name ("create", …) in JSON and with %s.
type Action uint8

// Actions. The zero Action is none yet (shown as "").
const (
	Create Action = iota + 1
	Update
	Delete
	Noop
)

var actionNames = [...]string{"", "create", "update", "delete", "noop"}

// String returns the action's name.
func (a Action) String() string { return enumName(actionNames[:], uint8(a)) }

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := enumValue(actionNames[:], "action", b)
	*a = Action(v)
	return err
}

// Status is where an operation stands: planned, then done, failed or
// skipped. A byte like Action; the zero Status is none yet ("").
type Status uint8

// Statuses of an operation.
const (
	Planned Status = iota + 1
	Done
	Failed
	Skipped
)

var statusNames = [...]string{"", "planned", "done", "failed", "skipped"}

// String returns the status's name.
func (s Status) String() string { return enumName(statusNames[:], uint8(s)) }

// MarshalText writes the status's name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status's name.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := enumValue(statusNames[:], "status", b)
	*s = Status(v)
	return err
}

func enumName(names []string, v uint8) string {
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%d", v)
}

func enumValue(names []string, what string, b []byte) (uint8, error) {
	for i, n := range names {
		if n == string(b) {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q", what, b)
}

// SecretMarker stands for a write-only value in plans and reports.
const SecretMarker = "***"

// Change is one field's change.
type Change struct {
	Field  string `json:"field"`
	Old    any    `json:"old"`
	New    any    `json:"new"`
	Secret bool   `json:"secret,omitempty"`
}

// Source is where a row came from, as plain values: FILE:SHEET:ROW for a
// workbook or CSV, FILE:ENTRY:INDEX for a JSON export. Its fields and JSON
// names are the loader's location's.
type Source struct {
	File  string `json:"file"`
	Sheet string `json:"sheet,omitempty"`
	Row   int    `json:"row,omitempty"`
	Entry string `json:"entry,omitempty"`
	Index int    `json:"index,omitempty"`
}

// String formats the source as FILE:SHEET:ROW or FILE:ENTRY:INDEX.
func (s Source) String() string {
	switch {
	case s.Entry != "":
		return fmt.Sprintf("%s:%s:%d", s.File, s.Entry, s.Index)
	case s.Sheet != "":
		return fmt.Sprintf("%s:%s:%d", s.File, s.Sheet, s.Row)
	}
	return s.File
}

// FingerprintOf is the fingerprint of v as JSON.
func FingerprintOf(v any) Fingerprint {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return Fingerprint(h[:8])
}

// Fingerprint identifies the state an operation was planned against: the
// first 8 bytes of the SHA-256 of the object as read. It reads and writes
// as 16 hex digits; held as bytes, it needs no string of its own on each
// operation (issue 14). The zero Fingerprint is none (an operation that
// failed before its object was read) and reads and writes as "", as the
// string it replaces did: plan files of earlier versions still read.
type Fingerprint [8]byte

// String returns the fingerprint in hex, or "" for none.
func (f Fingerprint) String() string {
	if f == (Fingerprint{}) {
		return ""
	}
	return hex.EncodeToString(f[:])
}

// MarshalText writes the fingerprint in hex ("" for none).
func (f Fingerprint) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads a fingerprint written by MarshalText.
func (f *Fingerprint) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*f = Fingerprint{}
		return nil
	}
	if !hexInto(f[:], b) {
		return fmt.Errorf("fingerprint %q: want %d hex digits", b, 2*len(f))
	}
	return nil
}

// hexInto decodes src, which must be exactly len(dst) bytes in hex, into
// dst.
func hexInto(dst, src []byte) bool {
	if hex.DecodedLen(len(src)) != len(dst) {
		return false
	}
	_, err := hex.Decode(dst, src)
	return err == nil
}
