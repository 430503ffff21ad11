package main

import (
	"fmt"
	"log/slog"

	"github.com/bulkprov/bulkprov/internal/report"
)

// finish ends the progress with the run's account: the last line counts
// every row of the run (those whose part failed at plan time, or that
// had nothing to write, too), so it says what the summary says (issue 24:
// "progress: 3/3 rows, 0 failed" beside "74 rows: 73 ok, 1 failed").
func (p *progress) finish(a report.Account) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.SetTotal(int64(a.Rows.Total))
		p.bar.SetCurrent(int64(a.Rows.Total))
		p.bar.Set("failed", fmt.Sprintf("%d failed", a.Rows.Failed))
		p.bar.Finish()
		return
	}
	if p.total == 0 && a.Rows.Total == 0 {
		return
	}
	text, kv := finalProgress(a)
	logEvent(p.io.err, slog.LevelInfo, text, "progress", kv...)
}

// finalProgress is the last progress line of a run with account a, and
// its fields for --log-format json.
func finalProgress(a report.Account) (string, []any) {
	s := fmt.Sprintf("progress: %d/%d rows, %d failed", a.Rows.Total, a.Rows.Total, a.Rows.Failed)
	kv := []any{"done", a.Rows.Total, "total", a.Rows.Total, "failed", a.Rows.Failed, "not_run", a.Rows.NotRun}
	if a.Rows.NotRun > 0 {
		s += fmt.Sprintf(", %d not run", a.Rows.NotRun)
	}
	return s, kv
}
