package kinds

import (
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// kindFixture is a state read, in memory: what a kind's table test diffs
// and reverts against, with no server.
type kindFixture struct {
	st *State
	t  *Targets
	o  Options
}

func newKindFixture() *kindFixture {
	st := &State{vossRoles: map[string]map[string]bool{}, voss: map[string]*voss.Instance{}, byPkid: map[string]*voss.Instance{},
		clusters: map[string]*cupiState{DefaultCluster: newCUPIState()}}
	f := &kindFixture{st: st.View(DefaultCluster), t: &Targets{ID: "fixture", VOSSName: "https://voss", CUPIName: "https://cupi"}}
	f.o.Defaults()
	return f
}

// vossInstance puts a VOSS instance in the state.
func (f *kindFixture) vossInstance(model, hier, key, pkid string, data map[string]any) {
	in := &voss.Instance{Pkid: pkid, Hierarchy: hier, Data: data}
	f.st.voss[vkey(model, hier, key)] = in
	f.st.byPkid[pkid] = in
}

// user puts a CUPI user in the state.
func (f *kindFixture) user(alias, id string, fields ...string) {
	u := cupi.Object{"Alias": alias, "ObjectId": id}
	for i := 0; i+1 < len(fields); i += 2 {
		u[fields[i]] = fields[i+1]
	}
	f.st.users[strings.ToLower(alias)] = u
}

// diff runs w's kind on a fresh operation, as diffWant does.
func (f *kindFixture) diff(w Want) []*Op {
	return Diff(f.st, &Row{}, w, f.t, f.o)
}

// checkOps compares operations with the actions, keys, changed fields and
// error (a substring) a case wants.
func checkOps(t *testing.T, got []*Op, want []wantOp) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d operations, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		op := got[i]
		var fields []string
		for _, c := range op.Changes {
			fields = append(fields, c.Field)
		}
		if op.Action != w.action || (w.key != "" && op.Key != w.key) || strings.Join(fields, ",") != w.fields ||
			(w.err == "") != (op.Error == "") || !strings.Contains(op.Error, w.err) {
			t.Errorf("op %d: %s %s fields %q error %q; want %s %s fields %q error %q",
				i, op.Action, op.Key, strings.Join(fields, ","), op.Error, w.action, w.key, w.fields, w.err)
		}
	}
}

// wantOp is one operation a case expects.
type wantOp struct {
	action Action
	key    string // "": not checked
	fields string // the changed fields, comma-separated
	err    string // a substring of the error; "" for none
}

// revertEntry plans what undoes e, as the core's revert plan asks it.
func revertEntry(st *State, e *BackoutEntry, h BackoutHeader, force bool) []*Op {
	return Of(e.Kind).Revert(st, e, h, force)
}

// revertRank is op's place in its row's undo order.
func revertRank(op *Op) int { return Of(op.Kind).UndoRank(op) }
