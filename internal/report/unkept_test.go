package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// A canary's not-attempted operations are counted under their whole
// reason, and an unkept write is said in the summary, the text and the
// JSON report.
func TestCanaryAndUnkeptInTheAccount(t *testing.T) {
	src := &engine.Source{File: "u.csv", Row: 3}
	ops := []*engine.Op{
		{ID: "a", Source: src, Target: "voss", Kind: engine.KindUser, Key: "h/u1", Action: engine.Update, Status: engine.Done, Changes: []engine.Change{{Field: "email", New: "A@x"}}},
		{ID: "b", Source: src, Target: "voss", Kind: engine.KindUser, Key: "h/u2", Action: engine.Create, Status: engine.Skipped, Error: engine.CanaryReason},
	}
	since := time.Date(2026, 12, 1, 2, 3, 0, 0, time.UTC)
	p := &engine.Plan{Ops: ops, Unkept: map[string]engine.Unkept{"a": {Since: since, Fields: []string{"email"}}}}
	d := New("apply", p)
	a := d.Account()
	if len(a.Skipped) != 1 || a.Skipped[0].Reason != engine.CanaryReason || a.Unkept != 1 || d.Summary.Unkept != 1 {
		t.Errorf("account %+v, summary %+v; want 1 skipped %q and 1 unkept", a, d.Summary, engine.CanaryReason)
	}
	var text bytes.Buffer
	Print(&text, d, TextOptions{})
	if !strings.Contains(text.String(), "email: written before on 2026-12-01 02:03 UTC and not kept") || !strings.Contains(text.String(), "1 unkept") {
		t.Errorf("text:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := JSON(&js, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"unkept": {`) || !strings.Contains(js.String(), `"since": "2026-12-01T02:03:00Z"`) {
		t.Errorf("JSON:\n%s", js.String())
	}
}
