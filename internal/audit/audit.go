// Package audit keeps bulkprov's audit trail (spec/cli.md, "Approval and
// audit"): one JSON object per line, appended by every plan, apply and
// approve, each carrying in "prev" the SHA-256 of the line before it, so
// that an edited, inserted or removed line breaks the chain. The head (the
// SHA-256 of the last line) is printed by every run so it can be anchored
// outside (a ticket, a log server): a log truncated back past an anchored
// head no longer holds a line with that hash.
//
// A line's hash is the SHA-256 of its bytes including the newline that
// ends it, so `sed -n 5p audit.jsonl | sha256sum` is line 5's hash and
// `tail -n 1 audit.jsonl | sha256sum` the head.
package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Record is one run.
type Record struct {
	Time       string     `json:"time"` // RFC 3339, UTC
	User       string     `json:"user"`
	Host       string     `json:"host"`
	Command    string     `json:"command"` // "plan", "apply", "apply --revert", "approve"
	Args       []string   `json:"args"`    // the command line after the command, secrets scrubbed
	Version    string     `json:"version,omitempty"`
	Targets    Targets    `json:"targets"`
	Inputs     []File     `json:"inputs"`
	Plan       string     `json:"plan,omitempty"` // the saved plan written or executed
	PlanSHA256 string     `json:"plan_sha256"`    // "" when the run had no saved plan
	Approvers  []Approver `json:"approvers"`
	Backout    string     `json:"backout"` // "" when the run wrote no back-out file
	Rows       *Rows      `json:"rows"`    // zeros when the run stopped before a plan
	Operations *Ops       `json:"operations,omitempty"`
	Exit       int        `json:"exit"`
	Error      string     `json:"error,omitempty"` // why a run was refused or stopped
	Prev       string     `json:"prev"`
}

// Targets are the servers of a run.
type Targets struct {
	VOSS string            `json:"voss,omitempty"`
	CUPI map[string]string `json:"cupi,omitempty"`
}

// File is a file a run read, with its SHA-256.
type File struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Approver is a signer whose approval the run counted (or, for approve,
// the signer).
type Approver struct {
	Principal string `json:"principal"`
	Key       string `json:"key"`
}

// Rows count the input rows of a run.
type Rows struct {
	Total  int `json:"total"`
	OK     int `json:"ok"`
	Failed int `json:"failed"`
	NotRun int `json:"not_run,omitempty"`
}

// Ops count a run's operations by action and status.
type Ops struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
	Noop   int `json:"noop"`
	Done   int `json:"done"`
	Failed int `json:"failed"`
}

// Hash is the hex SHA-256 of a line's bytes (its newline included).
func Hash(line []byte) string {
	h := sha256.Sum256(line)
	return hex.EncodeToString(h[:])
}

// Log is an audit log: a file, or (Path "") lines held in memory.
type Log struct {
	Path string

	mu  sync.Mutex
	mem []byte
}

// Check makes sure the log can be appended to, before a run starts: its
// folder is made (0700) and the file opened for appending (created 0600).
func (l *Log) Check() error {
	if l.Path == "" {
		return nil
	}
	f, err := l.open()
	if err != nil {
		return err
	}
	return f.Close()
}

func (l *Log) open() (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log %s: %v", l.Path, err)
	}
	f, err := os.OpenFile(l.Path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %v", err)
	}
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("audit log %s: not a regular file", l.Path)
	}
	return f, nil
}

// Append sets r.Prev to the hash of the log's last line, appends r as one
// line and returns its hash, the new head. On a file, an exclusive flock
// is held from reading the last line to the fsync of the new one, so runs
// appending at once are chained one after the other.
func (l *Log) Append(r *Record) (string, error) {
	if l.Path == "" {
		l.mu.Lock()
		defer l.mu.Unlock()
		line, err := encode(r, lastLine(l.mem))
		if err != nil {
			return "", err
		}
		l.mem = append(l.mem, line...)
		return Hash(line), nil
	}
	f, err := l.open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := flock(f); err != nil {
		return "", fmt.Errorf("audit log %s: lock: %v", l.Path, err)
	}
	last, torn, err := tail(f)
	if err != nil {
		return "", fmt.Errorf("audit log %s: %v", l.Path, err)
	}
	if torn {
		// A line cut short (a crash mid-write) is ended first and chained
		// like any other; verify names it.
		last = append(last, '\n')
	}
	line, err := encode(r, last)
	if err != nil {
		return "", err
	}
	out := line
	if torn {
		out = append([]byte("\n"), line...)
	}
	if _, err := f.Write(out); err != nil {
		return "", fmt.Errorf("audit log %s: %v", l.Path, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("audit log %s: %v", l.Path, err)
	}
	return Hash(line), nil
}

// encode sets r.Prev from the previous line (nil: none) and returns r's
// line, newline included.
func encode(r *Record, prev []byte) ([]byte, error) {
	r.Prev = ""
	if len(prev) > 0 {
		r.Prev = Hash(prev)
	}
	if r.Args == nil {
		r.Args = []string{}
	}
	if r.Inputs == nil {
		r.Inputs = []File{}
	}
	if r.Approvers == nil {
		r.Approvers = []Approver{}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// lastLine is the last newline-ended line of b (nil: none).
func lastLine(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	i := bytes.LastIndexByte(b[:len(b)-1], '\n')
	return b[i+1:]
}

// tail reads the file's last line, newline included, reading back from the
// end in blocks. torn reports a last line without its newline (returned
// without one).
func tail(f *os.File) ([]byte, bool, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	size := st.Size()
	if size == 0 {
		return nil, false, nil
	}
	var buf []byte
	const block = 4096
	end := size
	for end > 0 {
		start := max(0, end-block)
		chunk := make([]byte, end-start)
		if _, err := f.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, false, err
		}
		buf = append(chunk, buf...)
		end = start
		// The last line starts after the last newline before the final byte.
		if i := bytes.LastIndexByte(buf[:len(buf)-1], '\n'); i >= 0 {
			buf = buf[i+1:]
			break
		}
	}
	if buf[len(buf)-1] != '\n' {
		return buf, true, nil
	}
	return buf, false, nil
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// Line is one line of a log as read back.
type Line struct {
	N      int
	Hash   string
	Record *Record // nil when the line is not a record
	Err    string
}

// Read returns the log's lines (a file, or the in-memory lines). A missing
// file is an empty log.
func (l *Log) Read() ([]Line, error) {
	var b []byte
	if l.Path == "" {
		l.mu.Lock()
		b = append([]byte(nil), l.mem...)
		l.mu.Unlock()
	} else {
		var err error
		b, err = os.ReadFile(l.Path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit log: %v", err)
		}
	}
	var out []Line
	sc := bufio.NewReader(bytes.NewReader(b))
	for n := 1; ; n++ {
		line, err := sc.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			break
		}
		ln := Line{N: n, Hash: Hash(line)}
		r := &Record{}
		if jerr := json.Unmarshal(line, r); jerr != nil {
			ln.Err = "not a JSON record: " + jerr.Error()
		} else {
			ln.Record = r
		}
		if line[len(line)-1] != '\n' {
			ln.Err = "cut short (no newline at its end)"
		}
		out = append(out, ln)
	}
	return out, nil
}

// Break is where a chain breaks.
type Break struct {
	Line int
	Why  string
}

func (b *Break) Error() string { return fmt.Sprintf("line %d: %s", b.Line, b.Why) }

// Verify checks the chain: every line a JSON record whose prev is the hash
// of the line before it ("" on the first). It returns the lines and the
// first break, or nil.
func (l *Log) Verify() ([]Line, *Break, error) {
	lines, err := l.Read()
	if err != nil {
		return nil, nil, err
	}
	prev := ""
	for _, ln := range lines {
		if ln.Err != "" {
			return lines, &Break{ln.N, ln.Err}, nil
		}
		if ln.Record.Prev != prev {
			why := fmt.Sprintf("its prev %q is not the SHA-256 of line %d (%s): line %d was changed, or lines were removed or inserted before line %d", ln.Record.Prev, ln.N-1, prev, ln.N-1, ln.N)
			if ln.N == 1 {
				why = fmt.Sprintf("the first line's prev is %q, not empty: lines before it were removed", ln.Record.Prev)
			}
			return lines, &Break{ln.N, why}, nil
		}
		prev = ln.Hash
	}
	return lines, nil, nil
}
