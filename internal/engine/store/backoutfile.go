package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// The back-out file is JSON Lines: a header, then per write an entry
// written durably before the write is sent (with the before-image a
// delete needs) and an outcome after it. A crashed run therefore still
// has the back-out of everything it may have done; an entry without an
// outcome is a write that may or may not have landed, and the revert plan
// decides by reading the current state. It never holds a secret: the
// write-only fields a write sent are only named, as not restorable.

// BackoutVersion is the version of the back-out file format.
const BackoutVersion = 1

// BackoutHeader is the first line of a back-out file: the targets and
// config of the run it undoes.
type BackoutHeader struct {
	Type    string          `json:"type"` // "backout"
	Version int             `json:"version"`
	Command string          `json:"command"` // "apply" or "apply --revert"
	Targets BackoutTargets  `json:"targets"`
	Config  json.RawMessage `json:"config,omitempty"`
	Journal string          `json:"journal,omitempty"`
	Started time.Time       `json:"started"`
}

// BackoutTargets are the normalised base URLs of a run's targets: VOSS,
// the Unity Connection of --cupi, and the other clusters by name (their
// URLs also come from the config's cupiClusters).
type BackoutTargets struct {
	VOSS     string            `json:"voss,omitempty"`
	CUPI     string            `json:"cupi,omitempty"`
	Clusters map[string]string `json:"clusters,omitempty"`
}

// BackoutRole is a CUPI role a user held.
type BackoutRole struct {
	RoleID string `json:"role_id"`
	Name   string `json:"name"`
}

// BackoutEntry is one write of a run and what undoes it.
type BackoutEntry struct {
	Type   string `json:"type"` // "write" (before it is sent) or "outcome"
	Op     string `json:"op"`
	Source Source `json:"source"`
	Target string `json:"target,omitempty"`
	// Cluster is the Unity Connection cluster of a CUPI write.
	Cluster string `json:"cluster,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Key     string `json:"key,omitempty"`
	Action  Action `json:"action,omitempty"`

	Model     string `json:"model,omitempty"`
	Hierarchy string `json:"hierarchy,omitempty"`
	Pkid      string `json:"pkid,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	ObjectID  string `json:"object_id,omitempty"`
	RoleID    string `json:"role_id,omitempty"`
	Template  string `json:"template,omitempty"`
	Alias     string `json:"alias,omitempty"`

	// Changes are the field changes of an update (old is what a revert
	// restores); Wrote is what a create sent; Before the full object read
	// just before a delete (and BeforeRoles the CUPI roles it held).
	Changes     []Change       `json:"changes,omitempty"`
	Wrote       map[string]any `json:"wrote,omitempty"`
	Before      map[string]any `json:"before_image,omitempty"`
	BeforeRoles []BackoutRole  `json:"before_roles,omitempty"`
	// NotRestorable names the write-only fields the write sent or lost.
	NotRestorable []string `json:"not_restorable,omitempty"`

	Status    Status    `json:"status,omitempty"`
	CreatedID string    `json:"created_id,omitempty"`
	Time      time.Time `json:"t"`
}

// Backout is an open back-out file, appended to as a run writes. Safe for
// concurrent use; durable lines share one fsync (group commit).
type Backout struct {
	Path string

	f   *os.File
	log *logFile
}

func newBackout(path string, f *os.File) *Backout {
	return &Backout{Path: path, f: f, log: newLogFile(path, f, func(step string, err error) error {
		return fmt.Errorf("back-out file %s: %s: %w", path, step, err)
	})}
}

// CreateBackout creates the back-out file at path (mode 0600) with its
// header, durably. It never overwrites a file: an existing path is an
// error wrapping os.ErrExist.
func CreateBackout(path string, h BackoutHeader) (*Backout, error) {
	// O_EXCL: never an existing file, nor through a symbolic link.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("back-out file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("back-out file: %w", err)
	}
	b := newBackout(path, f)
	h.Type, h.Version = "backout", BackoutVersion
	if h.Started.IsZero() {
		h.Started = time.Now().UTC()
	}
	if err := b.appendLine(h, true); err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

// AppendBackout opens the back-out file of an interrupted run to go on
// appending to it; a torn last line (a crash mid-write) is cut. A file
// whose header never reached the disk whole (0 bytes, or the header cut
// short: the run was killed at its first write, before any write was
// sent) gets header h written afresh. A file that is not a bulkprov
// back-out file is refused, as is a symbolic link.
func AppendBackout(path string, h BackoutHeader) (*Backout, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			err = fmt.Errorf("is a symbolic link: %w", ErrNotOurs)
			return nil, fmt.Errorf("back-out file %s: %w", path, err)
		}
		return nil, fmt.Errorf("back-out file of the interrupted run: %w", err)
	}
	if st, serr := f.Stat(); serr != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("back-out file %s: not a regular file: %w", path, ErrNotOurs)
	}
	first := "" // the first line's type (a line always has one)
	good := int64(0)
	err = ownFile(f, "backout")
	if err == nil {
		good, err = scanJournal(f, func(e Entry) {
			if first == "" {
				first = e.Type
			}
		})
	}
	if err == nil && first == "" && good == 0 {
		// No whole line: the header was lost with the crash. Nothing
		// after it was written (each write's line follows the header's
		// fsync), so the header is written again.
		b := newBackout(path, f)
		if err = f.Truncate(0); err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err == nil {
			h.Type, h.Version = "backout", BackoutVersion
			if h.Started.IsZero() {
				h.Started = time.Now().UTC()
			}
			err = b.appendLine(h, true)
		}
		if err == nil {
			err = b.repair(h.Journal)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("back-out file %s: rebuilding its header: %w", path, err)
		}
		return b, nil
	}
	if err == nil && first != "backout" {
		err = ErrNotOurs
	}
	if err == nil {
		err = f.Truncate(good)
	}
	if err == nil {
		_, err = f.Seek(good, io.SeekStart)
	}
	b := newBackout(path, f)
	if err == nil {
		err = b.repair(h.Journal)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("back-out file %s: %w", path, err)
	}
	return b, nil
}

// repair appends, durably, the lines the file lost in a machine crash and
// the journal carries (lostBackoutLines). The file's offset is at its end.
func (b *Backout) repair(journal string) error {
	if journal == "" {
		return nil
	}
	size, err := b.f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := b.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	lost, err := lostBackoutLines(b.Path, journal, io.LimitReader(b.f, size))
	if _, serr := b.f.Seek(size, io.SeekStart); err == nil {
		err = serr
	}
	if err != nil || len(lost) == 0 {
		return err
	}
	if _, err := b.f.Write(lost); err != nil {
		return err
	}
	return b.f.Sync()
}

func (b *Backout) appendLine(v any, durable bool) error {
	m, err := b.buffer(v)
	if err == nil && durable {
		err = m.l.syncUpTo(m.seq)
	}
	return err
}

func (b *Backout) buffer(v any) (Mark, error) {
	line, err := json.Marshal(v)
	if err != nil {
		return Mark{}, err
	}
	seq, big := b.log.add(line)
	if big {
		if err := b.log.syncUpTo(seq); err != nil {
			return Mark{}, err
		}
	}
	return Mark{l: b.log, seq: seq, line: line}, nil
}

// Close writes what is buffered, durably, and closes the file.
func (b *Backout) Close() error {
	if b == nil {
		return nil
	}
	err := b.log.syncUpTo(b.log.last())
	if cerr := b.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// NotRestorable is a write-only value a revert cannot put back (a
// password, a PIN, a server password), with the row it came from.
type NotRestorable struct {
	Source Source `json:"source"`
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Field  string `json:"field"`
}

// BackoutFile is a back-out file as read: its header and, per operation
// of the run, what undoes it. Writes that failed are left out; the
// attempts of one operation across resumed runs are merged (the oldest
// old value, the newest written value).
type BackoutFile struct {
	Header  BackoutHeader
	Entries []*BackoutEntry
}

// ReadBackout reads a back-out file. A torn last line (the run was killed
// while writing it) is ignored; a bad line elsewhere is an error. Lines
// the file lost in a machine crash are read from its run's journal (the
// header names it), when it is still there.
func ReadBackout(path string) (*BackoutFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bf, err := ParseBackout(b)
	if err != nil || bf.Header.Journal == "" {
		return bf, err
	}
	// Lines a machine crash took from the file's tail, from the journal
	// that carried them (SyncCarried); a torn last line goes first.
	whole := b[:bytes.LastIndexByte(b, '\n')+1]
	lost, err := lostBackoutLines(path, bf.Header.Journal, bytes.NewReader(whole))
	if err != nil || len(lost) == 0 {
		return bf, nil // the file as it is: the journal is only a help
	}
	return ParseBackout(append(whole[:len(whole):len(whole)], lost...))
}

// ParseBackout parses the contents of a back-out file.
func ParseBackout(b []byte) (*BackoutFile, error) {
	br := bufio.NewReader(bytes.NewReader(b))
	bf := &BackoutFile{}
	latest := map[string]*BackoutEntry{}
	var attempts []*BackoutEntry
	var bad error
	for line := 1; ; line++ {
		raw, err := br.ReadBytes('\n')
		if len(raw) == 0 && err == io.EOF {
			break
		}
		if bad != nil {
			return nil, bad
		}
		text := bytes.TrimSpace(raw)
		if len(text) == 0 {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(text))
		d.UseNumber()
		if line == 1 {
			if err := d.Decode(&bf.Header); err != nil || bf.Header.Type != "backout" {
				return nil, errors.New("not a bulkprov back-out file")
			}
			if bf.Header.Version != BackoutVersion {
				return nil, fmt.Errorf("unsupported back-out file version %d", bf.Header.Version)
			}
			continue
		}
		var e BackoutEntry
		if derr := d.Decode(&e); derr != nil || raw[len(raw)-1] != '\n' {
			bad = fmt.Errorf("corrupt line %d", line)
			continue
		}
		switch e.Type {
		case "write":
			a := e
			attempts = append(attempts, &a)
			latest[e.Op] = &a
		case "outcome":
			if a := latest[e.Op]; a != nil {
				a.Status = e.Status
				if e.CreatedID != "" {
					a.CreatedID = e.CreatedID
				}
			}
		}
	}
	if bf.Header.Type == "" {
		return nil, errors.New("not a bulkprov back-out file (empty)")
	}
	merged := map[string]*BackoutEntry{}
	for _, a := range attempts {
		if a.Status == Failed {
			continue
		}
		base := merged[a.Op]
		if base == nil {
			merged[a.Op] = a
			bf.Entries = append(bf.Entries, a)
			continue
		}
		mergeAttempt(base, a)
	}
	return bf, nil
}

// mergeAttempt folds a later attempt of the same operation into base: the
// old values stay the first attempt's (the state before the run), the
// written values become the latest.
func mergeAttempt(base, a *BackoutEntry) {
	for _, c := range a.Changes {
		found := false
		for i := range base.Changes {
			if base.Changes[i].Field == c.Field {
				base.Changes[i].New, found = c.New, true
			}
		}
		if !found && base.Action != Create {
			base.Changes = append(base.Changes, c)
		}
		if base.Action == Create && base.Wrote != nil {
			plan.SetDotted(base.Wrote, c.Field, c.New)
		}
	}
	if a.Action == Create && a.Wrote != nil {
		base.Wrote = a.Wrote
	}
	if a.CreatedID != "" {
		base.CreatedID = a.CreatedID
	}
	if a.Status == Done {
		base.Status = Done
	}
	if base.Before == nil {
		base.Before, base.BeforeRoles = a.Before, a.BeforeRoles
	}
	for _, f := range a.NotRestorable {
		if !contains(base.NotRestorable, f) {
			base.NotRestorable = append(base.NotRestorable, f)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Write records, durably, e: one write of the run and what undoes it,
// before the write is sent. Safe for concurrent use.
func (b *Backout) Write(e BackoutEntry) error { return b.appendLine(e, true) }

// Buffer appends e, one write of the run and what undoes it, without
// waiting for it to be durable: Sync with the returned mark makes it so,
// and the write must not be sent before. Safe for concurrent use.
func (b *Backout) Buffer(e BackoutEntry) (Mark, error) { return b.buffer(e) }

// Outcome records how operation op ended: a failed write needs no undo; a
// create's outcome carries the id it got. Failures are written durably (a
// revert must not take a failed create's object for the run's own).
// Safe for concurrent use.
func (b *Backout) Outcome(op string, status Status, createdID string) error {
	// The operation id ties an outcome to its write line; nothing else is
	// repeated (a tenth of the file's size).
	e := struct {
		Type      string    `json:"type"`
		Op        string    `json:"op"`
		Status    Status    `json:"status"`
		CreatedID string    `json:"created_id,omitempty"`
		Time      time.Time `json:"t"`
	}{"outcome", op, status, createdID, time.Now().UTC()}
	return b.appendLine(e, status == Failed)
}
