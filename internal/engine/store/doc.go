// Package store is the state room of the engine: the files a run keeps —
// the checkpoint journal (an intent before each write, an outcome after
// it, group-committed and locked), the run state (keyed hashes of the
// secrets applied, never a secret) and the back-out file (what undoes
// each write). It knows the formats, not the kinds: an entry names its
// kind and object as plain values, and the core decides what they mean.
package store
