package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/voss/sim"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
	"github.com/bulkprov/bulkprov/transform"
)

// A GET by pkid answers {pkid, meta, data} with no hierarchy path in it
// (seed 002: meta holds references.parent as a node pkid, data the
// instance). When the instances are read that way — a server without the
// bulk export — each must still be placed at the hierarchy its list
// summary gave, not at the root the rows were listed from: the user at
// the customer was taken for absent and planned as a create (refused as
// a duplicate), and a same-named user at the parent shadowed it.
func TestInstancesReadByGetKeepTheirHierarchy(t *testing.T) {
	s := sim.New(sim.Options{User: "u", Password: "p"})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/export/") {
			http.NotFound(w, r) // no bulk export: one GET per instance
			return
		}
		s.ServeHTTP(w, r)
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	v := vossload.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	v.Nowait = false
	ctx := context.Background()
	const parent, child = "sys.hcs.CS-P.CS-NB", "sys.hcs.CS-P.CS-NB.AAAGlobal"
	for _, h := range []string{child, parent} {
		if _, err := v.Create(ctx, "data/User", h, map[string]any{"username": "jdoe", "role": "Operator", "email": "old@" + h}, nil); err != nil {
			t.Fatal(err)
		}
	}
	row := func(h string) transform.Row {
		rec := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: h, Loc: loader.Location{File: "t.xlsx", Sheet: "s", Row: 5},
			Fields: map[string]any{"username": "jdoe", "role": "Operator", "email": "old@" + h}}
		return transform.Map(rec, &transform.Config{}, transform.Options{})
	}
	tg := &engine.Targets{VOSS: v, VOSSLimiter: engine.NewLimiter("voss", 4), ID: "test"}
	p, err := engine.MakePlan(ctx, []transform.Row{row(child), row(parent)}, tg, engine.Options{RunState: engine.NewMemoryRunState()})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		if op.Target == "voss" && op.Action != engine.Noop {
			t.Errorf("%s %s: %s %v %s (both users exist as the rows say: want noop)", op.Kind, op.Key, op.Action, op.Changes, op.Error)
		}
	}
}
