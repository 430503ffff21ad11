package store

import (
	"fmt"
	"time"
)

// Written is the last value a run wrote to a field of a target object: its
// keyed hash (Hash, never the value) and when it was written. A plan that
// would write the same value again while the server holds another knows
// the server did not keep it (issue 25).
type Written struct {
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

// Written returns what a run last wrote in scope (a target object and
// field), and whether any run did.
func (r *RunState) Written(scope string) (Written, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.written[scope]
	return w, ok
}

// SetWritten records that the value with hash was written in scope at at.
// A value written again keeps the time it was first written: the time
// since which the server has not kept it.
func (r *RunState) SetWritten(scope, hash string, at time.Time) {
	if _, ok := parseKeyedHash(hash); !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.written == nil {
		r.written = map[string]Written{}
		r.writtenSet = map[string]struct{}{}
	}
	if old, ok := r.written[scope]; ok && old.Hash == hash {
		return
	}
	r.written[scope] = Written{Hash: hash, At: at.UTC().Truncate(time.Second)}
	r.writtenSet[scope] = struct{}{}
	r.dirty = true
}

// checkWritten refuses records of written values that are not keyed
// hashes: a value in clear is never trusted (nor kept).
func checkWritten(path string, sf stateFile) error {
	for k, w := range sf.Written {
		if _, ok := parseKeyedHash(w.Hash); !ok {
			return &DamagedStateError{Path: path, Problem: fmt.Sprintf("the record of the value written to %q is not a keyed hash (%q)", k, clip(w.Hash))}
		}
	}
	return nil
}

// mergeWritten merges this run's written records into those of the file
// on disk (sf), as Save does the applied ones.
func (r *RunState) mergeWritten(sf stateFile) {
	merged := make(map[string]Written, len(sf.Written)+len(r.writtenSet))
	for k, v := range sf.Written {
		merged[k] = v
	}
	for k := range r.writtenSet {
		merged[k] = r.written[k]
	}
	r.written = merged
}
