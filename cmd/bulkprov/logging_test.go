package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// With --log-format json every stderr line is one JSON object, whether it
// was written with logEvent/logKV (fields kept) or printed as plain text;
// text mode writes what it always wrote.
func TestLogFormat(t *testing.T) {
	tests := []struct {
		name   string
		format string
		write  func(w *logWriter)
		text   string           // text mode: exact stderr
		json   []map[string]any // json mode: the objects, less time
	}{
		{"plain warning", "", func(w *logWriter) { w.Write([]byte("bulkprov: voss: throttling (HTTP 429); backing off\n")) },
			"bulkprov: voss: throttling (HTTP 429); backing off\n",
			[]map[string]any{{"level": "WARN", "msg": "voss: throttling (HTTP 429); backing off", "kind": "voss"}}},
		{"line in two writes", "", func(w *logWriter) {
			w.Write([]byte("limit: the VOSS "))
			w.Write([]byte("rate budget\nsecond"))
			w.flush()
		},
			"limit: the VOSS rate budget\nsecond",
			[]map[string]any{{"level": "INFO", "msg": "limit: the VOSS rate budget", "kind": "limit"}, {"level": "INFO", "msg": "second"}}},
		{"backout event", "", func(w *logWriter) {
			logEvent(w, slog.LevelInfo, "backout: /s/x.backout.json", "backout", "path", "/s/x.backout.json")
		}, "backout: /s/x.backout.json\n",
			[]map[string]any{{"level": "INFO", "msg": "backout", "path": "/s/x.backout.json"}}},
		{"audit line printed as text", "", func(w *logWriter) { fmt.Fprintf(w, "audit: %s\n", "9f86d081884c7d65") },
			"audit: 9f86d081884c7d65\n",
			[]map[string]any{{"level": "INFO", "msg": "audit", "sha256": "9f86d081884c7d65"}}},
		{"key/value line", "", func(w *logWriter) { logKV(w, "audit", "who", "Ann Lee", "rows", 3) },
			"audit: who=\"Ann Lee\" rows=3\n",
			[]map[string]any{{"level": "INFO", "msg": "audit", "who": "Ann Lee", "rows": 3.0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var text bytes.Buffer
			tw := newLogWriter(&text)
			tc.write(tw)
			if text.String() != tc.text {
				t.Errorf("text mode wrote %q, want %q", text.String(), tc.text)
			}
			var js bytes.Buffer
			jw := newLogWriter(&js)
			if err := jw.setFormat("json"); err != nil {
				t.Fatal(err)
			}
			tc.write(jw)
			lines := strings.Split(strings.TrimSuffix(js.String(), "\n"), "\n")
			if len(lines) != len(tc.json) {
				t.Fatalf("json mode wrote %d lines, want %d:\n%s", len(lines), len(tc.json), js.String())
			}
			for i, l := range lines {
				var got map[string]any
				if err := json.Unmarshal([]byte(l), &got); err != nil {
					t.Fatalf("line %d is not one JSON object: %v\n%s", i, err, l)
				}
				if _, ok := got["time"]; !ok {
					t.Errorf("line %d has no time: %s", i, l)
				}
				delete(got, "time")
				if !equalJSON(got, tc.json[i]) {
					t.Errorf("line %d = %v, want %v", i, got, tc.json[i])
				}
			}
		})
	}
}

func equalJSON(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// The flag switches the whole command's stderr, its errors included, and
// refuses other formats.
func TestLogFormatFlag(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"validate", "--log-format", "json", "no-such-file.xlsx"}, streams{in: strings.NewReader(""), out: &out, err: &errb})
	if code != exitInvalid {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, l := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil || obj["msg"] == nil {
			t.Errorf("stderr line is not a JSON object with msg: %q", l)
		}
	}
	errb.Reset()
	if code := run([]string{"validate", "--log-format", "xml", "x.xlsx"}, streams{in: strings.NewReader(""), out: &out, err: &errb}); code != exitInvalid || !strings.Contains(errb.String(), "want text or json") {
		t.Errorf("--log-format xml: exit %d\n%s", code, errb.String())
	}
}
