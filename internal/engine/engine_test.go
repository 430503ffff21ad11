package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
	"github.com/bulkprov/bulkprov/transform"
)

func newTargets(t *testing.T, url string) *engine.Targets {
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 16})
	cr := targets.Credentials{User: "u", Password: "p"}
	v, c := vossload.New(url, hc, cr), cupi.New(url, hc, cr)
	tg := &engine.Targets{VOSS: v, CUPI: c, VOSSLimiter: engine.NewLimiter("voss", 8), CUPILimiter: engine.NewLimiter("cupi", 5), ID: "test"}
	v.Observe, c.Observe = tg.VOSSLimiter.Observe, tg.CUPILimiter.Observe
	return tg
}

func userRows(n int, locked bool) []transform.Row {
	var rows []transform.Row
	for i := 0; i < n; i++ {
		rec := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: "sys.hcs.CS-P.CS-NB.AAAGlobal",
			Loc: loader.Location{File: "t.xlsx", Sheet: "s", Row: i + 5},
			Fields: map[string]any{"username": fmt.Sprintf("u%03d", i), "role": "Help Desk Administrator", "password": "Long-Enough-1",
				"DtmfAccessId": fmt.Sprintf("5%03d", i), "account_information": map[string]any{"locked": locked}}}
		rows = append(rows, transform.Map(rec, &transform.Config{}, transform.Options{}))
	}
	return rows
}

// Plan, apply, re-plan: the second plan is empty, secrets included (the
// run state remembers their keyed hashes), and reads are bulk: per user at
// most the CUPI roles and password settings, and a handful of VOSS lists.
func TestPlanApplyReplan(t *testing.T) {
	r := startSim(t)
	ctx := context.Background()
	rs := engine.NewMemoryRunState()
	tg := newTargets(t, r.URL)
	const n = 40
	p, err := engine.MakePlan(ctx, userRows(n, false), tg, engine.Options{RunState: rs})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Create != 3*n || s.Failed != 0 {
		t.Fatalf("first plan %+v", s)
	}
	secrets := 0
	for _, op := range p.Ops {
		secrets += op.Secrets.Len()
	}
	if err := engine.Apply(ctx, p, tg, engine.Options{RunState: rs}, engine.ApplyOptions{Workers: 8}); err != nil {
		t.Fatal(err)
	}
	// What only a write needs is let go once it ran: no secret stays in
	// memory after its write, and the plan kept for the report is lighter.
	for _, op := range p.Ops {
		if op.Status == engine.Done && (op.Secrets.Len() > 0 || op.Body != nil) {
			t.Fatalf("%s %s done but still holds %d secret(s), body %v", op.Kind, op.Key, op.Secrets.Len(), op.Body != nil)
		}
	}
	if secrets == 0 {
		t.Fatal("the plan held no secrets to send: the check above proves nothing")
	}
	tg = newTargets(t, r.URL)
	p, err = engine.MakePlan(ctx, userRows(n, false), tg, engine.Options{RunState: rs})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Create+s.Update+s.Delete != 0 {
		t.Fatalf("re-plan not empty: %+v", s)
	}
	if got := float64(p.Reads["cupi"]) / n; got > 2.2 {
		t.Errorf("CUPI reads per user = %.2f, want ≤ 2.2", got)
	}
	if got := p.Reads["voss"]; got > 5 {
		t.Errorf("VOSS reads = %d for %d users, want a few bulk reads", got, n)
	}
	// Without the run state, secrets are planned (they cannot be read back);
	// --force-secrets plans them even when known.
	p, _ = engine.MakePlan(ctx, userRows(n, false), tg, engine.Options{RunState: engine.NewMemoryRunState()})
	if s := p.Summary(); s.Update != 2*n { // the VOSS password and the CUPI credential
		t.Errorf("unknown secrets: %+v, want %d password updates", s, 2*n)
	}
	p, _ = engine.MakePlan(ctx, userRows(n, false), tg, engine.Options{RunState: rs, ForceSecrets: true})
	if s := p.Summary(); s.Update != 2*n {
		t.Errorf("force secrets: %+v", s)
	}
	// A delete row that names only the user removes the VOSS user and the
	// CUPI roles of its current VOSS role; the CUPI user stays.
	del := &loader.Record{Model: "data/User", Action: loader.Delete, Hierarchy: "sys.hcs.CS-P.CS-NB.AAAGlobal",
		Loc: loader.Location{File: "t.xlsx", Row: 99}, Fields: map[string]any{"username": "u000"}}
	p, _ = engine.MakePlan(ctx, []transform.Row{transform.Map(del, &transform.Config{}, transform.Options{})}, tg, engine.Options{RunState: rs})
	var acts []string
	for _, op := range p.Ops {
		acts = append(acts, op.Kind+" "+op.Action.String()+" "+op.Key)
	}
	if fmt.Sprint(acts) != "[data/User delete sys.hcs.CS-P.CS-NB.AAAGlobal/u000 cupi/userrole delete u000/Help Desk Administrator]" {
		t.Errorf("delete plan = %v", acts)
	}
	// One changed boolean: exactly the VOSS field and the CUPI setting.
	p, _ = engine.MakePlan(ctx, userRows(1, true), tg, engine.Options{RunState: rs})
	var changes []string
	for _, op := range p.Ops {
		for _, c := range op.Changes {
			changes = append(changes, op.Kind+" "+c.Field)
		}
	}
	if fmt.Sprint(changes) != "[data/User account_information.locked cupi/credential/password Locked]" {
		t.Errorf("changes = %v", changes)
	}
}

func TestUnresolvedReferencesFailTheRow(t *testing.T) {
	r := startSim(t)
	rec := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: "sys.nowhere", Loc: loader.Location{File: "f", Row: 5},
		Fields: map[string]any{"username": "x", "role": "No Such Role", "account_information": map[string]any{"credential_policy": "Nope"}}}
	rows := []transform.Row{transform.Map(rec, &transform.Config{}, transform.Options{})}
	p, err := engine.MakePlan(context.Background(), rows, newTargets(t, r.URL), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"data/User":                "hierarchy sys.nowhere does not exist on VOSS",
		"cupi/user":                "has no DtmfAccessId",
		"cupi/userrole":            `CUPI role "No Such Role" does not exist`,
		"cupi/credential/password": `credential policy "Nope" does not exist`,
	}
	for _, op := range p.Ops {
		if op.Status != engine.Failed || want[op.Kind] == "" || !strings.Contains(op.Error, want[op.Kind]) {
			t.Errorf("%s: status %s error %q, want failed with %q", op.Kind, op.Status, op.Error, want[op.Kind])
		}
	}
}

// --force-secrets on a row that gives only the security answers sends
// them with their questions (the array whole, as the server has it), and
// the server takes it; a row without the answers is failed in the plan.
func TestForcedAnswersGoWithTheirQuestions(t *testing.T) {
	r := startSim(t)
	ctx := context.Background()
	tg := newTargets(t, r.URL)
	rs := engine.NewMemoryRunState()
	row := func(fields map[string]any) []transform.Row {
		rec := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: "sys.hcs.CS-P.CS-NB.AAAGlobal", Loc: loader.Location{File: "t.xlsx", Sheet: "s", Row: 5}, Fields: fields}
		return []transform.Row{transform.Map(rec, &transform.Config{}, transform.Options{})}
	}
	full := map[string]any{"username": "qa1", "role": "Help Desk Administrator", "DtmfAccessId": "5001", "account_information": map[string]any{
		"security_questions": []any{map[string]any{"question": "First pet?", "answer": "rex"}, map[string]any{"question": "Home town?", "answer": "york"}}}}
	p, err := engine.MakePlan(ctx, row(full), tg, engine.Options{RunState: rs})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(ctx, p, tg, engine.Options{RunState: rs}, engine.ApplyOptions{}); err != nil || p.Summary().Failed != 0 {
		t.Fatalf("create: %v %+v", err, p.Ops)
	}
	answers := map[string]any{"username": "qa1", "role": "Help Desk Administrator", "account_information": map[string]any{
		"security_questions": []any{map[string]any{"answer": "cat"}, map[string]any{"answer": "leeds"}}}}
	opts := engine.Options{RunState: rs, ForceSecrets: true}
	p, err = engine.MakePlan(ctx, row(answers), tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(ctx, p, tg, opts, engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		if op.Target == "voss" && (op.Status != engine.Done || op.Action != engine.Update) {
			t.Fatalf("forced answers: %s %s %s", op.Action, op.Status, op.Error)
		}
	}
	// Only one answer of two: the plan says the other is missing.
	one := map[string]any{"username": "qa1", "role": "Help Desk Administrator", "account_information": map[string]any{
		"security_questions": []any{map[string]any{"answer": "dog"}}}}
	p, err = engine.MakePlan(ctx, row(one), tg, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		if op.Target == "voss" && (op.Status != engine.Failed || !strings.Contains(op.Error, "security_questions.[1].answer: this field is required")) {
			t.Fatalf("one answer of two: %s %s %q", op.Action, op.Status, op.Error)
		}
	}
}

// With ReleaseRows, MakePlan drops each row's wants once diffed, and the
// plan is the one it makes without.
func TestPlanReleaseRows(t *testing.T) {
	r := startSim(t)
	ctx := context.Background()
	tg := newTargets(t, r.URL)
	kept, err := engine.MakePlan(ctx, userRows(5, false), tg, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := userRows(5, false)
	p, err := engine.MakePlan(ctx, rows, tg, engine.Options{ReleaseRows: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		if row.Wants != nil {
			t.Errorf("row %d still holds %d wants", i, len(row.Wants))
		}
	}
	if len(p.Ops) != len(kept.Ops) || len(p.Ops) == 0 {
		t.Fatalf("%d operations, want %d", len(p.Ops), len(kept.Ops))
	}
	for i, op := range p.Ops {
		k := kept.Ops[i]
		if op.ID != k.ID || op.Action != k.Action || fmt.Sprint(op.Changes) != fmt.Sprint(k.Changes) || fmt.Sprint(op.Body) != fmt.Sprint(k.Body) {
			t.Errorf("op %d: %+v, want %+v", i, op, k)
		}
	}
	// ForReview: the same plan, without a secret value held.
	review, err := engine.MakePlan(ctx, userRows(5, false), tg, engine.Options{ReleaseRows: true, ForReview: true})
	if err != nil {
		t.Fatal(err)
	}
	secrets := 0
	for i, op := range review.Ops {
		k := kept.Ops[i]
		secrets += k.Secrets.Len()
		if op.ID != k.ID || op.Action != k.Action || fmt.Sprint(op.Changes) != fmt.Sprint(k.Changes) || op.Secrets.Len() != 0 || op.Body != nil {
			t.Errorf("for review, op %d: %+v, want %+v without body or secrets", i, op, k)
		}
	}
	if secrets == 0 {
		t.Error("the plan held no secrets: the check proves nothing")
	}
}
