package store

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The values runs wrote (issue 25): per target object and field, a keyed
// hash (HMAC-SHA256 with hash.key, truncated) of the last value a run
// wrote there, and when. A plan that would write the same value again
// while the server holds another knows the server did not keep it. Never
// a value in clear: the scope too is kept only as a keyed hash.
//
// A run writes about a dozen fields per user, so a record is kept small:
// 12 bytes of the scope's keyed hash, 8 of the value's, the time in
// seconds: 1.2 million fields (100,000 users) take 64 MiB of heap, against
// 346 MiB as hex strings keyed by the scope's text (measured). They live in their
// own file beside applied-secrets.json, one line per field, read and
// written as a stream, and merged the same way: a save finding the file
// changed since it was read merges this run's records into it.

// WrittenFile is the file of the values runs wrote, in the state folder.
const WrittenFile = "written-values"

// writtenHeader starts the file; the key check tells a hash.key other than
// the one the records were made with (their records are then of no use,
// and are dropped).
const writtenHeader = "bulkprov written-values v1 "

type (
	writtenKey [12]byte
	writtenRec struct {
		value [8]byte
		at    uint32 // Unix seconds
		mine  bool   // set by this run: a save merges it into the file
	}
)

// writtenValues is the run state's memory of written values.
type writtenValues struct {
	mu    sync.Mutex
	path  string // "" in memory
	recs  map[writtenKey]writtenRec
	dirty bool
	disk  fileID
}

func (r *RunState) keyedTrunc(dst []byte, parts ...string) {
	m := r.mac()
	defer r.macs.Put(m)
	for i, p := range parts {
		if i > 0 {
			m.write("\x00")
		}
		m.write(p)
	}
	copy(dst, m.sumTo())
}

func (r *RunState) writtenKeys(scope, value string) (writtenKey, [8]byte) {
	var k writtenKey
	var v [8]byte
	r.keyedTrunc(k[:], "written scope", scope)
	r.keyedTrunc(v[:], "written value", scope, value)
	return k, v
}

// WrittenSince returns when a run wrote value in scope (a target object
// and field), if the last value a run wrote there is value.
func (r *RunState) WrittenSince(scope, value string) (time.Time, bool) {
	k, v := r.writtenKeys(scope, value)
	w := &r.written
	w.mu.Lock()
	defer w.mu.Unlock()
	rec, ok := w.recs[k]
	if !ok || rec.value != v {
		return time.Time{}, false
	}
	return time.Unix(int64(rec.at), 0).UTC(), true
}

// SetWritten records that value was written in scope at at. The same
// value written again keeps the time it was first written: the time since
// which the server has not kept it.
func (r *RunState) SetWritten(scope, value string, at time.Time) {
	k, v := r.writtenKeys(scope, value)
	w := &r.written
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.recs == nil {
		w.recs = map[writtenKey]writtenRec{}
	}
	if old, ok := w.recs[k]; ok && old.value == v {
		return
	}
	w.recs[k] = writtenRec{value: v, at: uint32(at.Unix()), mine: true}
	w.dirty = true
}

// openWritten reads the written values of the state folder dir. A file
// that does not read as records is damaged state (moved aside with
// forceSecrets); records made with another hash.key are dropped.
func (r *RunState) openWritten(dir string, forceSecrets bool) error {
	w := &r.written
	w.path = filepath.Join(dir, WrittenFile)
	w.disk = statID(w.path)
	recs, err := r.readWritten(w.path)
	var de *DamagedStateError
	if errors.As(err, &de) && forceSecrets {
		aside := w.path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(w.path, aside); err != nil {
			return fmt.Errorf("run state: moving the damaged %s aside: %w", w.path, err)
		}
		r.Recovered = append(r.Recovered, aside)
		w.disk, recs, err = fileID{}, nil, nil
	}
	if err != nil {
		return err
	}
	w.recs = recs
	return nil
}

// readWritten reads the records at path (none when it is absent).
func (r *RunState) readWritten(path string) (map[writtenKey]writtenRec, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[writtenKey]writtenRec{}, nil
	}
	if err != nil {
		return nil, &DamagedStateError{Path: path, Problem: fmt.Sprintf("cannot be read (%v)", unwrapPathErr(err))}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	recs := map[writtenKey]writtenRec{}
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if line == 1 {
			check, ok := strings.CutPrefix(t, writtenHeader)
			if !ok {
				return nil, &DamagedStateError{Path: path, Problem: "is not a file of written values (its first line)"}
			}
			if !hmac.Equal([]byte(check), []byte(keyCheck(r.key))) {
				return map[writtenKey]writtenRec{}, nil // made with another key: of no use
			}
			continue
		}
		k, v, at, ok := parseWritten(t)
		if !ok {
			return nil, &DamagedStateError{Path: path, Problem: fmt.Sprintf("line %d is not a record of a written value (%q)", line, clip(t))}
		}
		recs[k] = writtenRec{value: v, at: at}
	}
	if err := sc.Err(); err != nil {
		return nil, &DamagedStateError{Path: path, Problem: fmt.Sprintf("cannot be read (%v)", err)}
	}
	return recs, nil
}

// parseWritten reads a line "SCOPEHASH VALUEHASH UNIXTIME".
func parseWritten(s string) (k writtenKey, v [8]byte, at uint32, ok bool) {
	f := strings.Fields(s)
	if len(f) != 3 || !hexInto(k[:], []byte(f[0])) || !hexInto(v[:], []byte(f[1])) {
		return k, v, 0, false
	}
	n, err := strconv.ParseUint(f[2], 10, 32)
	return k, v, uint32(n), err == nil
}

// saveWritten writes the written values when this run set any, merged
// into the file as it is on disk when it changed since it was read.
func (r *RunState) saveWritten() error {
	w := &r.written
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.dirty || w.path == "" {
		return nil
	}
	if statID(w.path) != w.disk {
		theirs, err := r.readWritten(w.path)
		if err != nil {
			return fmt.Errorf("not saved, the file changed under this run: %w", err)
		}
		for k, rec := range w.recs {
			if rec.mine {
				theirs[k] = rec
			}
		}
		w.recs = theirs
	}
	keys := make([]writtenKey, 0, len(w.recs))
	for k := range w.recs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b writtenKey) int { return bytes.Compare(a[:], b[:]) })
	err := writeFileAtomic(w.path, func(out io.Writer) error {
		bw := bufio.NewWriterSize(out, 64<<10)
		bw.WriteString(writtenHeader + keyCheck(r.key) + "\n")
		var line []byte
		for _, k := range keys {
			rec := w.recs[k]
			line = hex.AppendEncode(line[:0], k[:])
			line = append(line, ' ')
			line = hex.AppendEncode(line, rec.value[:])
			line = append(line, ' ')
			line = strconv.AppendUint(line, uint64(rec.at), 10)
			line = append(line, '\n')
			bw.Write(line)
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	for k, rec := range w.recs {
		if rec.mine {
			rec.mine = false
			w.recs[k] = rec
		}
	}
	w.disk = statID(w.path)
	w.dirty = false
	return nil
}
