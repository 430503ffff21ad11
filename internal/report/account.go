package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// Account is the one account of a run (spec/cli.md, "One account of a
// run"): every output — the terminal summary and progress, JSON, CSV,
// xlsx, HTML, metrics — renders these counts and computes none of its own.
// It is made once per document, from the operations, by Tally.
//
// Every operation is counted once by action and once by status, so
// Create+Update+Delete+Noop = Done+Failed+Skipped+Planned = Operations. A
// noop that nothing touched is unchanged (Unchanged: status planned, action
// noop), never done.
//
// To add a count (say, unkept values): add the field here, fill it in
// Tally (or from the document, as ResentSecrets), and name it in Facts:
// every format then shows it.
type Account struct {
	Rows       RowCounts     `json:"rows"`
	Operations int           `json:"operations"`
	ByAction   ActionCounts  `json:"by_action"`
	ByStatus   StatusCounts  `json:"by_status"`
	Unchanged  int           `json:"unchanged"`
	ByKind     []KindCounts  `json:"by_kind,omitempty"`
	Skipped    []ReasonCount `json:"skipped_reasons,omitempty"`
	// ResentSecrets counts the secrets (passwords, PINs) of objects that
	// already exist that the run sends again for want of a record of what
	// was applied before: a new or lost state folder.
	ResentSecrets int `json:"resent_secrets,omitempty"`
	// Unkept counts the operations that write again a value written
	// before and not kept by the server (engine.Unkept).
	Unkept int `json:"unkept,omitempty"`
	// Warnings counts what the plan found about rows that is not a
	// failure (engine.Warning): no operation's status, no exit code.
	Warnings int `json:"warnings,omitempty"`

	// cell counts the operations by action and status.
	cell [5][5]int
}

// ActionCounts count operations by action.
type ActionCounts struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
	Noop   int `json:"noop"`
}

// StatusCounts count operations by status.
type StatusCounts struct {
	Done    int `json:"done"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Planned int `json:"planned"`
}

// KindCounts count one kind's operations by action: a kind's unchanged
// objects are its noops, never counted as changed.
type KindCounts struct {
	Kind string `json:"kind"`
	ActionCounts
	Failed int `json:"failed"`
}

// Changed is the kind's operations that change something.
func (k KindCounts) Changed() int { return k.Create + k.Update + k.Delete }

// ReasonCount is how many operations, of how many rows, were skipped for
// one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	Rows   int    `json:"rows"`
}

func (c *ActionCounts) add(a engine.Action) {
	switch a {
	case engine.Create:
		c.Create++
	case engine.Update:
		c.Update++
	case engine.Delete:
		c.Delete++
	default:
		c.Noop++
	}
}

// Tally makes the account of a list of operations. It runs once a run is
// over (the plan is held whole then) and holds no copy of an operation.
func Tally(ops []*engine.Op) Account {
	a := Account{Rows: CountRows(ops), Operations: len(ops)}
	kinds := map[string]*KindCounts{}
	reasons := map[string]int{}
	reasonRows := map[string]map[uint64]bool{}
	for _, op := range ops {
		a.ByAction.add(op.Action)
		if int(op.Action) < len(a.cell) && int(op.Status) < len(a.cell[0]) {
			a.cell[op.Action][op.Status]++
		}
		k := kinds[op.Kind]
		if k == nil {
			k = &KindCounts{Kind: op.Kind}
			kinds[op.Kind] = k
		}
		k.add(op.Action)
		switch op.Status {
		case engine.Done:
			a.ByStatus.Done++
		case engine.Failed:
			a.ByStatus.Failed++
			k.Failed++
		case engine.Skipped:
			a.ByStatus.Skipped++
			r := skipReason(op.Error)
			reasons[r]++
			if reasonRows[r] == nil {
				reasonRows[r] = map[uint64]bool{}
			}
			reasonRows[r][sourceKey(op.Source)] = true
		default:
			a.ByStatus.Planned++
			if op.Action == engine.Noop {
				a.Unchanged++
			}
		}
	}
	for _, k := range kinds {
		a.ByKind = append(a.ByKind, *k)
	}
	sort.Slice(a.ByKind, func(i, j int) bool { return a.ByKind[i].Kind < a.ByKind[j].Kind })
	for r, n := range reasons {
		a.Skipped = append(a.Skipped, ReasonCount{Reason: r, Count: n, Rows: len(reasonRows[r])})
	}
	sort.Slice(a.Skipped, func(i, j int) bool {
		if a.Skipped[i].Count != a.Skipped[j].Count {
			return a.Skipped[i].Count > a.Skipped[j].Count
		}
		return a.Skipped[i].Reason < a.Skipped[j].Reason
	})
	return a
}

// skipReason is the reason of a skipped operation, without what names the
// operation itself: "not run: cupi unreachable", "skipped: an earlier cupi
// operation of this row failed".
func skipReason(err string) string {
	if err == "" {
		return "(no reason given)"
	}
	if err == engine.CanaryReason {
		return err // its parenthesis is the reason, not a detail
	}
	if i := strings.Index(err, " ("); i > 0 {
		return err[:i]
	}
	return err
}

// Summary is the account as the JSON report's "summary" of earlier
// versions: operations by action, failed ones in Failed only, Noop the
// unchanged.
func (a Account) Summary() engine.Summary {
	not := func(act engine.Action) int { return a.cell[act][engine.Failed] }
	return engine.Summary{Create: a.ByAction.Create - not(engine.Create), Update: a.ByAction.Update - not(engine.Update),
		Delete: a.ByAction.Delete - not(engine.Delete), Noop: a.Unchanged, Failed: a.ByStatus.Failed, Done: a.ByStatus.Done, Skip: a.ByStatus.Skipped, Unkept: a.Unkept}
}

// Count is how many operations have action act and status st.
func (a Account) Count(act engine.Action, st engine.Status) int { return a.cell[act][st] }

// ApplyLine is the apply's operations sentence: every operation in exactly
// one of the four, so D + F + S + U = Operations (after an apply only
// noops are left planned: U is the unchanged).
func (a Account) ApplyLine() string {
	return fmt.Sprintf("Operations: %d done, %d failed, %d skipped, %d unchanged.", a.ByStatus.Done, a.ByStatus.Failed, a.ByStatus.Skipped, a.ByStatus.Planned)
}

// PlanLine is the plan's operations sentence: every operation in exactly
// one of them (a create that cannot be done is failed, not to create).
func (a Account) PlanLine() string {
	p := func(act engine.Action) int { return a.cell[act][engine.Planned] }
	s := fmt.Sprintf("Operations: %d to create, %d to update, %d to delete, %d unchanged, %d failed", p(engine.Create), p(engine.Update), p(engine.Delete), a.Unchanged, a.ByStatus.Failed)
	if a.ByStatus.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", a.ByStatus.Skipped)
	}
	if a.ByStatus.Done > 0 {
		s += fmt.Sprintf(", %d done", a.ByStatus.Done)
	}
	return s + "."
}

// Fact is one named count of the account.
type Fact struct {
	Name  string
	Value int
}

// Facts are the account as named counts, in the order every format that
// lists them (the xlsx #Summary sheet, the HTML run table) shows them:
// rows, then operations by status, by action, then the rest.
func (a Account) Facts(apply bool) []Fact {
	out := []Fact{{"rows", a.Rows.Total}, {"rows ok", a.Rows.OK}, {"rows failed", a.Rows.Failed}, {"rows not run", a.Rows.NotRun},
		{"operations", a.Operations}}
	if apply {
		out = append(out, Fact{"operations done", a.ByStatus.Done}, Fact{"operations failed", a.ByStatus.Failed},
			Fact{"operations skipped", a.ByStatus.Skipped}, Fact{"operations unchanged", a.ByStatus.Planned})
	} else {
		out = append(out, Fact{"operations planned", a.ByStatus.Planned}, Fact{"operations failed", a.ByStatus.Failed})
		if a.ByStatus.Skipped > 0 {
			out = append(out, Fact{"operations skipped", a.ByStatus.Skipped})
		}
	}
	out = append(out, Fact{"action create", a.ByAction.Create}, Fact{"action update", a.ByAction.Update},
		Fact{"action delete", a.ByAction.Delete}, Fact{"action noop", a.ByAction.Noop})
	for _, r := range a.Skipped {
		out = append(out, Fact{"skipped: " + strings.TrimPrefix(r.Reason, "skipped: "), r.Count})
	}
	if a.ResentSecrets > 0 {
		out = append(out, Fact{"secrets sent again (no record)", a.ResentSecrets})
	}
	if a.Warnings > 0 {
		out = append(out, Fact{"warnings", a.Warnings})
	}
	return out
}

// ToDo counts the operations still planned, by action: a plan's "to
// create", "to update", "to delete" and unchanged.
func (a Account) ToDo() ActionCounts {
	return ActionCounts{Create: a.cell[engine.Create][engine.Planned], Update: a.cell[engine.Update][engine.Planned],
		Delete: a.cell[engine.Delete][engine.Planned], Noop: a.cell[engine.Noop][engine.Planned]}
}

// plural is noun for n of them: "1 operation", "2 operations".
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
