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
	held, err := backoutHolds(r)
	if err != nil {
		return nil, err
	}
	carried, err := journalCarries(jf, bfi)
	if err != nil {
		return nil, err
	}
	return carried.missing(held)
}

// heldLines is what a back-out file holds: write lines per operation, and
// whether its last write has an outcome.
type heldLines struct {
	writes   map[string]int
	answered map[string]bool
}

func backoutHolds(r io.Reader) (heldLines, error) {
	h := heldLines{writes: map[string]int{}, answered: map[string]bool{}}
	_, err := scanJournal(r, func(e Entry) {
		switch e.Type {
		case "write":
			h.writes[e.Op]++
			h.answered[e.Op] = false
		case "outcome":
			h.answered[e.Op] = true
		}
	})
	return h, err
}

// carriedLines is what a journal carries for one back-out file: each
// operation's write lines, in order, and the outcome of its last write.
type carriedLines struct {
	order   []string
	lines   map[string][]json.RawMessage
	outcome map[string]Entry
}

// journalCarries reads the journal jf for the lines it carries for the
// back-out file bfi (the journal's "backout" lines name it).
func journalCarries(jf io.Reader, bfi os.FileInfo) (carriedLines, error) {
	c := carriedLines{lines: map[string][]json.RawMessage{}, outcome: map[string]Entry{}}
	ours := false
	_, err := scanJournal(jf, func(e Entry) {
		switch e.Type {
		case "backout":
			fi, err := os.Stat(e.Backout)
			ours = err == nil && os.SameFile(fi, bfi)
		case "intent":
			if !ours || len(e.BackoutLine) == 0 {
				return
			}
			if _, seen := c.lines[e.Op]; !seen {
				c.order = append(c.order, e.Op)
			}
			c.lines[e.Op] = append(c.lines[e.Op], e.BackoutLine)
			delete(c.outcome, e.Op)
		case "outcome":
			if ours && (e.Status == Done || e.Status == Failed) {
				c.outcome[e.Op] = e
			}
		}
	})
	return c, err
}

// missing are the carried write lines the file lacks, then the outcomes
// of writes it lacks them for (or whose outcome it lost).
func (c carriedLines) missing(h heldLines) ([]byte, error) {
	var out bytes.Buffer
	added := map[string]bool{}
	for _, op := range c.order {
		lines := c.lines[op]
		for _, l := range lines[min(h.writes[op], len(lines)):] {
			out.Write(l)
			out.WriteByte('\n')
			added[op] = true
		}
	}
	for _, op := range c.order {
		e, ok := c.outcome[op]
		if !ok || !added[op] && (h.writes[op] == 0 || h.answered[op]) {
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
