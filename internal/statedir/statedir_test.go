package statedir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSecondRunIsRefusedNamingTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	first, err := Open(context.Background(), dir, Options{Command: "bulkprov apply a.csv"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = Open(context.Background(), dir, Options{Command: "bulkprov apply b.csv"})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second open: %v, want a LockedError", err)
	}
	if le.Holder.PID != os.Getpid() || le.Holder.Command != "bulkprov apply a.csv" || le.Holder.Host == "" || le.Holder.Started.IsZero() {
		t.Errorf("holder %+v", le.Holder)
	}
	for _, want := range []string{dir, "pid ", `"bulkprov apply a.csv"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// A waiting run gets the folder once the holder lets go: here the holder
// lets go when told someone waits (no clock in the test).
func TestWaitingRunGetsTheFolderWhenReleased(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(context.Background(), dir, Options{Command: "first"})
	if err != nil {
		t.Fatal(err)
	}
	told := 0
	second, err := Open(context.Background(), dir, Options{Command: "second", Wait: time.Hour, Poll: time.Millisecond,
		Waiting: func(h Holder, wait time.Duration) {
			told++
			if h.Command != "first" || wait != time.Hour {
				t.Errorf("waiting on %+v for %s", h, wait)
			}
			first.Close()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if told != 1 {
		t.Errorf("told %d times of the wait", told)
	}
	if h := readHolder(filepath.Join(dir, LockName)); h.Command != "second" {
		t.Errorf("lock file names %+v after the second took it", h)
	}
}

// A lock file left by a crashed run (facts in it, no flock) is no obstacle.
func TestStaleLockFileIsTaken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, LockName), []byte(`{"pid":999999,"host":"gone","command":"crashed"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), dir, Options{Command: "next"})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestFolderModes(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "a", "b")
	if err := Ensure(fresh); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o700 {
		t.Errorf("new state folder mode %04o, want 0700", st.Mode().Perm())
	}
	// Group-writable is refused unless the group is the user's own
	// (gid = uid, the user in it): here a group that is not.
	other := os.Geteuid() + 1
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		open := filepath.Join(base, "open"+mode.String())
		if err := os.Mkdir(open, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(open, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(open, -1, other); err != nil && mode == 0o770 {
			t.Skipf("cannot give the folder another group: %v", err)
		}
		_, err := Open(context.Background(), open, Options{})
		var ue *UnsafeError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "chmod go-w") {
			t.Errorf("mode %04o: %v, want refused", mode, err)
		}
		if _, err := os.Lstat(filepath.Join(open, LockName)); err == nil {
			t.Errorf("mode %04o: a lock file was made in a refused folder", mode)
		}
	}
	// Kubernetes: fsGroup = runAsUser makes the volume 2770 in the
	// user's own group: accepted.
	own := filepath.Join(base, "own-group")
	os.Mkdir(own, 0o700)
	if err := os.Chown(own, -1, os.Geteuid()); err == nil && privateGroupMember() {
		os.Chmod(own, 0o2770)
		if err := Ensure(own); err != nil {
			t.Errorf("folder in the user's own group: %v", err)
		}
	}
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	if err := Ensure(file); err == nil {
		t.Error("a file taken for a state folder")
	}
}

// A symlink where the lock file belongs is not followed.
func TestLockSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	if err := os.Symlink(victim, filepath.Join(dir, LockName)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); err == nil {
		t.Fatal("lock taken through a symlink")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("victim now %q", b)
	}
}

func privateGroupMember() bool {
	if os.Getegid() == os.Geteuid() {
		return true
	}
	gs, _ := os.Getgroups()
	for _, g := range gs {
		if g == os.Geteuid() {
			return true
		}
	}
	return false
}
