package engine

import (
	"github.com/bulkprov/bulkprov/internal/engine/kinds"
	"github.com/bulkprov/bulkprov/internal/engine/store"
)

// The checkpoint lines of one operation: what the core tells the journal
// (package store) about each write.

// journalIntent records that op is about to be written, with the keyed
// hashes of the secrets it sends (by run-state scope) and, for a
// credential, its TimeChanged before the set, and the write's back-out
// line (carried: see store.SyncCarried). The returned mark, synced,
// makes it durable.
func journalIntent(j *Journal, op *Op, hashes map[string]string, carried []byte) (store.Mark, error) {
	if j == nil {
		return store.Mark{}, nil
	}
	e := Entry{Type: "intent", Op: op.ID, Kind: op.Kind, Key: op.Key, Action: op.Action, Object: kinds.ObjectID(op), Hashes: hashes, Cluster: op.Cluster, BackoutLine: carried}
	if b, ok := op.TimeBefore(); ok {
		e.Before = &b
	}
	return j.Buffer(e)
}

// journalTx records the VOSS transaction id of op's write, durably.
func journalTx(j *Journal, op *Op, tx string) error {
	return j.Append(Entry{Type: "tx", Op: op.ID, Tx: tx}, true)
}

// journalOutcome records how op ended.
func journalOutcome(j *Journal, op *Op, hashes map[string]string) error {
	return j.Append(Entry{Type: "outcome", Op: op.ID, Kind: op.Kind, Key: op.Key, Action: op.Action, Cluster: op.Cluster, Status: op.Status, ID: op.CreatedID, Tx: op.TxID(), Error: op.Error, Hashes: hashes}, false)
}
