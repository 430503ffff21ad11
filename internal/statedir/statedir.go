// Package statedir guards a state folder: one run at a time holds it, by
// an flock on its lock file, and the folder is private to its user. It
// knows nothing of what the folder holds.
//
// The lock is the kernel's: it is released when the process exits, however
// it exits, so a lock left by a crashed run is never in the way (the holder
// facts it wrote stay in the file, and are written over by the next run).
package statedir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
)

// LockName is the lock file's name in the folder.
const LockName = "lock"

// DefaultWait is how long a run waits for another to let go of the folder.
const DefaultWait = 5 * time.Minute

// Holder is who holds a folder: written into the lock file by the run
// holding it.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another bulkprov run (it left no details)"
	}
	return fmt.Sprintf("pid %d on %s, %q, started %s", h.PID, h.Host, h.Command, h.Started.UTC().Format(time.RFC3339))
}

// LockedError is a folder another run still held when the wait ended.
type LockedError struct {
	Path   string
	Holder Holder
	Waited time.Duration
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("state folder %s is held by %s; waited %s (--wait)", e.Path, e.Holder, e.Waited.Round(time.Second))
}

// UnsafeError is a state folder others may write: refused, as whoever can
// write it can plant records or links.
type UnsafeError struct {
	Path string
	Mode os.FileMode
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("state folder %s is writable by others (mode %04o): refused, as whoever can write it can plant records or links; run chmod go-w %s (or 700) if it is yours, or use another --state-dir", e.Path, e.Mode.Perm(), e.Path)
}

// Options say how to take a folder.
type Options struct {
	// Wait is how long to wait for another run (0: do not wait).
	Wait time.Duration
	// Command is what this run is, for the holder facts.
	Command string
	// Waiting, when set, is called once when the folder is held by
	// another run and this one starts waiting.
	Waiting func(h Holder, wait time.Duration)
	// Poll is the interval between tries while waiting (default 250ms).
	Poll time.Duration
}

// Dir is a state folder this run holds.
type Dir struct {
	Path string
	lock *os.File
}

// Ensure creates the folder path (0700, parents as needed) or checks an
// existing one: a folder, not group- or world-writable.
func Ensure(path string) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("state folder: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("state folder: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("state folder %s is not a folder", path)
	}
	perm := st.Mode().Perm()
	if perm&0o002 != 0 || perm&0o020 != 0 && !privateGroup(st) {
		return &UnsafeError{Path: path, Mode: st.Mode()}
	}
	return nil
}

// privateGroup reports whether a folder's group is the running user's
// own: its id is the user's id and the user is in it (a user-private
// group, as Kubernetes' fsGroup equal to runAsUser makes a volume
// group-writable). Writable by that group is writable by the user alone.
func privateGroup(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	uid := os.Geteuid()
	if !ok || int(sys.Gid) != uid {
		return false
	}
	if os.Getegid() == uid {
		return true
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if g == uid {
			return true
		}
	}
	return false
}

// Open ensures the folder and takes its lock, waiting up to o.Wait for
// another run to let go (or ctx to end). The holder facts are written into
// the lock file. Close lets go.
func Open(ctx context.Context, path string, o Options) (*Dir, error) {
	if err := Ensure(path); err != nil {
		return nil, err
	}
	lp := filepath.Join(path, LockName)
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	readOnly := false
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EROFS) {
		// A folder this user may only read (a plan by an auditor, a
		// read-only mount): the lock is taken on the file as it is; the
		// holder facts cannot be written.
		if ro, rerr := os.OpenFile(lp, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0); rerr == nil {
			f, err, readOnly = ro, nil, true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("state folder lock %s: %w", lp, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("state folder lock %s: not a regular file", lp)
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	start := time.Now()
	deadline := start.Add(o.Wait)
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("state folder lock %s: %w", lp, err)
		}
		h := readHolder(lp)
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, &LockedError{Path: path, Holder: h, Waited: time.Since(start)}
		}
		if !told && o.Waiting != nil {
			o.Waiting(h, o.Wait)
			told = true
		}
		t := time.NewTimer(min(poll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, &LockedError{Path: path, Holder: h, Waited: time.Since(start)}
		case <-t.C:
		}
	}
	if readOnly {
		return &Dir{Path: path, lock: f}, nil
	}
	host, _ := os.Hostname()
	h := Holder{PID: os.Getpid(), Host: host, Command: o.Command, Started: time.Now().UTC()}
	b, _ := json.Marshal(h)
	b = append(b, '\n')
	// Written in place, under the lock: a reader sees the facts or a
	// short read, never another run's file.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(b, 0)
	}
	return &Dir{Path: path, lock: f}, nil
}

// readHolder reads the holder facts of the lock file; a file being written
// reads as no facts.
func readHolder(path string) Holder {
	var h Holder
	b, err := os.ReadFile(path)
	if err != nil {
		return h
	}
	if json.Unmarshal([]byte(strings.TrimSpace(string(b))), &h) != nil {
		return Holder{}
	}
	return h
}

// Close lets go of the folder. The holder facts are left in the file (the
// lock, not the file, says whether it is held).
func (d *Dir) Close() error {
	if d == nil || d.lock == nil {
		return nil
	}
	err := d.lock.Close()
	d.lock = nil
	return err
}

// CommandLine is a short form of the process's command line for the holder
// facts: the program's base name and its arguments.
func CommandLine() string {
	args := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	for i, a := range args {
		if strings.ContainsAny(a, " \t\"'") {
			args[i] = strconv.Quote(a)
		}
	}
	s := strings.Join(args, " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
