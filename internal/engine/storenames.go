package engine

import (
	"io"

	"github.com/bulkprov/bulkprov/internal/engine/store"
)

// The state room's names (package store), as cmd and the tests know them.
type (
	Journal         = store.Journal
	Entry           = store.Entry
	CheckpointError = store.CheckpointError
	BindingError    = store.BindingError
	RunState        = store.RunState
	Maybe           = store.Maybe
	NotRestorable   = store.NotRestorable
	Backout         = store.Backout
	BackoutFile     = store.BackoutFile
	BackoutHeader   = store.BackoutHeader
	BackoutTargets  = store.BackoutTargets
	BackoutRole     = store.BackoutRole
	BackoutEntry    = store.BackoutEntry
)

// The run state's file names in a state folder (store.RunStateFile, store.HashKeyFile).
const (
	RunStateFile = store.RunStateFile
	HashKeyFile  = store.HashKeyFile
)

// BackoutVersion is the version of the back-out file format.
const BackoutVersion = store.BackoutVersion

// ErrLocked means another run holds the checkpoint.
var ErrLocked = store.ErrLocked

// ErrNotOurs is a checkpoint or back-out path holding something bulkprov did not write.
var ErrNotOurs = store.ErrNotOurs

// OpenJournal opens or creates the checkpoint journal (store.OpenJournal).
func OpenJournal(path, binding string, fresh bool) (*Journal, error) {
	return store.OpenJournal(path, binding, fresh)
}

// ReadEntries reads journal lines (store.ReadEntries).
func ReadEntries(r io.Reader) ([]Entry, error) { return store.ReadEntries(r) }

// OpenRunState opens (or creates) the run state in dir (store.OpenRunState).
func OpenRunState(dir string, forceSecrets bool) (*RunState, error) {
	return store.OpenRunState(dir, forceSecrets)
}

// NewMemoryRunState returns a run state that is never saved (store.NewMemoryRunState).
func NewMemoryRunState() *RunState { return store.NewMemoryRunState() }

// CreateBackout creates a back-out file (store.CreateBackout).
func CreateBackout(path string, h BackoutHeader) (*Backout, error) {
	return store.CreateBackout(path, h)
}

// AppendBackout opens an interrupted run's back-out file (store.AppendBackout).
func AppendBackout(path string, h BackoutHeader) (*Backout, error) {
	return store.AppendBackout(path, h)
}

// DefaultKeep is how many completed runs' files a state folder keeps (store.DefaultKeep).
const DefaultKeep = store.DefaultKeep

// PruneCheckpoints removes completed runs' files beyond keep (store.PruneCheckpoints).
func PruneCheckpoints(dir string, keep int, except ...string) ([]string, error) {
	return store.PruneCheckpoints(dir, keep, except...)
}

// CheckOwnPath refuses a path that holds something not bulkprov's (store.CheckOwnPath).
func CheckOwnPath(path, typ string) error { return store.CheckOwnPath(path, typ) }

// ReadBackout reads a back-out file (store.ReadBackout).
func ReadBackout(path string) (*BackoutFile, error) { return store.ReadBackout(path) }

// ParseBackout parses the contents of a back-out file (store.ParseBackout).
func ParseBackout(b []byte) (*BackoutFile, error) { return store.ParseBackout(b) }
