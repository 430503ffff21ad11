package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/transform"
)

const (
	hierA = "sys.hcs.CS-P.CS-NB.AAAGlobal"
	hierB = "sys.hcs.CS-P.CS-NE.OtherCust"
)

// fakeVOSS is VOSS as a plan reads it, in memory: its data/User
// instances, listed at a hierarchy and below with the key and
// hierarchy_path in each summary (seed 002). It counts every call.
type fakeVOSS struct {
	engine.VOSSAPI // what a plan does not call
	users          []voss.Instance
	ignoreFilter   bool // answer a filtered list with the whole list
	refuseRoot     bool // 403 to a list at "sys"

	mu     sync.Mutex
	calls  int
	lookup int // lists at the root, where the rows' hierarchies are not
}

func (f *fakeVOSS) count(root bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if root {
		f.lookup++
	}
}

func (f *fakeVOSS) HierarchyNodes(context.Context) (map[string]bool, error) {
	f.count(false)
	nodes := map[string]bool{}
	for _, h := range []string{"sys", "sys.hcs", "sys.hcs.CS-P", "sys.hcs.CS-P.CS-NB", hierA, "sys.hcs.CS-P.CS-NE", hierB} {
		nodes[h] = true
	}
	return nodes, nil
}

func (f *fakeVOSS) Roles(context.Context, string) ([]string, error) {
	f.count(false)
	return []string{"Help Desk Administrator"}, nil
}

func (f *fakeVOSS) List(_ context.Context, model, hierarchy string, filter [2]string, fn func(voss.Summary) error) error {
	f.count(hierarchy == "sys")
	if hierarchy == "sys" && f.refuseRoot {
		return &targets.APIError{Method: "GET", Path: "/api/" + model + "/", Status: http.StatusForbidden}
	}
	for _, in := range f.users {
		if in.Hierarchy != hierarchy && !strings.HasPrefix(in.Hierarchy, hierarchy+".") {
			continue
		}
		key, _ := in.Data["username"].(string)
		if filter[0] != "" && !f.ignoreFilter && !strings.EqualFold(key, filter[1]) {
			continue
		}
		if err := fn(voss.Summary{Pkid: in.Pkid, Hierarchy: in.Hierarchy, Data: map[string]any{"username": key, "hierarchy_path": in.Hierarchy}}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeVOSS) Export(_ context.Context, _, _ string, pkids []string, fn func(voss.Instance) error) error {
	f.count(false)
	for _, id := range pkids {
		for _, in := range f.users {
			if in.Pkid == id {
				if err := fn(in); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// fakeCUPI is a Unity Connection cluster as a plan reads it: its users,
// one role and the default template.
type fakeCUPI struct {
	engine.CUPIAPI
	users []cupi.Object
}

func (f *fakeCUPI) UsersPage(_ context.Context, page int, fn func(cupi.Object) error) (int, int, error) {
	if page > 1 {
		return len(f.users), 0, nil
	}
	for _, u := range f.users {
		if err := fn(u); err != nil {
			return 0, 0, err
		}
	}
	return len(f.users), len(f.users), nil
}

func (f *fakeCUPI) Roles(context.Context) ([]cupi.Object, error) {
	return []cupi.Object{{"RoleName": "Help Desk Administrator", "ObjectId": "role-1"}}, nil
}

func (f *fakeCUPI) UserTemplates(context.Context) ([]cupi.Object, error) {
	return []cupi.Object{{"Alias": engine.DefaultTemplate}}, nil
}

func (f *fakeCUPI) UserRoles(context.Context, string) ([]cupi.Object, error) { return nil, nil }

func (f *fakeCUPI) Credential(context.Context, string, string) (cupi.Object, error) {
	return cupi.Object{}, nil
}

func (f *fakeCUPI) GetUser(_ context.Context, id string) (cupi.Object, error) {
	for _, u := range f.users {
		if u["ObjectId"] == id {
			return u, nil
		}
	}
	return nil, targets.ErrNotFound
}

func vossUser(name, hier, pkid string) voss.Instance {
	return voss.Instance{Pkid: pkid, Model: "data/User", Hierarchy: hier, Data: map[string]any{"username": name, "role": "Help Desk Administrator"}}
}

// addRows are data/User add rows of names at hierarchy hierA, each with
// a Unity Connection part; the first at t.xlsx:s:7.
func addRows(names ...string) []transform.Row {
	var rows []transform.Row
	for i, n := range names {
		rec := &loader.Record{Model: "data/User", Action: loader.Add, Hierarchy: hierA, Loc: loader.Location{File: "t.xlsx", Sheet: "s", Row: 7 + i},
			Fields: map[string]any{"username": n, "role": "Help Desk Administrator", "password": "Long-Enough-1", "DtmfAccessId": fmt.Sprintf("7%03d", i)}}
		rows = append(rows, transform.Map(rec, &transform.Config{}, transform.Options{}))
	}
	return rows
}

// A plan warns, naming where, of a user it creates that exists under
// another hierarchy (a user moved between customers: VOSS keys are
// unique within a hierarchy only) and of a Unity Connection alias the new
// user's row would change that another user already holds. The lookup is
// made only for the creates, costs one filtered list per key (one
// listing of the root for many keys, or when the server ignores the
// filter), counts in the plan's reads, and never fails a plan: a root the
// credentials may not list gives no warning. Warnings change no status.
func TestPlanWarnsOfUsersElsewhere(t *testing.T) {
	many := []string{"jdoe"}
	for i := 0; i < 24; i++ {
		many = append(many, fmt.Sprintf("new%02d", i))
	}
	for _, tc := range []struct {
		name    string
		voss    *fakeVOSS
		cupi    []cupi.Object
		rows    []transform.Row
		warn    []string // substrings, one per warning, in order
		lookups int      // lists at the root
	}{
		{name: "moved to another customer", voss: &fakeVOSS{users: []voss.Instance{vossUser("jdoe", hierB, "p-b1")}}, rows: addRows("jdoe"),
			warn:    []string{"row 7 (t.xlsx:s:7): user jdoe already exists under " + hierB + " (pkid p-b1); this plan creates another at " + hierA},
			lookups: 1},
		{name: "new everywhere", rows: addRows("jdoe"), lookups: 1},
		{name: "already at its hierarchy", voss: &fakeVOSS{users: []voss.Instance{vossUser("jdoe", hierA, "p-a1"), vossUser("jdoe", hierB, "p-b1")}},
			cupi: []cupi.Object{{"Alias": "jdoe", "ObjectId": "u-1"}}, rows: addRows("jdoe")},
		{name: "alias held by another user", cupi: []cupi.Object{{"Alias": "JDoe", "ObjectId": "u-9", "DisplayName": "J Doe (OtherCust)"}}, rows: addRows("jdoe"),
			warn:    []string{"row 7 (t.xlsx:s:7): alias JDoe is already held on Unity Connection default by user u-9 (J Doe (OtherCust)), while VOSS has no user jdoe at " + hierA},
			lookups: 1},
		{name: "moved, alias and all", voss: &fakeVOSS{users: []voss.Instance{vossUser("jdoe", hierB, "p-b1")}}, cupi: []cupi.Object{{"Alias": "jdoe", "ObjectId": "u-9"}},
			rows: addRows("jdoe", "asmith"), warn: []string{"under " + hierB + " (pkid p-b1)", "held on Unity Connection default by user u-9,"}, lookups: 2},
		{name: "filter ignored", voss: &fakeVOSS{ignoreFilter: true, users: []voss.Instance{vossUser("asmith", hierB, "p-b0"), vossUser("jdoe", hierB, "p-b1")}},
			rows: addRows("jdoe"), warn: []string{"user jdoe already exists under " + hierB + " (pkid p-b1)"}, lookups: 2},
		{name: "many creates, one listing", voss: &fakeVOSS{users: []voss.Instance{vossUser("jdoe", hierB, "p-b1"), vossUser("jdoe", "sys.hcs.CS-P.CS-NB", "p-r1")}},
			rows: addRows(many...), warn: []string{"user jdoe already exists under sys.hcs.CS-P.CS-NB (pkid p-r1), " + hierB + " (pkid p-b1)"}, lookups: 1},
		{name: "root not ours to list", voss: &fakeVOSS{refuseRoot: true, users: []voss.Instance{vossUser("jdoe", hierB, "p-b1")}}, rows: addRows("jdoe"), lookups: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fv := tc.voss
			if fv == nil {
				fv = &fakeVOSS{}
			}
			tg := &engine.Targets{VOSS: fv, CUPI: &fakeCUPI{users: tc.cupi}, VOSSLimiter: engine.NewLimiter("voss", 8), CUPILimiter: engine.NewLimiter("cupi", 5), ID: "fake"}
			p, err := engine.MakePlan(context.Background(), tc.rows, tg, engine.Options{RunState: engine.NewMemoryRunState()})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Warnings) != len(tc.warn) {
				t.Errorf("%d warnings, want %d: %v", len(p.Warnings), len(tc.warn), p.Warnings)
			}
			for i, w := range p.Warnings {
				t.Log(w)
				if i < len(tc.warn) && !strings.Contains(w.String(), tc.warn[i]) {
					t.Errorf("warning %d: %q, want %q in it", i, w, tc.warn[i])
				}
				if w.Src().File != "t.xlsx" || w.Op == "" || w.Kind != "data/User" {
					t.Errorf("warning %d names no row or operation: %+v", i, w)
				}
			}
			if fv.lookup != tc.lookups {
				t.Errorf("%d lists at the root, want %d", fv.lookup, tc.lookups)
			}
			if p.Reads["voss"] != fv.calls {
				t.Errorf("the plan counts %d VOSS reads; %d were made", p.Reads["voss"], fv.calls)
			}
			for _, op := range p.Ops {
				if op.Status != engine.Planned {
					t.Errorf("%s %s: %s %s", op.Kind, op.Key, op.Status, op.Error)
				}
			}
		})
	}
}

// A resumed run does not warn of what an earlier part of the same run
// created, or may have (journaled done, or pending): a row whose Unity
// Connection user was made before the run was killed, its VOSS user not,
// holds its own alias, not another user's. Other warnings stay.
func TestResumedRunDropsWarningsOfItsOwnWrites(t *testing.T) {
	warnings := func() []engine.Warning {
		return []engine.Warning{
			{Message: "alias jdoe is already held", ObjectKind: "cupi/user", ObjectKey: "jdoe"},
			{Message: "alias asmith is already held", ObjectKind: "cupi/user", ObjectKey: "ASmith"},
			{Message: "user bdoe already exists under B", ObjectKind: "data/User", ObjectKey: "sys.B/bdoe"},
			{Message: "user cdoe already exists under two"},
		}
	}
	j := &engine.Journal{
		Done:    map[string]engine.Entry{"1": {Kind: "cupi/user", Key: "jdoe", Action: engine.Create, ID: "u-1"}, "2": {Kind: "data/User", Key: "sys.B/bdoe", Action: engine.Update}},
		Pending: map[string]engine.Entry{"3": {Kind: "cupi/user", Key: "asmith", Action: engine.Create}},
	}
	tg := &engine.Targets{VOSSLimiter: engine.NewLimiter("voss", 1), CUPILimiter: engine.NewLimiter("cupi", 1), ID: "none"}
	for _, tc := range []struct {
		name    string
		journal *engine.Journal
		kept    []string
	}{
		{"fresh run", nil, []string{"alias jdoe", "alias asmith", "user bdoe", "user cdoe"}},
		{"resumed", j, []string{"user bdoe", "user cdoe"}},
	} {
		p := &engine.Plan{Warnings: warnings()}
		if err := engine.Apply(context.Background(), p, tg, engine.Options{}, engine.ApplyOptions{Journal: tc.journal}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range p.Warnings {
			got = append(got, w.Message)
		}
		if len(got) != len(tc.kept) {
			t.Fatalf("%s: kept %q, want %q", tc.name, got, tc.kept)
		}
		for i, k := range tc.kept {
			if !strings.HasPrefix(got[i], k) {
				t.Errorf("%s: kept %q, want %q", tc.name, got, tc.kept)
			}
		}
	}
}
