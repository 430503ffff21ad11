package store

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultKeep is how many completed runs' checkpoints and back-out files a
// state folder keeps.
const DefaultKeep = 30

// PruneCheckpoints removes from dir (a state folder's checkpoints) the
// files of completed runs beyond the keep most recent: journals whose last
// entry is "complete", and back-out files. Never an unfinished journal (a
// run may resume it), a back-out file one of them records, a file it
// cannot read as bulkprov's, a link, or a path in except. keep 0 removes
// nothing. It returns the paths removed.
func PruneCheckpoints(dir string, keep int, except ...string) ([]string, error) {
	if keep <= 0 {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, p := range except {
		if abs, err := filepath.Abs(p); err == nil {
			skip[abs] = true
		}
	}
	type file struct {
		path  string
		mtime int64
	}
	var journals, backouts []file
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		abs, _ := filepath.Abs(p)
		if skip[abs] {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		f := file{p, info.ModTime().UnixNano()}
		switch {
		case strings.HasSuffix(e.Name(), ".backout.json"):
			backouts = append(backouts, f)
		case strings.HasSuffix(e.Name(), ".journal"):
			complete, held := journalState(p)
			if complete {
				journals = append(journals, f)
			}
			for _, b := range held {
				if abs, err := filepath.Abs(b); err == nil {
					skip[abs] = true
				}
			}
		}
	}
	var removed []string
	prune := func(fs []file, own func(string) bool) {
		sort.Slice(fs, func(i, j int) bool { return fs[i].mtime > fs[j].mtime })
		for i, f := range fs {
			abs, _ := filepath.Abs(f.path)
			if i < keep || skip[abs] || !own(f.path) {
				continue
			}
			if os.Remove(f.path) == nil {
				removed = append(removed, f.path)
			}
		}
	}
	prune(backouts, func(p string) bool { return CheckOwnPath(p, "backout") == nil })
	prune(journals, func(string) bool { return true })
	return removed, nil
}

// journalState reads a journal: complete when its last entry is
// "complete" (then nothing holds its back-out file); otherwise the
// back-out files it records, which a resumed run appends to. A file that
// is not a journal is neither.
func journalState(path string) (complete bool, backouts []string) {
	f, err := os.Open(path)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	if ownFile(f, "run") != nil {
		return false, nil
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		// The last line, from the file's tail.
		off := max(0, st.Size()-4096)
		tail := make([]byte, st.Size()-off)
		if _, err := f.ReadAt(tail, off); err == nil || err == io.EOF {
			lines := bytes.Split(bytes.TrimRight(tail, "\n"), []byte("\n"))
			last := lines[len(lines)-1]
			if bytes.HasPrefix(last, []byte(`{"type":"complete"`)) {
				return true, nil
			}
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, nil
	}
	_, _ = scanJournal(f, func(e Entry) {
		if e.Type == "backout" && e.Backout != "" {
			backouts = append(backouts, e.Backout)
		}
	})
	return false, backouts
}
