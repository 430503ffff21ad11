package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Every line bulkprov writes to stderr goes through one logWriter (run
// wraps the stderr stream in it). With --log-format text, the default,
// it passes bytes through unchanged. With --log-format json, each line is
// one JSON object written by log/slog: a line written with logEvent or
// logKV carries its fields as they were given; any other line (an
// fmt.Fprintf to the stream) becomes an object whose msg is the line, its
// "bulkprov: " prefix turned into level WARN and its "NAME: " prefix
// (backout:, audit:, progress:, limit: ...) into the message's kind.

var logFormats = []string{"text", "json"}

// logWriter is the stderr stream of a run.
type logWriter struct {
	mu   sync.Mutex
	out  io.Writer
	json *slog.Logger // nil: text
	buf  []byte       // a partial line, in json mode
}

func newLogWriter(w io.Writer) *logWriter { return &logWriter{out: w} }

// setFormat switches the stream to format "text" or "json".
func (l *logWriter) setFormat(format string) error {
	switch format {
	case "text":
		l.mu.Lock()
		l.json = nil
		l.mu.Unlock()
	case "json":
		l.mu.Lock()
		l.json = slog.New(slog.NewJSONHandler(lockedWriter{l}, nil))
		l.mu.Unlock()
	default:
		return fmt.Errorf("want text or json, not %q", format)
	}
	return nil
}

// lockedWriter writes slog's output under the logWriter's lock already
// held by the caller.
type lockedWriter struct{ l *logWriter }

func (w lockedWriter) Write(p []byte) (int, error) { return w.l.out.Write(p) }

// Fd lets isTerminal see through to the terminal: a progress bar is drawn
// only in text mode.
func (l *logWriter) terminal() any {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json != nil {
		return nil
	}
	return l.out
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json == nil {
		return l.out.Write(p)
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimRight(l.buf[:i], "\r"))
		l.buf = l.buf[i+1:]
		l.logLine(line)
	}
	return len(p), nil
}

// flush logs a partial last line.
func (l *logWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json != nil && len(l.buf) > 0 {
		l.logLine(string(l.buf))
		l.buf = nil
	}
}

var kindPrefix = regexp.MustCompile(`^([a-z][a-z0-9-]*): (.*)$`)

// logLine logs one plain line as an object; l.mu is held.
func (l *logWriter) logLine(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	level := slog.LevelInfo
	var attrs []any
	if rest, ok := strings.CutPrefix(line, "bulkprov: "); ok {
		level, line = slog.LevelWarn, rest
	}
	if m := kindPrefix.FindStringSubmatch(line); m != nil {
		if field := lineFields[m[1]]; field != "" && level == slog.LevelInfo && !strings.ContainsAny(m[2], " \t") {
			// "audit: SHA256" printed as text: the same object logEvent
			// would have made, {"msg":"audit","sha256":...}.
			l.json.Log(context.Background(), level, m[1], field, m[2])
			return
		}
		attrs = append(attrs, "kind", m[1])
	}
	l.json.Log(context.Background(), level, line, attrs...)
}

// lineFields name the one value of the "KIND: VALUE" lines bulkprov
// prints: in json mode such a line is {"msg": KIND, FIELD: VALUE}, whether
// it was written with logEvent or printed as text.
var lineFields = map[string]string{"audit": "sha256", "backout": "path"}

// logEvent writes one stderr line: text as given in text mode, or an
// object {msg, kv...} in json mode. kv are slog's alternating keys and
// values.
func logEvent(w io.Writer, level slog.Level, text, msg string, kv ...any) {
	if l, ok := w.(*logWriter); ok {
		l.mu.Lock()
		if l.json != nil {
			l.json.Log(context.Background(), level, msg, kv...)
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
	}
	fmt.Fprintln(w, text)
}

// logKV writes one key/value line: "msg: k=v k=v" in text mode (values
// quoted where they hold spaces), {"msg": msg, "k": v, ...} in json mode.
// This is the function for new stderr lines such as audit:.
func logKV(w io.Writer, msg string, kv ...any) {
	var b strings.Builder
	b.WriteString(msg)
	b.WriteString(":")
	for i := 0; i+1 < len(kv); i += 2 {
		v := fmt.Sprint(kv[i+1])
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %v=%s", kv[i], v)
	}
	logEvent(w, slog.LevelInfo, b.String(), msg, kv...)
}

// registerLogFormat adds --log-format to a command's flags: it switches
// the command's stderr stream as soon as it is parsed.
func registerLogFormat(fs *flag.FlagSet, w io.Writer) {
	fs.Func("log-format", "stderr lines as `FORMAT`: text, or json (one JSON object per line, log/slog) (default text)", func(v string) error {
		l, ok := w.(*logWriter)
		if !ok {
			if v == "text" || v == "json" {
				return nil
			}
			return fmt.Errorf("want text or json, not %q", v)
		}
		return l.setFormat(v)
	})
}

// progressLine writes apply's periodic progress: rows done of the total
// (which grows while Unity Connection's part of the plan is still being
// made), failed, the rate, and the time left at that rate.
func progressLine(w io.Writer, done, failed, total int, elapsed time.Duration) {
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	text := fmt.Sprintf("progress: %d/%d rows, %d failed, %.1f rows/s", done, total, failed, rate)
	kv := []any{"done", done, "total", total, "failed", failed, "rows_per_second", math.Round(rate*10) / 10}
	if done > 0 && total > done {
		left := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
		text += fmt.Sprintf(", about %s left", left)
		kv = append(kv, "left_seconds", left.Seconds())
	}
	logEvent(w, slog.LevelInfo, text, "progress", kv...)
}
