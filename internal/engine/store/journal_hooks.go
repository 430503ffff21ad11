package store

import "os"

// Append writes e to the journal; durable lines are synced (with every
// line before them) before it returns. Safe for concurrent use.
func (j *Journal) Append(e Entry, durable bool) error { return j.append(e, durable) }

// IsPending reports whether an interrupted run journaled an intent for
// operation id without its outcome. A nil journal has none.
func (j *Journal) IsPending(id string) bool {
	if j == nil {
		return false
	}
	_, ok := j.Pending[id]
	return ok
}

// DoneEntry returns the outcome of operation id that an interrupted run
// finished, if any. A nil journal has none.
func (j *Journal) DoneEntry(id string) (Entry, bool) {
	if j == nil {
		return Entry{}, false
	}
	e, ok := j.Done[id]
	return e, ok
}

// WrapWrite replaces how synced bytes reach the file with wrap of the
// current way (tests inject a full disk). Call it before any write.
func (j *Journal) WrapWrite(wrap func(write func([]byte) (int, error)) func([]byte) (int, error)) {
	j.log.write = wrap(j.log.write)
}

// Buffer appends e to the journal without waiting for it to be durable;
// Sync with the returned mark makes it so. Safe for concurrent use.
func (j *Journal) Buffer(e Entry) (Mark, error) { return j.buffer(e) }

// RecordBackout notes in the journal, durably, the path of the run's
// back-out file, so a resumed run appends to the same file.
func (j *Journal) RecordBackout(path string) error {
	return j.append(Entry{Type: "backout", Backout: path}, true)
}

// BackoutPath returns the back-out file an earlier, interrupted run of
// this journal recorded, or "".
func (j *Journal) BackoutPath() (string, error) {
	f, err := os.Open(j.Path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	path := ""
	_, err = scanJournal(f, func(e Entry) {
		if e.Type == "backout" {
			path = e.Backout
		}
	})
	return path, err
}
