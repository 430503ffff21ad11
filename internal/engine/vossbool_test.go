package engine_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/voss/sim"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
	"github.com/bulkprov/bulkprov/transform"
)

// A JSON export leaves out "Boolean values that are not set" (seed 002):
// a boolean the instance does not carry is false, so a row saying false
// plans nothing — not an update on every run.
func TestAbsentBooleanIsFalse(t *testing.T) {
	ts := httptest.NewServer(sim.New(sim.Options{User: "u", Password: "p"}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	v := vossload.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	ctx := context.Background()
	const h = "sys.hcs.CS-P.CS-NB.AAAGlobal"
	if _, err := v.Create(ctx, "data/User", h, map[string]any{"username": "jdoe", "role": "Operator"}, nil); err != nil {
		t.Fatal(err)
	}
	rec := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: h, Loc: loader.Location{File: "t.xlsx", Sheet: "s", Row: 5},
		Fields: map[string]any{"username": "jdoe", "role": "Operator", "account_information": map[string]any{"locked": false, "disabled": false}}}
	tg := &engine.Targets{VOSS: v, VOSSLimiter: engine.NewLimiter("voss", 4), ID: "test"}
	p, err := engine.MakePlan(ctx, []transform.Row{transform.Map(rec, &transform.Config{}, transform.Options{})}, tg, engine.Options{RunState: engine.NewMemoryRunState()})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		if op.Target == "voss" && op.Action != engine.Noop {
			t.Errorf("%s %s: %s %v; want noop (an unset boolean is false)", op.Kind, op.Key, op.Action, op.Changes)
		}
	}
}
