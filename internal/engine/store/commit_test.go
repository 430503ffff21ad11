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
	bIn, bOut := holdFsync(b.log)
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
		jm, err := j.Buffer(Entry{Type: "intent", Op: op})
		if err != nil {
			errs[i] = err
			return
		}
		jerr, berr := Sync(jm, bm)
		if jerr != nil {
			errs[i] = jerr
		} else {
			errs[i] = berr
		}
	}
	wg.Add(1)
	go intent(0)
	wait(t, jIn, "the journal's fsync")
	wait(t, bIn, "the back-out file's fsync while the journal's is held")
	wg.Add(n - 1)
	for i := 1; i < n; i++ {
		go intent(i)
	}
	for j.log.last() < n+1 || b.log.last() < n+1 { // the run line and header, then n each
		time.Sleep(time.Millisecond)
	}
	close(jOut)
	close(bOut)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if got := Fsyncs() - start; got != 4 {
		t.Errorf("%d writes took %d fsyncs, want 4 (two rounds of the two files)", n, got)
	}
	// Everything synced is on disk before Close.
	for _, p := range []string{j.Path, b.Path} {
		raw, _ := os.ReadFile(p)
		if c := strings.Count(string(raw), `"op-`); c != n {
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
