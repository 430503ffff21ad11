package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdFsync makes the next fsync of l signal entered and wait for release;
// later fsyncs run at once.
func holdFsync(l *logFile) (entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	real := l.fsync
	var once sync.Once
	l.fsync = func() error {
		held := false
		once.Do(func() { held = true })
		if held {
			close(entered)
			<-release
		}
		return real()
	}
	return entered, release
}

func wait(t *testing.T, c chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second): // a hang, not a timing
		t.Fatalf("%s never happened", what)
	}
}

// A write's journal intent and back-out line are synced at once (the
// back-out file's fsync runs while the journal's is held), and the intents
// and back-out lines of the writes that append while a round of fsyncs
// runs all share the next round: N writes, 2 rounds of 2 fsyncs.
func TestGroupCommitFoldsIntentsAndBackout(t *testing.T) {
	t.Run("both synced", func(t *testing.T) { groupCommit(t, false) })
	t.Run("intent carries the back-out line", func(t *testing.T) { groupCommit(t, true) })
}

// groupCommit: with carried, the back-out file is written in each round
// without an fsync of its own: 2 fsyncs for the N writes, not 4.
func groupCommit(t *testing.T, carried bool) {
	dir := t.TempDir()
	j, err := OpenJournal(filepath.Join(dir, "run.journal"), "bind", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := CreateBackout(filepath.Join(dir, "run.backout.json"), BackoutHeader{Command: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	jIn, jOut := holdFsync(j.log)
	var bIn, bOut chan struct{}
	if !carried { // carried: the back-out file's fsync is not called
		bIn, bOut = holdFsync(b.log)
	}
	start := Fsyncs()
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	intent := func(i int) {
		defer wg.Done()
		op := fmt.Sprintf("op-%02d", i)
		bm, err := b.Buffer(BackoutEntry{Type: "write", Op: op})
		if err != nil {
			errs[i] = err
			return
		}
		e := Entry{Type: "intent", Op: op}
		sync := Sync
		if carried {
			e.BackoutLine, sync = bm.Line(), SyncCarried
		}
		jm, err := j.Buffer(e)
		if err != nil {
			errs[i] = err
			return
		}
		jerr, berr := sync(jm, bm)
		if jerr != nil {
			errs[i] = jerr
		} else {
			errs[i] = berr
		}
	}
	wg.Add(1)
	go intent(0)
	wait(t, jIn, "the journal's fsync")
	if !carried {
		wait(t, bIn, "the back-out file's fsync while the journal's is held")
	}
	wg.Add(n - 1)
	for i := 1; i < n; i++ {
		go intent(i)
	}
	for j.log.last() < n+1 || b.log.last() < n+1 { // the run line and header, then n each
		time.Sleep(time.Millisecond)
	}
	close(jOut)
	if !carried {
		close(bOut)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	want := int64(4) // two rounds of the two files
	if carried {
		want = 2 // two rounds of the journal
	}
	if got := Fsyncs() - start; got != want {
		t.Errorf("%d writes took %d fsyncs, want %d", n, got, want)
	}
	// Everything synced is on disk before Close.
	for p, line := range map[string]string{j.Path: `{"type":"intent","op":"op-`, b.Path: `{"type":"write","op":"op-`} {
		raw, _ := os.ReadFile(p)
		if c := strings.Count(string(raw), "\n"+line); c != n {
			t.Errorf("%s holds %d of the %d lines after their sync", filepath.Base(p), c, n)
		}
	}
	if err := j.Close(true); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// A machine crash after the journal's fsync can take the back-out file's
// unsynced tail (SyncCarried wrote it without an fsync of its own): the
// lost write lines and their outcomes come back from the journal, when
// the file is read (ReadBackout) and when a resumed run appends to it
// (AppendBackout), and only the lines this file lost.
func TestBackoutLinesLostInACrashComeBackFromTheJournal(t *testing.T) {
	dir := t.TempDir()
	jpath, bpath := filepath.Join(dir, "run.journal"), filepath.Join(dir, "run.backout.json")
	j, err := OpenJournal(jpath, "bind", false)
	if err != nil {
		t.Fatal(err)
	}
	h := BackoutHeader{Command: "apply", Journal: jpath}
	b, err := CreateBackout(bpath, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.RecordBackout(bpath); err != nil {
		t.Fatal(err)
	}
	var sizes []int64 // the back-out file's size after each write's round
	for i := 0; i < 4; i++ {
		op := fmt.Sprintf("op-%d", i)
		bm, err := b.Buffer(BackoutEntry{Type: "write", Op: op, Kind: "k", Key: op, Action: Create})
		if err != nil {
			t.Fatal(err)
		}
		jm, _ := j.Buffer(Entry{Type: "intent", Op: op, BackoutLine: bm.Line()})
		if jerr, berr := SyncCarried(jm, bm); jerr != nil || berr != nil {
			t.Fatal(jerr, berr)
		}
		if i < 3 { // the last write's outcome never came
			_ = j.Append(Entry{Type: "outcome", Op: op, Status: Done, ID: "id-" + op}, false)
			_ = b.Outcome(op, Done, "id-"+op)
		}
		st, _ := os.Stat(bpath)
		sizes = append(sizes, st.Size())
	}
	if err := j.Close(false); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	whole, _ := os.ReadFile(bpath)
	// The crash: the file keeps what it had after the second write's
	// round and half a line of the third.
	cut := append(whole[:sizes[1]:sizes[1]], `{"type":"write","op":"op-2","so`...)
	if err := os.WriteFile(bpath, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(when string, bf *BackoutFile, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		got := map[string]Status{}
		for _, e := range bf.Entries {
			got[e.Op] = e.Status
			if e.Status == Done && e.CreatedID != "id-"+e.Op {
				t.Errorf("%s: %s created %q", when, e.Op, e.CreatedID)
			}
		}
		var unknown Status // no outcome: may or may not have landed
		want := map[string]Status{"op-0": Done, "op-1": Done, "op-2": Done, "op-3": unknown}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: entries %v, want %v", when, got, want)
		}
	}
	bf, err := ReadBackout(bpath)
	check("read after the crash", bf, err)
	// The resumed run's append puts them in the file itself.
	j2, err := OpenJournal(jpath, "bind", false)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := AppendBackout(bpath, h)
	if err != nil {
		t.Fatal(err)
	}
	b2.Close()
	j2.Close(true)
	if err := os.Rename(jpath, jpath+".gone"); err != nil {
		t.Fatal(err)
	}
	bf, err = ReadBackout(bpath)
	check("read after the resume, without the journal", bf, err)
	// A file the journal does not name gets nothing from it.
	other := filepath.Join(dir, "other.backout.json")
	if err := os.WriteFile(other, cut[:sizes[0]], 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Rename(jpath+".gone", jpath)
	bf, err = ReadBackout(other)
	if err != nil || len(bf.Entries) != 1 {
		t.Errorf("another file: %v, %d entries, want its 1", err, len(bf.Entries))
	}
}
