package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// Entry is one line of the checkpoint journal. It never holds a secret:
// secrets appear only as keyed hashes.
type Entry struct {
	Type   string `json:"type"` // run, intent, tx, outcome, complete
	Op     string `json:"op,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Key    string `json:"key,omitempty"`
	Status Status `json:"status,omitempty"`
	// Action is what the operation does (intent and outcome lines): a
	// resumed run reports an operation an earlier part of the run did by
	// what it did, though a fresh plan now sees it as unchanged.
	Action  Action            `json:"action,omitempty"`
	ID      string            `json:"id,omitempty"`
	Tx      string            `json:"tx,omitempty"`
	Error   string            `json:"error,omitempty"`
	Hashes  map[string]string `json:"hashes,omitempty"`
	Binding string            `json:"binding,omitempty"`
	// Object is the server id of the object an intent writes, when known;
	// Before a credential's TimeChanged before its set (the proof a
	// resumed run reads to learn whether a set whose answer was lost
	// landed).
	Object string  `json:"object,omitempty"`
	Before *string `json:"before,omitempty"`
	// Backout is the path of the run's back-out file (type "backout").
	Backout string `json:"backout,omitempty"`
	// Cluster is the Unity Connection cluster of a CUPI operation.
	Cluster string `json:"cluster,omitempty"`
	// BackoutLine is, on an intent, the line the back-out file holds for
	// the same write: the journal's fsync makes it durable for both files
	// (SyncCarried), and a back-out file that lost it in a machine crash
	// gets it back from here (RepairBackout).
	BackoutLine json.RawMessage `json:"backout_line,omitempty"`
	Time        time.Time       `json:"t"`
}

// Journal is the append-only checkpoint of an apply run: an intent line
// before each write (synced before the write is sent, in group commits),
// an outcome line after it. It is bound to its run by a hash of the inputs
// and config, locked against a second run, and tolerates a torn last line.
type Journal struct {
	Path string
	// Done holds the outcomes of operations finished by an earlier,
	// interrupted run of the same inputs; Pending the intents that have no
	// outcome (their writes may or may not have happened).
	Done    map[string]Entry
	Pending map[string]Entry
	// Settled holds the pending intents the resume settled before planning
	// (engine.ResolvePending): a write whose outcome is now known, so the
	// account counts it as what it did when the fresh plan finds it done.
	Settled map[string]Entry
	Resumed bool
	// canary: the run it resumes passed its canary (canary.go).
	canary bool

	f    *os.File
	log  *logFile
	stop chan struct{}
	wg   sync.WaitGroup
}

// CheckpointError is the checkpoint failing (a full disk): it stops the
// run, whatever the target of the write it was journaling.
type CheckpointError struct{ Err error }

func (e *CheckpointError) Error() string { return e.Err.Error() }
func (e *CheckpointError) Unwrap() error { return e.Err }

// ErrLocked means another run holds the checkpoint.
var ErrLocked = errors.New("another bulkprov run is using this checkpoint")

// ErrNotOurs is a checkpoint or back-out path holding something bulkprov
// did not write there: it is never written over.
var ErrNotOurs = errors.New("not a bulkprov file of this kind, and bulkprov never writes over one: name another file")

// maxLine bounds one line of a checkpoint or back-out file: a longer line
// is damage, not a line to skip.
var maxLine = 64 << 20

// ownFile checks that f, from its start, is empty or a file whose first
// line is a bulkprov entry of type typ (a first line cut short by a crash
// included), and leaves f at its start.
func ownFile(f *os.File, typ string) error {
	head := make([]byte, 64)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return err
	}
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if ownHead(head, typ) {
		return nil
	}
	return ErrNotOurs
}

// CheckOwnPath checks, before a run, a checkpoint ("run") or back-out
// ("backout") path a user named: absent, or a regular file (not a link)
// holding bulkprov's own file of that kind.
func CheckOwnPath(path, typ string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("is a symbolic link (bulkprov does not write through links), %w", ErrNotOurs)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("is not a regular file: %w", ErrNotOurs)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return ownFile(f, typ)
}

// ownHead reports whether head starts a bulkprov entry of type typ as
// bulkprov writes it (or a prefix of one: a line torn by a crash).
func ownHead(head []byte, typ string) bool {
	want := []byte(`{"type":"` + typ + `"`)
	if len(head) < len(want) {
		return bytes.HasPrefix(want, head)
	}
	return bytes.HasPrefix(head, want)
}

// BindingError means the checkpoint belongs to other inputs or config.
type BindingError struct{ Path string }

func (e *BindingError) Error() string {
	return fmt.Sprintf("checkpoint %s belongs to a run with different inputs or config; finish that run with its own inputs, or pass --fresh to start over", e.Path)
}

// openJournalFile opens (or creates) the journal file at path for this
// run alone: never through a link, a regular file, locked, and ours.
func openJournalFile(path string) (*os.File, error) {
	// Never through a link: a checkpoint path planted as a symlink would
	// have the run write over whatever it points at.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("checkpoint %s: is a symbolic link (bulkprov does not write through links), %w", path, ErrNotOurs)
		}
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("checkpoint %s: not a regular file: %w", path, ErrNotOurs)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("checkpoint %s: %w", path, ErrLocked)
	}
	if err := ownFile(f, "run"); err != nil {
		f.Close()
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return f, nil
}

// replay reads an unfinished journal from the start into Pending (the
// intents without an outcome, with their transaction) and Done, and
// returns the offset after its last whole line.
func (j *Journal) replay(f *os.File) (int64, error) {
	return scanJournal(f, func(e Entry) {
		switch e.Type {
		case "intent", "tx":
			p := j.Pending[e.Op]
			if e.Type == "intent" {
				p.Op, p.Kind, p.Key, p.Action = e.Op, e.Kind, e.Key, e.Action
				p.Object, p.Before, p.Hashes, p.Cluster = e.Object, e.Before, e.Hashes, e.Cluster
			}
			if e.Tx != "" {
				p.Tx = e.Tx
			}
			j.Pending[e.Op] = p
		case "canary":
			j.canary = true
		case "outcome":
			delete(j.Pending, e.Op)
			if e.Status == Done {
				j.Done[e.Op] = e
			}
		}
	})
}

// OpenJournal opens or creates the journal at path for the run identified
// by binding. An unfinished journal of the same binding is resumed; a
// finished one (or fresh) starts a new run.
func OpenJournal(path, binding string, fresh bool) (*Journal, error) {
	f, err := openJournalFile(path)
	if err != nil {
		return nil, err
	}
	j := &Journal{Path: path, f: f, Done: map[string]Entry{}, Pending: map[string]Entry{}, Settled: map[string]Entry{}, stop: make(chan struct{})}
	j.log = newLogFile(path, f, func(step string, err error) error {
		return &CheckpointError{Err: fmt.Errorf("checkpoint %s: %s: %w", path, step, err)}
	})
	// A first pass keeps nothing but the first and last entries: only an
	// unfinished journal is read again, into Pending and Done. --fresh
	// starts over without reading it (a damaged journal of ours is no
	// obstacle then).
	var first, last Entry
	n := 0
	if !fresh {
		_, err := scanJournal(f, func(e Entry) {
			if n == 0 {
				first = e
			}
			last = e
			n++
		})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("checkpoint %s: %w (pass --fresh to start over)", path, err)
		}
	}
	resume := !fresh && n > 0 && last.Type != "complete"
	if resume && first.Binding != binding {
		f.Close()
		return nil, &BindingError{Path: path}
	}
	if resume {
		j.Resumed = true
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		good, err := j.replay(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("checkpoint %s: %w (pass --fresh to start over)", path, err)
		}
		// Cut a torn last line, so the next line starts clean.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := f.Seek(good, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	} else {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		if err := j.append(Entry{Type: "run", Binding: binding}, true); err != nil {
			f.Close()
			return nil, err
		}
	}
	j.wg.Add(1)
	go j.flusher()
	return j, nil
}

// ReadEntries reads journal lines; a torn (unparseable) last line is
// ignored, a bad line elsewhere is an error.
func ReadEntries(r io.Reader) ([]Entry, error) {
	var out []Entry
	_, err := scanJournal(r, func(e Entry) { out = append(out, e) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanJournal calls fn for each journal line in turn, holding none, and
// returns the byte offset just past the last good line.
func scanJournal(r io.Reader, fn func(Entry)) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var bad error
	var offset, good int64
	var long []byte
	for line := 1; ; line++ {
		// A line is read in pieces, never past maxLine: a huge line is
		// damage to report, not a torn line to cut (issue 23).
		long = long[:0]
		var raw []byte
		var err error
		for {
			var piece []byte
			piece, err = br.ReadSlice('\n')
			if len(long)+len(piece) > maxLine {
				return 0, fmt.Errorf("line %d is longer than %d MiB: damaged", line, maxLine>>20)
			}
			if err == bufio.ErrBufferFull {
				long = append(long, piece...)
				continue
			}
			if len(long) > 0 {
				raw = append(long, piece...)
			} else {
				raw = piece
			}
			break
		}
		if len(raw) == 0 && err != nil {
			if err == io.EOF {
				break
			}
			return 0, err
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		if bad != nil {
			return 0, bad
		}
		offset += int64(len(raw))
		b := bytes.TrimSpace(raw)
		if len(b) == 0 {
			if raw[len(raw)-1] == '\n' {
				good = offset
			}
			continue
		}
		var e Entry
		if jerr := json.Unmarshal(b, &e); jerr != nil || e.Type == "" || raw[len(raw)-1] != '\n' {
			bad = fmt.Errorf("corrupt line %d", line)
			continue
		}
		fn(e)
		good = offset
	}
	return good, nil
}

func (j *Journal) flusher() {
	defer j.wg.Done()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
			_ = j.sync()
		}
	}
}

func (j *Journal) append(e Entry, durable bool) error {
	m, err := j.buffer(e)
	if err != nil {
		return err
	}
	if durable {
		return m.l.syncUpTo(m.seq)
	}
	return nil
}

// buffer appends e to the journal's buffer and returns its mark (a full
// buffer is written and synced at once).
func (j *Journal) buffer(e Entry) (Mark, error) {
	e.Time = time.Now().UTC()
	line, err := json.Marshal(e)
	if err != nil {
		return Mark{}, err
	}
	seq, big := j.log.add(line)
	if big {
		if err := j.log.syncUpTo(seq); err != nil {
			return Mark{}, err
		}
	}
	return Mark{l: j.log, seq: seq}, nil
}

func (j *Journal) sync() error { return j.log.syncUpTo(j.log.last()) }

// Restore copies the secret hashes of the operations an interrupted run
// finished into rs, so the resumed plan knows those values are set.
func (j *Journal) Restore(rs *RunState) {
	for _, e := range j.Done {
		for scope, h := range e.Hashes {
			rs.Set(scope, h)
		}
	}
}

// Landed returns the keyed hashes, by create scope, of the secrets sent by
// the creates an interrupted run left pending (intent, no outcome): a
// fresh plan that finds such an object knows what its create set.
func (j *Journal) Landed() map[string]string {
	var out map[string]string
	for _, e := range j.Pending {
		if e.Action != Create {
			continue
		}
		for scope, h := range e.Hashes {
			if out == nil {
				out = map[string]string{}
			}
			out[scope] = h
		}
	}
	return out
}

// Close flushes the journal; complete marks the run finished, so the next
// run of the same command starts afresh instead of resuming.
func (j *Journal) Close(complete bool) error {
	close(j.stop)
	j.wg.Wait()
	var err error
	if complete {
		err = j.append(Entry{Type: "complete"}, true)
	} else {
		err = j.sync()
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}
