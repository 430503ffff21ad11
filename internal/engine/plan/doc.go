// Package plan is the engine's vocabulary: the values every room shares
// — what an operation does and where it stands, a field's change, the
// input row an operation comes from, the fingerprint of the state it was
// planned against, the write-only values it sends — with no behaviour of
// the run. It imports no other room.
package plan
