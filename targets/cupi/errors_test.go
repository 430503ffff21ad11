package cupi_test

import (
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// Every error shape targets.md names is read to its message: errors as an
// object or a list, error as a string or a list (inside errors or on its
// own), XML ErrorDetails, else the raw body.
func TestParseErrorShapes(t *testing.T) {
	for _, c := range []struct{ body, code, msg string }{
		{`{"errors":{"code":"DATA_EXCEPTION","message":"Alias exists"}}`, "DATA_EXCEPTION", "Alias exists"},
		{`{"errors":[{"code":"X","message":"Alias exists"}]}`, "X", "Alias exists"},
		{`{"errors":{"code":"X","error":["Alias exists","again"]}}`, "X", "Alias exists; again"},
		{`{"error":"Alias exists"}`, "", "Alias exists"},
		{`{"error":["Alias exists"]}`, "", "Alias exists"},
		{`{"errors":"Alias exists"}`, "", "Alias exists"},
		{`{"errors":{"code":"X","message":"Alias exists"},"extra":1}`, "X", "Alias exists"},
		{`<ErrorDetails><errors><code>X</code><message>Alias exists</message></errors></ErrorDetails>`, "X", "Alias exists"},
		{"Alias exists", "", "Alias exists"},
	} {
		code, msg := cupi.ParseError([]byte(c.body))
		if code != c.code || msg != c.msg {
			t.Errorf("%s: code %q message %q; want %q %q", c.body, code, msg, c.code, c.msg)
		}
	}
}
