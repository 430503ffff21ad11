package plan

import (
	"encoding/json"
	"testing"
)

// TestEnumsAsText checks that Action, Status and Fingerprint, held as
// bytes, read and write as the names and hex they always had.
func TestEnumsAsText(t *testing.T) {
	type wire struct {
		Action      Action      `json:"action,omitempty"`
		Status      Status      `json:"status,omitempty"`
		Fingerprint Fingerprint `json:"fingerprint"`
	}
	cases := []struct {
		in   wire
		json string
	}{
		{wire{Create, Planned, Fingerprint{1, 2, 3, 4, 5, 6, 7, 8}}, `{"action":"create","status":"planned","fingerprint":"0102030405060708"}`},
		{wire{Update, Done, Fingerprint{0, 0, 0, 0, 0, 0, 0, 1}}, `{"action":"update","status":"done","fingerprint":"0000000000000001"}`},
		{wire{Delete, Failed, Fingerprint{0xff}}, `{"action":"delete","status":"failed","fingerprint":"ff00000000000000"}`},
		{wire{Noop, Skipped, Fingerprint{}}, `{"action":"noop","status":"skipped","fingerprint":""}`},
		// None yet: action and status left out, the fingerprint "" — as
		// the string fields were (an op that failed before its object was
		// read has none; plan files of earlier versions say "").
		{wire{}, `{"fingerprint":""}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.in)
		if err != nil || string(b) != c.json {
			t.Errorf("marshal %+v = %s, %v; want %s", c.in, b, err, c.json)
		}
		var back wire
		if err := json.Unmarshal([]byte(c.json), &back); err != nil || back != c.in {
			t.Errorf("unmarshal %s = %+v, %v; want %+v", c.json, back, err, c.in)
		}
	}
	for _, bad := range []string{`{"action":"upsert"}`, `{"status":"ok"}`, `{"fingerprint":"abc"}`, `{"fingerprint":"zz00000000000000"}`} {
		var w wire
		if err := json.Unmarshal([]byte(bad), &w); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
	if got := Action(9).String(); got != "9" {
		t.Errorf("Action(9) = %q", got)
	}
	if a, b := FingerprintOf(nil), FingerprintOf(nil); a != b || a == FingerprintOf(map[string]any{"a": 1}) {
		t.Error("fingerprint is not a function of its value")
	}
}
