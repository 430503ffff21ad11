package store

import (
	"bytes"
	"os"
	"sync"
	"sync/atomic"
)

// Group commit. The journal and the back-out file are each an append-only
// file of JSON lines (a logFile). A line is first appended to the file's
// buffer; a caller that needs it durable asks for a sync up to the line's
// sequence number. One caller at a time (the leader) writes everything
// buffered and fsyncs; the callers that arrive meanwhile wait, and the
// first of them then writes and fsyncs everything that piled up for all
// of them (one fsync covers every line appended since the last), as
// databases do. The lines that need no sync of their own (outcomes) ride
// along with the next one that does.
//
// A write's intent and its back-out line are two files, and no fsync makes
// another file durable (syncfs would flush every process's dirty pages on
// the filesystem). So the journal's intent carries the back-out line
// (Entry.BackoutLine, about a kilobyte) and only the journal is synced
// before the write goes out (SyncCarried): one fsync a round, where an
// fsync costs about 0.2 ms of CPU on the development machine, more than a
// whole HTTP request of a plain client. The back-out file gets the same
// line written in the same round, without an fsync (fsynced when it
// closes, or when a line must be durable by itself: its header, a failed
// write's outcome); after a machine crash the lines it lost are put back
// from the journal (RepairBackout). Without a journal both files are
// synced at once (Sync): one round, not two in a row.

// logFile is one append-only file with group commit.
type logFile struct {
	path string
	f    *os.File
	// write writes synced bytes to the file and fsync makes them durable;
	// tests replace them (a full disk, a held fsync).
	write func([]byte) (int, error)
	fsync func() error
	// fail turns a write or sync failure into the file's error.
	fail func(step string, err error) error

	mu      sync.Mutex // guards buf, seq
	buf     bytes.Buffer
	seq     int64
	syncMu  sync.Mutex // one write and fsync at a time; guards written, synced, err, out
	written int64      // lines written to the file
	synced  int64      // lines durable
	err     error
	out     []byte // the bytes being written, reused
}

// fsyncs counts the fsyncs of every logFile of the process (tests and
// benchmarks read it through Fsyncs).
var fsyncs atomic.Int64

// Fsyncs returns how many fsyncs the journals and back-out files of this
// process have made.
func Fsyncs() int64 { return fsyncs.Load() }

func newLogFile(path string, f *os.File, fail func(string, error) error) *logFile {
	return &logFile{path: path, f: f, write: f.Write, fsync: f.Sync, fail: fail}
}

// add appends one line (a newline is added) to the buffer and returns its
// sequence number; big reports whether the buffer should be written now.
func (l *logFile) add(line []byte) (seq int64, big bool) {
	l.mu.Lock()
	l.buf.Write(line)
	l.buf.WriteByte('\n')
	l.seq++
	seq, big = l.seq, l.buf.Len() > 256<<10
	l.mu.Unlock()
	return seq, big
}

// last is the sequence number of the last line appended.
func (l *logFile) last() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// syncUpTo makes every line up to seq durable; concurrent callers share
// one write and fsync (group commit).
func (l *logFile) syncUpTo(seq int64) error { return l.flush(seq, true) }

// flush writes every line up to seq to the file and, when durable, fsyncs
// it; concurrent callers share one write and one fsync.
func (l *logFile) flush(seq int64, durable bool) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.err != nil {
		return l.err
	}
	if l.synced >= seq || !durable && l.written >= seq {
		return nil
	}
	if l.written < seq {
		l.mu.Lock()
		l.out = append(l.out[:0], l.buf.Bytes()...)
		l.buf.Reset()
		upto := l.seq
		l.mu.Unlock()
		if _, err := l.write(l.out); err != nil {
			l.err = l.fail("write", err)
			return l.err
		}
		if cap(l.out) > 1<<20 {
			l.out = nil // a burst's buffer is not kept for the rest of the run
		}
		l.written = upto
	}
	if durable {
		fsyncs.Add(1)
		if err := l.fsync(); err != nil {
			l.err = l.fail("sync", err)
			return l.err
		}
		l.synced = l.written
	}
	return nil
}

// Mark is a line appended to a journal or back-out file and not yet
// known to be durable: Sync makes it so. The zero Mark is durable.
type Mark struct {
	l    *logFile
	seq  int64
	line []byte // the line, when its owner keeps it (Backout.Buffer)
}

// Line returns the line m marks, as appended (without its newline), when
// the file keeps it (a back-out line, which the journal's intent carries).
func (m Mark) Line() []byte { return m.line }

// Sync makes a and b durable — each with every line appended to its file
// before it — the two files' group commits running at once, so that a
// write's intent and its back-out line cost one round of fsyncs, not two
// in a row. It returns each file's error.
func Sync(a, b Mark) (aerr, berr error) {
	switch {
	case a.l == nil && b.l == nil:
		return nil, nil
	case a.l == nil:
		return nil, b.l.syncUpTo(b.seq)
	case b.l == nil:
		return a.l.syncUpTo(a.seq), nil
	}
	done := make(chan error, 1)
	go func() { done <- b.l.syncUpTo(b.seq) }()
	aerr = a.l.syncUpTo(a.seq)
	return aerr, <-done
}

// SyncCarried makes intent durable, and writes backout — whose line the
// intent carries (Entry.BackoutLine) — to its file without an fsync of
// its own: one fsync a round instead of two. A crash of the process loses
// nothing written; a crash of the machine may lose the back-out file's
// last lines, and reading or resuming the file puts them back from the
// journal (RepairBackout). It returns each file's error.
func SyncCarried(intent, backout Mark) (ierr, berr error) {
	if backout.l != nil {
		berr = backout.l.flush(backout.seq, false)
	}
	if intent.l != nil {
		ierr = intent.l.syncUpTo(intent.seq)
	}
	return ierr, berr
}
