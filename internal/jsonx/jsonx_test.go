package jsonx

import (
	"bytes"
	std "encoding/json"
	"fmt"
	"io"
	"testing"
)

// decodeOne decodes one document with UseNumber, then reads the next token,
// as the loader's export reader does, and describes what it saw.
func decodeOne(in string, useStd bool) string {
	type dec interface {
		UseNumber()
		Decode(any) error
		Token() (std.Token, error)
		InputOffset() int64
	}
	var d dec
	if useStd {
		d = std.NewDecoder(bytes.NewReader([]byte(in)))
	} else {
		d = NewDecoder(bytes.NewReader([]byte(in)))
	}
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "decode error: " + err.Error()
	}
	_, err := d.Token()
	return fmt.Sprintf("%#v; next token EOF=%v err=%v at %d", v, err == io.EOF, err, d.InputOffset())
}

// TestDecodeAsStdlib pins what bulkprov relies on: the values, the
// json.Number type, the error wording the loader reports, and the trailing
// data check.
func TestDecodeAsStdlib(t *testing.T) {
	for _, in := range []string{
		`[{"meta":{"model_type":"data/User"},"data":{"n":12345678901234567890,"f":1.5,"b":true,"z":null}}]`,
		`{"data":[{"a":"<&>"}]}  `, `{"a":1,}`, `[1,2`, `{"a":1} x`, `{"a":1} {}`, `nul`, `"abc`,
		`{"a":"\x01"}`, `[1e400]`, "\xef\xbb\xbf{}", `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":"\u00e9\n"}`, ``,
	} {
		if got, want := decodeOne(in, false), decodeOne(in, true); got != want {
			t.Errorf("%q:\n got %s\nwant %s", in, got, want)
		}
	}
	var n any
	d := NewDecoder(bytes.NewReader([]byte(`7`)))
	d.UseNumber()
	if err := d.Decode(&n); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.(std.Number); !ok {
		t.Errorf("UseNumber gave %T, want encoding/json.Number", n)
	}
}

func TestUnmarshalErrorsAsStdlib(t *testing.T) {
	type s struct {
		A int
		R RawMessage
	}
	for _, in := range []string{`{"A":"x"}`, `{"A":1.5}`, `{"A":1}}`, `{"A":1,"R":[1, 2]}`, `[`, `{"R":{"x":"y"}}`} {
		var a, b s
		ea, eb := fmt.Sprint(std.Unmarshal([]byte(in), &a)), fmt.Sprint(Unmarshal([]byte(in), &b))
		// On an error, encoding/json leaves v untouched when the syntax is
		// bad and go-json may have filled part of it: callers use v only
		// when the error is nil.
		if ea != eb || ea == "<nil>" && fmt.Sprintf("%d %s", a.A, a.R) != fmt.Sprintf("%d %s", b.A, b.R) {
			t.Errorf("%q: got %v %+v, want %v %+v", in, eb, b, ea, a)
		}
	}
}

// TestEncodeAsStdlib pins byte-for-byte output: sorted map keys (plan
// hashes and journal lines depend on them), HTML escaping (the report's
// inline script depends on it), numbers and indentation.
func TestEncodeAsStdlib(t *testing.T) {
	type item struct {
		Pkid string         `json:"pkid,omitempty"`
		Data map[string]any `json:"data"`
		Raw  RawMessage     `json:"raw,omitempty"`
	}
	vals := []any{
		map[string]any{"z": 1, "a": "<x&y>\u2028", "m": map[string]any{"b": 2, "a": []any{1.5, nil, true, int64(-3)}}, "n": Number("12345678901234567890")},
		item{Data: map[string]any{"username": "é", "x": 1e21, "y": 0.000001}, Raw: RawMessage(`{"b":1, "a":2}`)},
		[]item{{Pkid: "p"}}, "\x00\xff", 3.0,
	}
	for _, v := range vals {
		a, ea := std.Marshal(v)
		b, eb := Marshal(v)
		if !bytes.Equal(a, b) || fmt.Sprint(ea) != fmt.Sprint(eb) {
			t.Errorf("Marshal(%#v):\n got %s %v\nwant %s %v", v, b, eb, a, ea)
		}
		a, _ = std.MarshalIndent(v, "", " ")
		b, _ = MarshalIndent(v, "", " ")
		if !bytes.Equal(a, b) {
			t.Errorf("MarshalIndent(%#v):\n got %s\nwant %s", v, b, a)
		}
		var wa, wb bytes.Buffer
		_ = std.NewEncoder(&wa).Encode(v)
		_ = NewEncoder(&wb).Encode(v)
		if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
			t.Errorf("Encode(%#v):\n got %s\nwant %s", v, wb.Bytes(), wa.Bytes())
		}
	}
	if Valid([]byte(`{"a":}`)) || !Valid([]byte(`{"a":[]}`)) {
		t.Error("Valid disagrees with encoding/json")
	}
}
