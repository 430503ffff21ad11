package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
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

	f      *os.File
	mu     sync.Mutex // guards buf, seq
	buf    bytes.Buffer
	seq    int64
	syncMu sync.Mutex // one fsync at a time; guards synced, err
	synced int64
	err    error
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
	b := &Backout{Path: path, f: f}
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
		b := &Backout{Path: path, f: f}
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
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("back-out file %s: %w", path, err)
	}
	return &Backout{Path: path, f: f}, nil
}

func (b *Backout) appendLine(v any, durable bool) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.buf.Write(line)
	b.buf.WriteByte('\n')
	b.seq++
	seq := b.seq
	b.mu.Unlock()
	if durable {
		return b.syncUpTo(seq)
	}
	return nil
}

func (b *Backout) syncUpTo(seq int64) error {
	b.syncMu.Lock()
	defer b.syncMu.Unlock()
	if b.err != nil {
		return b.err
	}
	if b.synced >= seq {
		return nil
	}
	b.mu.Lock()
	data := append([]byte(nil), b.buf.Bytes()...)
	b.buf.Reset()
	upto := b.seq
	b.mu.Unlock()
	if _, err := b.f.Write(data); err != nil {
		b.err = fmt.Errorf("back-out file %s: write: %w", b.Path, err)
		return b.err
	}
	if err := b.f.Sync(); err != nil {
		b.err = fmt.Errorf("back-out file %s: sync: %w", b.Path, err)
		return b.err
	}
	b.synced = upto
	return nil
}

// Close writes what is buffered, durably, and closes the file.
func (b *Backout) Close() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	seq := b.seq
	b.mu.Unlock()
	err := b.syncUpTo(seq)
	if cerr := b.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// intent records, durably and before op is sent, what undoes it. For a
// delete it first reads the full object (and a CUPI user's roles), so the
// revert can recreate it; an object it cannot read is not deleted.
func (b *Backout) intent(ctx context.Context, op *Op, t *Targets, o Options) error {
	if b == nil {
		return nil
	}
	e := BackoutEntry{Type: "write", Op: op.ID, Source: op.Src(), Target: op.Target, Cluster: op.Cluster, Kind: op.Kind, Key: op.Key, Action: op.Action,
		Model: op.Model, Hierarchy: op.Hierarchy, Pkid: op.Pkid, UserID: op.UserID, ObjectID: op.ObjectID, RoleID: op.RoleID,
		Template: op.Template, Alias: op.Alias, Time: time.Now().UTC()}
	for _, c := range op.Changes {
		if c.Secret {
			e.NotRestorable = append(e.NotRestorable, c.Field)
			continue
		}
		if op.Action != Create {
			e.Changes = append(e.Changes, c)
		}
	}
	if op.Action == Create && op.Kind != KindUserRole {
		e.Wrote = op.sendBody() // encoded right here, not kept: no copy
	}
	if op.Action == Delete {
		if err := readBeforeImage(ctx, op, &e, t, o); err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			var fe *FatalError
			if errors.As(fatal(err), &fe) {
				return fe
			}
			return fmt.Errorf("not deleted: reading it for the back-out failed: %w", err)
		}
	}
	if err := b.appendLine(e, true); err != nil {
		return &FatalError{Err: err}
	}
	return nil
}

// outcome records how op ended: a failed write needs no undo; a create's
// outcome carries the id it got. Failures are written durably (a revert
// must not take a failed create's object for the run's own).
func (b *Backout) outcome(op *Op) error {
	if b == nil || (op.Status != Done && op.Status != Failed) {
		return nil
	}
	// The operation id ties an outcome to its write line; nothing else is
	// repeated (a tenth of the file's size).
	e := struct {
		Type      string    `json:"type"`
		Op        string    `json:"op"`
		Status    Status    `json:"status"`
		CreatedID string    `json:"created_id,omitempty"`
		Time      time.Time `json:"t"`
	}{"outcome", op.ID, op.Status, op.CreatedID, time.Now().UTC()}
	if err := b.appendLine(e, op.Status == Failed); err != nil {
		return &FatalError{Err: err}
	}
	return nil
}

// readBeforeImage fills e.Before with the full object op deletes.
func readBeforeImage(ctx context.Context, op *Op, e *BackoutEntry, t *Targets, o Options) error {
	read := func(target string, fn func(ctx context.Context) error) error {
		return o.Retry.Do(ctx, t.limiter(target), func(ctx context.Context) (int, error) {
			err := fn(ctx)
			if errors.Is(err, targets.ErrNotFound) {
				return 200, nil // already gone: the delete will tell
			}
			return status(err), err
		})
	}
	if k := kinds[op.Kind]; k != nil {
		return k.beforeImage(ctx, op, e, t, read)
	}
	return nil
}

// objectMap copies a CUPI object, without the fields in drop.
func objectMap(obj cupi.Object, drop map[string]bool) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		if !drop[k] {
			out[k] = v
		}
	}
	return out
}

// stripVOSS copies a VOSS instance's fields without write-only values
// (and, for a create body, without read-only and unknown fields).
func stripVOSS(f *schema.Field, data map[string]any, forCreate bool) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		var c *schema.Field
		if f != nil {
			c = f.Child(k)
		}
		if c != nil && c.Secret || forCreate && (c == nil || c.ReadOnly) {
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			out[k] = stripVOSS(c, t, forCreate)
		case []any:
			arr := make([]any, 0, len(t))
			for _, el := range t {
				if m, ok := el.(map[string]any); ok {
					arr = append(arr, stripVOSS(c, m, forCreate))
				} else {
					arr = append(arr, el)
				}
			}
			out[k] = arr
		case string:
			if strings.HasPrefix(t, "sha256:") {
				continue // a hashed secret some server echoes
			}
			out[k] = v
		default:
			out[k] = v
		}
	}
	return out
}

// backoutRefused fails op when what undoes it could not be recorded: a
// write the back-out cannot undo is not sent. It returns the errors that
// stop the run.
func backoutRefused(op *Op, rc *rowCtx, err error) error {
	rc.failed[op.Target] = true
	if errors.Is(err, context.Canceled) {
		op.Status, op.Error = Skipped, "not run: interrupted"
		return err
	}
	op.Status, op.Error = Failed, err.Error()
	var fe *FatalError
	if errors.As(err, &fe) {
		return err
	}
	return nil
}

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

// secretPaths names the write-only fields of a model.
func secretPaths(f *schema.Field, prefix string) []string {
	var out []string
	for _, c := range f.Fields {
		if c.Secret {
			out = append(out, prefix+c.Name)
		}
		out = append(out, secretPaths(c, prefix+c.Name+".")...)
	}
	return out
}
