package report

import (
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// The xlsx #Summary and HTML run table name each reason operations were
// skipped once: "skipped: an earlier cupi operation of this row failed",
// not "skipped: skipped: ...".
func TestFactsNameASkipReasonOnce(t *testing.T) {
	src := &engine.Source{File: "u.csv", Row: 2}
	ops := []*engine.Op{
		{ID: "a", Source: src, Target: "cupi", Kind: engine.KindCUPIUser, Key: "jdoe", Action: engine.Create, Status: engine.Failed, Error: "HTTP 400"},
		{ID: "b", Source: src, Target: "cupi", Kind: engine.KindPIN, Key: "jdoe", Action: engine.Update, Status: engine.Skipped,
			Error: "skipped: an earlier cupi operation of this row failed (cupi/user jdoe)"},
		{ID: "c", Source: src, Target: "cupi", Kind: engine.KindPIN, Key: "jane", Action: engine.Update, Status: engine.Skipped,
			Error: "not run: cupi unreachable (connection refused)"},
	}
	var names []string
	for _, f := range Tally(ops).Facts(true) {
		names = append(names, f.Name)
		if strings.HasPrefix(f.Name, "skipped: skipped:") {
			t.Errorf("fact %q names its reason twice", f.Name)
		}
	}
	if !strings.Contains(strings.Join(names, "|"), "skipped: an earlier cupi operation of this row failed|") && !strings.HasSuffix(strings.Join(names, "|"), "skipped: an earlier cupi operation of this row failed") {
		t.Errorf("facts %v: no line for the skipped operation", names)
	}
}
