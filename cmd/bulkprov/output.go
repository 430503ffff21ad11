package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/report"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
)

// reporter writes a command's --report files (one per format) when the
// command returns, with the exit code it returns, also when it stops with
// 3 or 4 (even before a plan exists) and when it is refused before any
// request (exit 2: the report says what was wrong; nothing was done).
type reporter struct {
	paths []string
	io    streams
	run   report.Run
	doc   *report.Document
	recs  []*loader.Record // the input records, for an xlsx report only

	metricsPath string      // --metrics-file (metrics.go)
	conn        *connection // the run's targets, once connected
	rowsRead    int         // input rows read, once the inputs are loaded
}

// needsRecords reports whether the report writes failed rows back in the
// input's layout (xlsx), and so needs the input records kept.
func (r *reporter) needsRecords() bool {
	for _, p := range r.paths {
		if strings.EqualFold(filepath.Ext(p), ".xlsx") {
			return true
		}
	}
	return false
}

func newReporter(command string, paths []string, io streams) *reporter {
	return &reporter{paths: paths, io: io, run: report.Run{Command: command, Version: versionString(), Started: time.Now().UTC().Truncate(time.Millisecond)}}
}

// maxReportedProblems caps the input problems a refused run's report
// lists; the count says how many there were.
const maxReportedProblems = 1000

// problems has the report of a run refused for invalid input list each
// problem (up to maxReportedProblems), as validate prints them.
func (r *reporter) problems(in *inputFlags) {
	in.problem = func(p loader.Problem) {
		if len(r.run.Problems) < maxReportedProblems {
			r.run.Problems = append(r.run.Problems, p.String())
		}
	}
}

// inputs records the input files of the run and how many rows they hold.
func (r *reporter) inputs(files []engine.Input, rows int) {
	r.rowsRead = rows
	r.run.Inputs = r.run.Inputs[:0]
	for _, f := range files {
		r.run.Inputs = append(r.run.Inputs, report.RunFile{File: f.Path, SHA256: f.SHA256})
	}
}

// targets records the base URLs of the connected targets.
func (r *reporter) targets(tf *targetFlags, c *connection) {
	v, cu := tf.voss, tf.cupi
	if c != nil && c.sim != nil {
		v, cu = c.sim.URL, c.sim.URL
	}
	if c != nil && c.targets != nil {
		if c.targets.VOSS == nil {
			v = ""
		}
		if c.targets.CUPI == nil {
			cu = ""
		}
	}
	r.conn = c
	r.run.Targets = report.RunTargets{VOSS: v}
	if cu != "" {
		r.run.Targets.CUPI = map[string]string{"default": cu}
	}
	if c != nil && c.targets != nil {
		for name, cc := range c.clusters {
			if r.run.Targets.CUPI == nil {
				r.run.Targets.CUPI = map[string]string{}
			}
			r.run.Targets.CUPI[name] = cc.Base()
		}
	}
}

// finish writes the report for a command that returns err, and returns
// the error the command should return: a report that cannot be written
// turns a success into exit 1, so a cron job notices.
func (r *reporter) finish(err error) error {
	if c := exitCode(err); r.doc == nil && r.rowsRead > 0 && (c == exitInterrupted || c == exitAccess) {
		// Stopped before a plan: every row read is a row not run, in every output.
		r.doc = &report.Document{Kind: r.run.Command, NotPlanned: r.rowsRead}
	}
	err = r.writeMetrics(err, exitCode(err))
	code := exitCode(err)
	if len(r.paths) == 0 {
		return err
	}
	if r.doc == nil {
		if code == exitOK || code == exitRowsFailed {
			return err
		}
		r.doc = &report.Document{Kind: r.run.Command}
	}
	r.run.Finished = time.Now().UTC().Truncate(time.Millisecond)
	r.run.Exit = code
	if code != exitOK && code != exitRowsFailed && err != nil && !errors.Is(err, errSilent) {
		r.run.Error = err.Error()
	}
	if r.run.Inputs == nil {
		r.run.Inputs = []report.RunFile{} // refused before the inputs were read: a list still
	}
	r.doc.Run = &r.run
	failed := false
	for _, path := range r.paths {
		if werr := report.Write(path, r.doc, r.recs); werr != nil {
			fmt.Fprintf(r.io.err, "bulkprov: --report %s: %v\n", path, werr)
			failed = true
		}
	}
	if failed && code == exitOK {
		return silent(exitRowsFailed)
	}
	return err
}

// exitCode is the exit code main returns for err.
func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitInvalid
}

// useColor reports whether output to w may be coloured: a terminal, and
// NO_COLOR (https://no-color.org) unset or empty.
func useColor(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && isTerminal(w)
}

// markEarlierWork marks the operations an interrupted run did before this
// one resumed: the fresh plan sees them as unchanged, the journal knows
// they were done (or sent, with no outcome recorded: unchanged now means
// the write landed), and so the report covers the whole run. An entry
// whose operation the fresh plan folds into a summary noop (a role granted
// before: "alias/role" is now the noop "alias") marks that noop. It
// returns how many operations it marked.
func markEarlierWork(p *engine.Plan, j *engine.Journal) int {
	if j == nil || !j.Resumed {
		return 0
	}
	byID := map[string]*engine.Op{}
	byKey := map[string]*engine.Op{}
	for _, op := range p.Ops {
		if op.Status == engine.Planned && op.Action == engine.Noop {
			byID[op.ID] = op
			byKey[op.Kind+"\x00"+strings.ToLower(op.Key)] = op
		}
	}
	n := 0
	mark := func(e engine.Entry) {
		op := byID[e.Op]
		for key := strings.ToLower(e.Key); op == nil && key != ""; {
			op = byKey[e.Kind+"\x00"+key]
			i := strings.LastIndex(key, "/")
			if i < 0 {
				break
			}
			key = key[:i]
		}
		if op == nil || op.Status == engine.Done {
			return
		}
		// Counted as what it did, never as a done noop (issue 24).
		op.Status, op.CreatedID, op.Action = engine.Done, e.ID, earlierAction(e)
		n++
	}
	for _, e := range j.Done {
		mark(e)
	}
	for _, e := range j.Pending {
		mark(e)
	}
	for _, e := range j.Settled {
		mark(e) // settled before the plan: done now means it landed
	}
	return n
}

// earlierAction is what an operation an earlier part of the run did was:
// the journal's word, or for a journal of an earlier version (no action
// recorded) a create when it made an object, an update otherwise.
func earlierAction(e engine.Entry) engine.Action {
	switch {
	case e.Action != 0 && e.Action != engine.Noop:
		return e.Action
	case e.ID != "":
		return engine.Create
	}
	return engine.Update
}

// Thresholds of watch: a request slower than slowRequest is announced, and
// so is a target that has answered nothing for quietTarget (or half of
// --timeout, if shorter).
const (
	slowRequest = 5 * time.Second
	quietTarget = 15 * time.Second
)

// watch says on stderr, as it happens, when a target throttles, fails a
// request that will be retried, or is slow: a request that took longer
// than slow, or no answer for quiet while requests to it are waiting (a
// target with nothing asked of it is idle, not hung). At most one line per
// target and kind every 5 s. The returned stop ends it.
func watch(c *connection, w io.Writer, slow, quiet time.Duration) (stop func()) {
	type target struct {
		name     string
		last     atomic.Int64 // unix nanos of the last answer (or part of one), or of the first request sent to an idle target
		inFlight atomic.Int64 // requests sent whose answer is not yet read and closed
		said     sync.Map     // kind -> unix nanos said last
	}
	if quiet <= 0 {
		quiet = quietTarget
	}
	var mu sync.Mutex // serialises lines
	say := func(tg *target, kind, format string, args ...any) {
		now := time.Now().UnixNano()
		if v, ok := tg.said.Load(kind); ok && now-v.(int64) < int64(5*time.Second) {
			return
		}
		tg.said.Store(kind, now)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "bulkprov: %s: "+format+"\n", append([]any{tg.name}, args...)...)
	}
	var all []*target
	hook := func(name string, obs *func(string, int, float64), begin, reading, end *func()) {
		if *obs == nil {
			return
		}
		tg := &target{name: name}
		tg.last.Store(time.Now().UnixNano())
		all = append(all, tg)
		*begin = func() {
			// Owed an answer from now. The time is stored before the
			// count moves, and the watcher reads the count first: it never
			// sees a request in flight with an idle spell's old time.
			if tg.inFlight.Load() == 0 {
				tg.last.Store(time.Now().UnixNano())
			}
			tg.inFlight.Add(1)
		}
		// A request is owed until its answer's body is read and closed:
		// one that stalls after its headers is as hung as one never
		// answered. Each part of a body that arrives is an answer.
		*reading = func() { tg.last.Store(time.Now().UnixNano()) }
		*end = func() { tg.inFlight.Add(-1) }
		inner := *obs
		*obs = func(method string, status int, seconds float64) {
			inner(method, status, seconds)
			tg.last.Store(time.Now().UnixNano())
			switch {
			case status == 429 || status == 503:
				say(tg, "throttle", "throttling (HTTP %d); backing off and retrying", status)
			case status == 0 || status >= 500:
				say(tg, "error", "%s failed (%s); retrying", method, statusText(status))
			case seconds > slow.Seconds():
				say(tg, "slow", "slow: a %s took %.1fs", method, seconds)
			}
		}
	}
	if c.voss != nil {
		hook("voss", &c.voss.Observe, &c.voss.Begin, &c.voss.Reading, &c.voss.End)
	}
	if c.cupi != nil {
		hook("cupi", &c.cupi.Observe, &c.cupi.Begin, &c.cupi.Reading, &c.cupi.End)
	}
	for name, cc := range c.clusters {
		hook(engine.LimiterName(name), &cc.Observe, &cc.Begin, &cc.Reading, &cc.End)
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(quiet / 2)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				for _, tg := range all {
					if tg.inFlight.Load() == 0 {
						continue
					}
					if idle := time.Since(time.Unix(0, tg.last.Load())); idle >= quiet {
						say(tg, "quiet", "no answer for %s; still waiting (each request gives up after --timeout)", idle.Round(time.Second))
					}
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

func statusText(status int) string {
	if status == 0 {
		return "no response"
	}
	return fmt.Sprintf("HTTP %d", status)
}

// capped prints at most max lines, then says how many more there were:
// a refused 5,000-row plan is not 5,000 lines on stderr.
type capped struct {
	w      io.Writer
	max, n int
	held   []string
}

func (c *capped) printf(format string, args ...any) {
	c.n++
	if c.n <= c.max {
		c.held = append(c.held, fmt.Sprintf(format, args...))
	}
}

// close prints the lines held and the count of the rest.
func (c *capped) close() {
	for _, l := range c.held {
		fmt.Fprint(c.w, l)
	}
	if c.n > c.max {
		fmt.Fprintf(c.w, "… and %d more\n", c.n-c.max)
	}
}

// nothingToDo reports whether a plan writes nothing and fails nothing: the
// targets already hold what the inputs want.
func nothingToDo(p *engine.Plan) bool {
	for _, op := range p.Ops {
		if op.Writes() || op.Error != "" {
			return false
		}
	}
	return true
}

// targetsFromPlan takes the targets of apply --plan from the saved plan
// when no target flag names them: the plan records the servers it was made
// against ("voss=URL cupi=URL"; a --sim plan's simulators are gone).
func targetsFromPlan(tf *targetFlags, p *engine.Plan, errOut io.Writer) error {
	if tf.sim || tf.voss != "" || tf.cupi != "" {
		return otherTargets(tf, p)
	}
	for _, f := range strings.Fields(p.Targets) {
		if v, ok := strings.CutPrefix(f, "voss="); ok {
			tf.voss = v
		}
		if v, ok := strings.CutPrefix(f, "cupi="); ok {
			tf.cupi = v
		}
	}
	if tf.voss != "" || tf.cupi != "" {
		fmt.Fprintf(errOut, "targets from the plan: voss=%s cupi=%s\n", tf.voss, tf.cupi)
	}
	return nil
}

// otherTargets refuses a saved plan applied to targets other than those it
// was planned against: what a change board approved is a change to those
// servers. URLs compare as targets.NormalizeURL spells them; a target the
// plan does not name (a part the plan left out) is not compared.
func otherTargets(tf *targetFlags, p *engine.Plan) error {
	planned := map[string]string{}
	for _, f := range strings.Fields(p.Targets) {
		if k, v, ok := strings.Cut(f, "="); ok && v != "" {
			planned[k] = v
		}
	}
	if len(planned) == 0 && p.Targets != "sim" {
		return nil // a plan from a config's named targets, or of an earlier version
	}
	now := map[string]string{"voss": tf.voss, "cupi": tf.cupi}
	if tf.sim {
		now = map[string]string{"sim": "the simulators"}
	}
	if p.Targets == "sim" {
		planned = map[string]string{"sim": "the simulators"}
	}
	for k, was := range planned {
		if is := now[k]; is == "" || targets.NormalizeURL(is) != targets.NormalizeURL(was) {
			return fail(exitInvalid, "--plan was made against %s, this run's targets are %s: a saved plan applies only to the targets it was planned against; make a new plan against these; nothing was written", spellTargets(planned), spellTargets(now))
		}
	}
	return nil
}

// spellTargets names targets as "voss=URL cupi=URL" (or "the simulators").
func spellTargets(m map[string]string) string {
	if s, ok := m["sim"]; ok {
		return s
	}
	var out []string
	for _, k := range []string{"voss", "cupi"} {
		if m[k] != "" {
			out = append(out, k+"="+m[k])
		}
	}
	return strings.Join(out, " ")
}
