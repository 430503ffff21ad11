package store

import (
	"bufio"
	"bytes"
	"container/heap"
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
	// writtenRec is one record: 24 bytes, held in sorted slices, not a
	// map (issue 28: a map of them cost about 45 bytes a record, 0.85 KiB
	// a real row).
	writtenRec struct {
		key   writtenKey
		value [8]byte
		at    uint32 // Unix seconds
	}
)

// writtenValues is the run state's memory of written values: the
// records of earlier runs (as the file held them, sorted by key) and the
// ones this run set, in the order set, merged into the file by Save.
// WrittenSince answers from the earlier runs' records: a value this run
// wrote is no evidence about the server's copy it read before.
type writtenValues struct {
	mu    sync.Mutex
	path  string         // "" in memory
	base  []writtenRec   // sorted by key, one per key
	stale bool           // base is what path held at the last save: read it again when needed
	err   error          // reading it again failed: the next save says so
	mine  [][]writtenRec // set by this run since the last save, in chunks of writtenChunk
	dirty bool
	disk  fileID
}

// writtenChunk is how many records of this run's a chunk holds (64 KiB):
// one slice grown by copying would hold two copies at once as it grows.
const writtenChunk = 64 << 10 / 24

func compareWritten(a, b writtenRec) int { return bytes.Compare(a.key[:], b.key[:]) }

// find returns the record of k in base.
func (w *writtenValues) find(k writtenKey) (writtenRec, bool) {
	i, ok := slices.BinarySearchFunc(w.base, writtenRec{key: k}, compareWritten)
	if !ok {
		return writtenRec{}, false
	}
	return w.base[i], true
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
	w.reload(r)
	rec, ok := w.find(k)
	if !ok || rec.value != v {
		return time.Time{}, false
	}
	return time.Unix(int64(rec.at), 0).UTC(), true
}

// SetWritten records that value was written in scope at at. The same
// value written again keeps the time it was first written: the time since
// which the server has not kept it (resolved when saved: mergeMine).
func (r *RunState) SetWritten(scope, value string, at time.Time) {
	k, v := r.writtenKeys(scope, value)
	w := &r.written
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.mine); n == 0 || len(w.mine[n-1]) == writtenChunk {
		w.mine = append(w.mine, make([]writtenRec, 0, writtenChunk))
	}
	last := &w.mine[len(w.mine)-1]
	*last = append(*last, writtenRec{key: k, value: v, at: uint32(at.Unix())})
	w.dirty = true
}

// reload reads base again after a save let go of it.
func (w *writtenValues) reload(r *RunState) {
	if !w.stale {
		return
	}
	w.stale = false
	if w.base, w.err = r.readWritten(w.path); w.err != nil {
		w.base = nil
	}
}

// settled calls yield with this run's records, one per key, in key
// order: the last value set, at the first time it was set in the run of
// sets of that value that ends the key's (whole: that run is all the
// key's sets). Each chunk is sorted in place (stably: for a key, the order
// set) and the chunks merged, earlier chunks first on a tie: no copy of
// the records is made.
func (w *writtenValues) settled(yield func(rec writtenRec, whole bool)) {
	for _, c := range w.mine {
		slices.SortStableFunc(c, compareWritten)
	}
	h := make(chunkHeads, 0, len(w.mine))
	for i, c := range w.mine {
		if len(c) > 0 {
			h = append(h, chunkHead{w.mine, i, 0})
		}
	}
	heap.Init(&h)
	var cur writtenRec
	whole, have := false, false
	for len(h) > 0 {
		r := h[0].rec()
		if h[0].pos++; h[0].pos == len(w.mine[h[0].chunk]) {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
		switch {
		case have && r.key == cur.key && r.value == cur.value: // the same value again: its first time holds
		case have && r.key == cur.key:
			cur, whole = r, false
		default:
			if have {
				yield(cur, whole)
			}
			cur, whole, have = r, true, true
		}
	}
	if have {
		yield(cur, whole)
	}
}

// chunkHeads is a heap of the next record of each chunk of this run's.
type (
	chunkHead struct {
		chunks     [][]writtenRec
		chunk, pos int
	}
	chunkHeads []chunkHead
)

func (c chunkHead) rec() writtenRec { return c.chunks[c.chunk][c.pos] }
func (h chunkHeads) Len() int       { return len(h) }
func (h chunkHeads) Less(i, j int) bool {
	if d := compareWritten(h[i].rec(), h[j].rec()); d != 0 {
		return d < 0
	}
	return h[i].chunk < h[j].chunk
}
func (h chunkHeads) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *chunkHeads) Push(x any)   { *h = append(*h, x.(chunkHead)) }
func (h *chunkHeads) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// merged calls each with base and this run's settled records merged in
// key order, this run's winning — but a key whose every set this run was
// of the value base holds keeps base's record (and its time).
func (w *writtenValues) merged(each func(writtenRec)) {
	i := 0
	w.settled(func(r writtenRec, whole bool) {
		for i < len(w.base) && compareWritten(w.base[i], r) < 0 {
			each(w.base[i])
			i++
		}
		if i < len(w.base) && w.base[i].key == r.key {
			if whole && w.base[i].value == r.value {
				r = w.base[i]
			}
			i++
		}
		each(r)
	})
	for ; i < len(w.base); i++ {
		each(w.base[i])
	}
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
	w.base = recs
	return nil
}

// readWritten reads the records at path (none when it is absent).
func (r *RunState) readWritten(path string) ([]writtenRec, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &DamagedStateError{Path: path, Problem: fmt.Sprintf("cannot be read (%v)", unwrapPathErr(err))}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var recs []writtenRec
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
				return nil, nil // made with another key: of no use
			}
			continue
		}
		k, v, at, ok := parseWritten(t)
		if !ok {
			return nil, &DamagedStateError{Path: path, Problem: fmt.Sprintf("line %d is not a record of a written value (%q)", line, clip(t))}
		}
		recs = append(recs, writtenRec{key: k, value: v, at: at})
	}
	if err := sc.Err(); err != nil {
		return nil, &DamagedStateError{Path: path, Problem: fmt.Sprintf("cannot be read (%v)", err)}
	}
	// Sorted as saved; a line again for a key (not written so) wins.
	if !slices.IsSortedFunc(recs, compareWritten) {
		slices.SortStableFunc(recs, compareWritten)
	}
	out := recs[:0]
	for i, rec := range recs {
		if i+1 < len(recs) && recs[i+1].key == rec.key {
			continue
		}
		out = append(out, rec)
	}
	return slices.Clip(out), nil
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
// into the file as it is on disk when it changed since it was read. The
// merge is streamed: no copy of the records is made.
func (r *RunState) saveWritten() error {
	w := &r.written
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.dirty {
		return nil
	}
	if w.path == "" { // in memory: this run's records join the earlier runs'
		var all []writtenRec
		w.merged(func(rec writtenRec) { all = append(all, rec) })
		w.base, w.mine, w.dirty = all, nil, false
		return nil
	}
	if statID(w.path) != w.disk {
		theirs, err := r.readWritten(w.path)
		if err != nil {
			return fmt.Errorf("not saved, the file changed under this run: %w", err)
		}
		w.base, w.stale, w.err = theirs, false, nil
	}
	w.reload(r)
	if w.err != nil {
		return fmt.Errorf("not saved, the file could not be read again: %w", w.err)
	}
	err := writeFileAtomic(w.path, func(out io.Writer) error {
		bw := bufio.NewWriterSize(out, 64<<10)
		bw.WriteString(writtenHeader + keyCheck(r.key) + "\n")
		var line []byte
		w.merged(func(rec writtenRec) {
			line = hex.AppendEncode(line[:0], rec.key[:])
			line = append(line, ' ')
			line = hex.AppendEncode(line, rec.value[:])
			line = append(line, ' ')
			line = strconv.AppendUint(line, uint64(rec.at), 10)
			line = append(line, '\n')
			bw.Write(line)
		})
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	// What is on disk now is every record: read again if asked.
	w.base, w.mine, w.stale = nil, nil, true
	w.disk = statID(w.path)
	w.dirty = false
	return nil
}
