// Package jsonx is bulkprov's one choice of JSON codec for its hot paths:
// the JSON export reader (input zips and live VOSS export responses), the
// export writer, the VOSS and CUPI clients' response decoding, the journal,
// the back-out and run-state files, plan files and report files.
//
// It is github.com/goccy/go-json, the codec named in the project's design
// card: a drop-in replacement for encoding/json that decodes and encodes
// the same values with fewer allocations (BENCHMARKS.md, "JSON codec",
// measures it on a 50,000-user export). Number, RawMessage and Delim are
// aliases of encoding/json's types, so values decoded here type-switch the
// same way as values decoded by encoding/json.
//
// encoding/json is kept on purpose where this package would be wrong:
//   - the config loader (transform): its error messages use errors.As on
//     *encoding/json.SyntaxError and *encoding/json.UnmarshalTypeError, and
//     go-json returns error types of its own;
//   - the simulators (targets/*/sim, targets/simkit, targets/simserve) and
//     the conformance suite: they must import no bulkprov package, so that
//     they check the clients independently;
//   - the engine's per-kind, diff, plan and revert code, being refactored
//     as this package came in, which only hashes, shows and defaults small
//     values (it may move here; Number is the same type either way);
//   - revert's json.Valid check of a back-out file's config, and tests.
//
// Only what bulkprov uses is exported; add a name here rather than import
// a JSON package elsewhere.
package jsonx

import (
	"io"

	json "github.com/goccy/go-json"
)

// Number is a JSON number literal, as decoded with UseNumber. It is
// encoding/json's Number.
type Number = json.Number

// RawMessage is a raw encoded JSON value, decoded or encoded as is. It is
// encoding/json's RawMessage.
type RawMessage = json.RawMessage

// Delim is a JSON array or object delimiter, as Decoder.Token returns
// it. It is encoding/json's Delim.
type Delim = json.Delim

// SyntaxError is go-json's syntax error; Offset is the byte after which
// the error was found.
type SyntaxError = json.SyntaxError

// Decoder reads and decodes JSON values from a stream.
type Decoder = json.Decoder

// Encoder writes JSON values to a stream.
type Encoder = json.Encoder

// Marshal returns the JSON encoding of v, as encoding/json.Marshal does.
func Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// MarshalIndent is like Marshal but indents the output, as
// encoding/json.MarshalIndent does.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	return json.MarshalIndent(v, prefix, indent)
}

// Unmarshal parses the JSON-encoded data and stores the result in the
// value pointed to by v, as encoding/json.Unmarshal does.
func Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Valid reports whether data is a valid JSON encoding.
func Valid(data []byte) bool { return json.Valid(data) }

// NewDecoder returns a new decoder that reads from r.
func NewDecoder(r io.Reader) *Decoder { return json.NewDecoder(r) }

// NewEncoder returns a new encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder { return json.NewEncoder(w) }
