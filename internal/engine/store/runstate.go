package store

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

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
type RunState struct {
	path string
	key  []byte

	mu     sync.Mutex
	hashes map[string]keyedHash // by scope; bytes, not hex: one per secret applied, held all run (issue 14)
	maybe  map[string]Maybe
	dirty  bool
}

// Maybe is a value sent whose outcome is unknown: its keyed hash and the
// credential's TimeChanged before the set.
type Maybe struct {
	Hash   string `json:"hash"`
	Before string `json:"before"`
}

// stateFile is the on-disk form of a RunState.
type stateFile struct {
	Applied map[string]string `json:"applied"`
	Maybe   map[string]Maybe  `json:"maybe,omitempty"`
}

// OpenRunState opens (or creates) the run state in dir.
func OpenRunState(dir string) (*RunState, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("run state: %w", err)
	}
	keyPath := filepath.Join(dir, "hash.key")
	key, err := os.ReadFile(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(keyPath, func(w io.Writer) error { _, err := w.Write(key); return err }); err != nil {
			return nil, fmt.Errorf("run state: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("run state: %w", err)
	}
	rs := &RunState{path: filepath.Join(dir, "applied-secrets.json"), key: key, hashes: map[string]keyedHash{}, maybe: map[string]Maybe{}}
	if b, err := os.ReadFile(rs.path); err == nil {
		var sf stateFile
		if err := json.Unmarshal(b, &sf); err != nil {
			return nil, fmt.Errorf("run state %s: %w (delete the file to forget which secrets were applied)", rs.path, err)
		}
		for k, v := range sf.Applied {
			if h, ok := parseKeyedHash(v); ok {
				rs.hashes[k] = h
			} // else unreadable: unknown, so the value is sent again
		}
		for k, v := range sf.Maybe {
			rs.maybe[k] = v
		}
	}
	return rs, nil
}

// NewMemoryRunState returns a run state that is never saved (for --sim).
func NewMemoryRunState() *RunState {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &RunState{key: key, hashes: map[string]keyedHash{}, maybe: map[string]Maybe{}}
}

// Hash returns the keyed hash of value in scope.
func (r *RunState) Hash(scope, value string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
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
		r.dirty = true
	}
	if _, ok := r.maybe[scope]; ok {
		delete(r.maybe, scope)
		r.dirty = true
	}
}

// SetMaybe records that the value with hash was sent in scope but its
// outcome is unknown; before is the credential's TimeChanged before it.
func (r *RunState) SetMaybe(scope, hash, before string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.maybe[scope] = Maybe{Hash: hash, Before: before}
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
		r.dirty = true
	}
}

// Save writes the state (atomically, 0600) when it changed.
func (r *RunState) Save() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dirty || r.path == "" {
		return nil
	}
	// One line per secret applied, encoded as it is written: the file's
	// encoding is never held whole.
	keys := make([]string, 0, len(r.hashes))
	for k := range r.hashes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	head := stateFile{Applied: map[string]string{}, Maybe: r.maybe}
	err := writeFileAtomic(r.path, func(w io.Writer) error {
		return json.WriteIndentMap(w, head, "applied", " ", keys, func(k string) any { return r.hashes[k].String() })
	})
	if err != nil {
		return err
	}
	r.dirty = false
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
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// keyedHash is a keyed hash (Hash) as bytes; it reads and writes as hex.
type keyedHash [sha256.Size]byte

func (h keyedHash) String() string { return hex.EncodeToString(h[:]) }

// parseKeyedHash reads a keyed hash written by Hash.
func parseKeyedHash(s string) (keyedHash, bool) {
	var h keyedHash
	return h, hexInto(h[:], []byte(s))
}
