package store

import (
	"bytes"
	"io"
	"os"
	"time"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// lostBackoutLines returns the lines the back-out file at backoutPath
// (whose lines r reads) lacks and the journal at journalPath carries: the
// write lines a machine crash took from the file's unsynced tail (the
// journal's intent carried them, synced, before each write went out), then
// the outcomes the journal holds for them or for writes whose outcome the
// file lost. Nothing, when the journal is gone or names another file.
func lostBackoutLines(backoutPath, journalPath string, r io.Reader) ([]byte, error) {
	if journalPath == "" {
		return nil, nil
	}
	bfi, err := os.Stat(backoutPath)
	if err != nil {
		return nil, nil
	}
	jf, err := os.Open(journalPath)
	if err != nil {
		return nil, nil // pruned, moved, or another machine's: nothing to add
	}
	defer jf.Close()
	// What the file holds: write lines per operation, and whether its last
	// write has an outcome.
	writes, answered := map[string]int{}, map[string]bool{}
	if _, err := scanJournal(r, func(e Entry) {
		switch e.Type {
		case "write":
			writes[e.Op]++
			answered[e.Op] = false
		case "outcome":
			answered[e.Op] = true
		}
	}); err != nil {
		return nil, err
	}
	// What the journal carries for this file.
	var order []string
	carried := map[string][]json.RawMessage{}
	outcome := map[string]Entry{}
	ours := false
	if _, err := scanJournal(jf, func(e Entry) {
		switch e.Type {
		case "backout":
			fi, err := os.Stat(e.Backout)
			ours = err == nil && os.SameFile(fi, bfi)
		case "intent":
			if !ours || len(e.BackoutLine) == 0 {
				return
			}
			if _, seen := carried[e.Op]; !seen {
				order = append(order, e.Op)
			}
			carried[e.Op] = append(carried[e.Op], e.BackoutLine)
			delete(outcome, e.Op)
		case "outcome":
			if ours && (e.Status == Done || e.Status == Failed) {
				outcome[e.Op] = e
			}
		}
	}); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	added := map[string]bool{}
	for _, op := range order {
		lines := carried[op]
		for _, l := range lines[min(writes[op], len(lines)):] {
			out.Write(l)
			out.WriteByte('\n')
			added[op] = true
		}
	}
	for _, op := range order {
		e, ok := outcome[op]
		if !ok || !added[op] && (writes[op] == 0 || answered[op]) {
			continue
		}
		line, err := json.Marshal(struct {
			Type      string    `json:"type"`
			Op        string    `json:"op"`
			Status    Status    `json:"status"`
			CreatedID string    `json:"created_id,omitempty"`
			Time      time.Time `json:"t"`
		}{"outcome", op, e.Status, e.ID, e.Time})
		if err != nil {
			return nil, err
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}
