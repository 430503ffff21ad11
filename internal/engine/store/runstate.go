package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// RunState remembers, per target object and secret field, a keyed hash
// (HMAC-SHA256 with a local random key) of the last value bulkprov applied,
// so a nightly import does not reset every password every night. Scopes
// name the normalised target and the object's server identity, so every
// input file and folder that names the object shares one memory. It also
// keeps "maybe set" values: a credential set whose answer was lost, with
// the TimeChanged read before it, until a later run proves the outcome.
// It never holds a secret. Files are 0600.
//
// One run at a time holds a state folder (internal/statedir); even so, a
// save merges what this run changed into the file as it is on disk, never
// replacing it from a stale copy, and a file it could not read is never
// written over.
type RunState struct {
	path    string
	keyPath string
	key     []byte

	mu     sync.Mutex
	hashes map[string]keyedHash // by scope; bytes, not hex: one per secret applied, held all run (issue 14)
	maybe  map[string]Maybe
	dirty  bool
	// set and maybeSet are the scopes this run changed, merged into the
	// file on disk by Save.
	set      map[string]struct{}
	maybeSet map[string]struct{}
	// written remembers the values runs wrote (written.go, its own file).
	written writtenValues
	// disk identifies the file as last read or written: a save finding
	// another file there merges into it.
	disk fileID
	// fresh: the folder held no records when opened (new, or lost).
	fresh bool
	// Recovered names the damaged files --force-secrets moved aside.
	Recovered []string
	// macs holds keyed HMACs for reuse (keyedMAC): a new one costs two
	// SHA-256 blocks and about 0.5 KB of allocation, and a run hashes
	// several values per write.
	macs sync.Pool
}

// keyedMAC is an HMAC-SHA256 keyed with key, reused through RunState.macs.
type keyedMAC struct {
	key []byte
	h   hash.Hash
	sum [sha256.Size]byte
	buf []byte // the parts hashed, written at once (no copy per string)
}

// write adds a part to the bytes to hash.
func (m *keyedMAC) write(s string) { m.buf = append(m.buf, s...) }

// sumTo hashes the parts written and returns the MAC (valid until m is
// used again).
func (m *keyedMAC) sumTo() []byte {
	m.h.Write(m.buf)
	if cap(m.buf) > 4<<10 {
		m.buf = nil
	}
	m.buf = m.buf[:0]
	return m.h.Sum(m.sum[:0])
}

// mac returns an HMAC keyed with the run state's key, reset; put it back
// with r.macs.Put when done.
func (r *RunState) mac() *keyedMAC {
	if m, ok := r.macs.Get().(*keyedMAC); ok && bytes.Equal(m.key, r.key) {
		m.h.Reset()
		m.buf = m.buf[:0]
		return m
	}
	return &keyedMAC{key: r.key, h: hmac.New(sha256.New, r.key)}
}

// Maybe is a value sent whose outcome is unknown: its keyed hash and the
// credential's TimeChanged before the set.
type Maybe struct {
	Hash   string `json:"hash"`
	Before string `json:"before"`
}

// stateFile is the on-disk form of a RunState. KeyCheck is a keyed hash of
// a fixed text: a hash.key other than the one the records were made with
// is told by it.
type stateFile struct {
	Applied  map[string]string `json:"applied"`
	Maybe    map[string]Maybe  `json:"maybe,omitempty"`
	KeyCheck string            `json:"key_check,omitempty"`
}

// Names of the run state's files in the state folder.
const (
	RunStateFile = "applied-secrets.json"
	HashKeyFile  = "hash.key"
	hashKeySize  = 32
)

// DamagedStateError is a run state that cannot be trusted: records that
// do not parse, a key missing, changed or empty, a file that cannot be
// read. Guessing would re-send every password (or none), so the run stops.
type DamagedStateError struct {
	Path    string
	Problem string
}

func (e *DamagedStateError) Error() string {
	return fmt.Sprintf("run state %s: %s; bulkprov cannot tell which passwords and PINs it applied before. Restore the file from a backup, or pass --force-secrets to send every secret again knowingly (the damaged files are then kept beside, renamed *.damaged-TIME)", e.Path, e.Problem)
}

// fileID tells one file from another written in its place.
type fileID struct {
	ok                bool
	dev, ino, size    uint64
	mtimeSec, mtimeNs int64
}

func statID(path string) fileID {
	st, err := os.Stat(path)
	if err != nil {
		return fileID{}
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{ok: true, dev: uint64(sys.Dev), ino: uint64(sys.Ino), size: uint64(st.Size()), mtimeSec: st.ModTime().Unix(), mtimeNs: int64(st.ModTime().Nanosecond())}
}

// readStateFile reads and checks the records at path: absent is no
// records (exists false); anything that does not read or parse as records
// of keyed hashes is a DamagedStateError.
func readStateFile(path string) (sf stateFile, exists bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return stateFile{}, false, nil
	}
	if err != nil {
		return sf, true, &DamagedStateError{Path: path, Problem: fmt.Sprintf("cannot be read (%v)", unwrapPathErr(err))}
	}
	if err := json.Unmarshal(b, &sf); err != nil {
		return sf, true, &DamagedStateError{Path: path, Problem: fmt.Sprintf("does not parse (%v)", err)}
	}
	for k, v := range sf.Applied {
		if _, ok := parseKeyedHash(v); !ok {
			return sf, true, &DamagedStateError{Path: path, Problem: fmt.Sprintf("the record of %q is not a keyed hash (%q)", k, clip(v))}
		}
	}
	for k, m := range sf.Maybe {
		if _, ok := parseKeyedHash(m.Hash); !ok {
			return sf, true, &DamagedStateError{Path: path, Problem: fmt.Sprintf("the unknown outcome of %q is not a keyed hash (%q)", k, clip(m.Hash))}
		}
	}
	if sf.KeyCheck != "" {
		if _, ok := parseKeyedHash(sf.KeyCheck); !ok {
			return sf, true, &DamagedStateError{Path: path, Problem: fmt.Sprintf("key_check is not a keyed hash (%q)", clip(sf.KeyCheck))}
		}
	}
	return sf, true, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// keyCheck is the key's check value stored beside the records.
func keyCheck(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bulkprov hash.key check v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// OpenRunState opens (or creates) the run state in dir; the caller holds
// the folder (statedir.Open). Damaged state is a *DamagedStateError, unless
// forceSecrets: then the damaged files are moved aside (never deleted) and
// the run starts with no records, sending every secret again.
func OpenRunState(dir string, forceSecrets bool) (*RunState, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("run state: %w", err)
	}
	rs := &RunState{path: filepath.Join(dir, RunStateFile), keyPath: filepath.Join(dir, HashKeyFile),
		hashes: map[string]keyedHash{}, maybe: map[string]Maybe{}, set: map[string]struct{}{}, maybeSet: map[string]struct{}{}}
	sf, keyBad, err := rs.load()
	if err != nil {
		var de *DamagedStateError
		if !forceSecrets || !errors.As(err, &de) {
			return nil, err
		}
		// --force-secrets: keep what could not be trusted beside, start
		// with no records (and a new key, when the key was the problem).
		stamp := time.Now().UTC().Format("20060102T150405Z")
		moves := []string{rs.path}
		if keyBad {
			moves = append(moves, rs.keyPath)
		}
		for _, p := range moves {
			if _, err := os.Lstat(p); err != nil {
				continue
			}
			aside := p + ".damaged-" + stamp
			if err := os.Rename(p, aside); err != nil {
				return nil, fmt.Errorf("run state: moving the damaged %s aside: %w", p, err)
			}
			rs.Recovered = append(rs.Recovered, aside)
		}
		syncDir(dir)
		if sf, _, err = rs.load(); err != nil {
			return nil, err
		}
	}
	for k, v := range sf.Applied {
		h, _ := parseKeyedHash(v) // checked by readStateFile
		rs.hashes[k] = h
	}
	for k, v := range sf.Maybe {
		rs.maybe[k] = v
	}
	rs.fresh = len(rs.hashes) == 0 && len(rs.maybe) == 0
	if err := rs.openWritten(dir, forceSecrets); err != nil {
		return nil, err
	}
	return rs, nil
}

// load reads the records and the key (creating the key where there are no
// records and no key). keyBad says the key was the problem.
func (r *RunState) load() (sf stateFile, keyBad bool, err error) {
	r.disk = statID(r.path)
	sf, _, err = readStateFile(r.path)
	if err != nil {
		return sf, false, err
	}
	records := len(sf.Applied) + len(sf.Maybe)
	key, err := os.ReadFile(r.keyPath)
	switch {
	case errors.Is(err, os.ErrNotExist) && records == 0:
		if key, err = createKey(r.keyPath); err != nil {
			return sf, false, fmt.Errorf("run state: %w", err)
		}
	case errors.Is(err, os.ErrNotExist):
		return sf, true, &DamagedStateError{Path: r.keyPath, Problem: fmt.Sprintf("is missing, and the %d record(s) of %s were made with it", records, r.path)}
	case err != nil:
		return sf, true, &DamagedStateError{Path: r.keyPath, Problem: fmt.Sprintf("cannot be read (%v)", unwrapPathErr(err))}
	case len(key) == 0:
		return sf, true, &DamagedStateError{Path: r.keyPath, Problem: "is empty"}
	case len(key) != hashKeySize:
		return sf, true, &DamagedStateError{Path: r.keyPath, Problem: fmt.Sprintf("holds %d bytes, not the %d of a key bulkprov made", len(key), hashKeySize)}
	case sf.KeyCheck != "" && !hmac.Equal([]byte(sf.KeyCheck), []byte(keyCheck(key))):
		return sf, true, &DamagedStateError{Path: r.keyPath, Problem: fmt.Sprintf("is not the key the records of %s were made with (it changed)", r.path)}
	}
	r.key = key
	return sf, false, nil
}

// createKey makes the hash key: 32 random bytes in a temporary file,
// synced, then linked into place, so the key exists whole or not at all and
// is made once: a key another process linked first is the one used.
func createKey(path string) ([]byte, error) {
	key := make([]byte, hashKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-key-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(key)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Link(tmp, path); errors.Is(err, os.ErrExist) {
		theirs, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if len(theirs) != hashKeySize {
			return nil, &DamagedStateError{Path: path, Problem: fmt.Sprintf("holds %d bytes, not the %d of a key bulkprov made", len(theirs), hashKeySize)}
		}
		return theirs, nil
	} else if err != nil {
		return nil, err
	}
	syncDir(dir)
	return key, nil
}

// Fresh reports whether the state folder held no records when opened: new,
// or lost. Every secret of an existing object is then sent again.
func (r *RunState) Fresh() bool { return r.fresh }

// Path is the records' file ("" for a run state in memory).
func (r *RunState) Path() string { return r.path }

// NewMemoryRunState returns a run state that is never saved (for --sim).
func NewMemoryRunState() *RunState {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &RunState{key: key, hashes: map[string]keyedHash{}, maybe: map[string]Maybe{}, set: map[string]struct{}{}, maybeSet: map[string]struct{}{}}
}

// Hash returns the keyed hash of value in scope.
func (r *RunState) Hash(scope, value string) string {
	m := r.mac()
	defer r.macs.Put(m)
	m.write(scope)
	m.write("\x00")
	m.write(value)
	return hex.EncodeToString(m.sumTo())
}

// Known returns the hash last applied in scope, or "".
func (r *RunState) Known(scope string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.hashes[scope]
	if !ok {
		return ""
	}
	return h.String()
}

// Set records that the value with hash was applied in scope.
func (r *RunState) Set(scope, hash string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := parseKeyedHash(hash); ok && r.hashes[scope] != h {
		r.hashes[scope] = h
		r.set[scope] = struct{}{}
		r.dirty = true
	}
	if _, ok := r.maybe[scope]; ok {
		delete(r.maybe, scope)
		r.maybeSet[scope] = struct{}{}
		r.dirty = true
	}
}

// SetMaybe records that the value with hash was sent in scope but its
// outcome is unknown; before is the credential's TimeChanged before it.
func (r *RunState) SetMaybe(scope, hash, before string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.maybe[scope] = Maybe{Hash: hash, Before: before}
	r.maybeSet[scope] = struct{}{}
	r.dirty = true
}

// Maybe returns the value sent in scope whose outcome is unknown.
func (r *RunState) Maybe(scope string) (Maybe, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.maybe[scope]
	return m, ok
}

// ForgetMaybe drops the unknown outcome of scope (proven not to have
// landed).
func (r *RunState) ForgetMaybe(scope string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.maybe[scope]; ok {
		delete(r.maybe, scope)
		r.maybeSet[scope] = struct{}{}
		r.dirty = true
	}
}

// Save writes the state (atomically, 0600) when it changed. What this run
// changed is merged into the file as it is on disk: a file written since
// this run read it is read again and only this run's scopes replaced in it;
// a file that cannot be read or trusted is not written over.
func (r *RunState) Save() error {
	if err := r.saveWritten(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dirty || r.path == "" {
		return nil
	}
	if now := statID(r.path); now != r.disk {
		sf, _, err := readStateFile(r.path)
		if err != nil {
			return fmt.Errorf("not saved, the file changed under this run: %w", err)
		}
		if sf.KeyCheck != "" && sf.KeyCheck != keyCheck(r.key) {
			return fmt.Errorf("run state %s: not saved: written since with another hash.key", r.path)
		}
		merged := make(map[string]keyedHash, len(sf.Applied)+len(r.set))
		for k, v := range sf.Applied {
			merged[k], _ = parseKeyedHash(v)
		}
		for k := range r.set {
			merged[k] = r.hashes[k]
		}
		maybe := make(map[string]Maybe, len(sf.Maybe))
		for k, v := range sf.Maybe {
			maybe[k] = v
		}
		for k := range r.maybeSet {
			if m, ok := r.maybe[k]; ok {
				maybe[k] = m
			} else {
				delete(maybe, k)
			}
		}
		r.hashes, r.maybe = merged, maybe
	}
	// One line per secret applied, encoded as it is written: the file's
	// encoding is never held whole.
	keys := make([]string, 0, len(r.hashes))
	for k := range r.hashes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	head := stateFile{Applied: map[string]string{}, Maybe: r.maybe, KeyCheck: keyCheck(r.key)}
	err := writeFileAtomic(r.path, func(w io.Writer) error {
		return json.WriteIndentMap(w, head, "applied", " ", keys, func(k string) any { return r.hashes[k].String() })
	})
	if err != nil {
		return err
	}
	r.disk = statID(r.path)
	r.dirty = false
	clear(r.set)
	clear(r.maybeSet)
	return nil
}

// writeFileAtomic writes a 0600 file, what write writes, through a
// temporary file in the same directory, fsync, rename and a directory
// fsync.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a folder's entries durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// keyedHash is a keyed hash (Hash) as bytes; it reads and writes as hex.
type keyedHash [sha256.Size]byte

func (h keyedHash) String() string { return hex.EncodeToString(h[:]) }

// parseKeyedHash reads a keyed hash written by Hash.
func parseKeyedHash(s string) (keyedHash, bool) {
	var h keyedHash
	return h, hexInto(h[:], []byte(s))
}
