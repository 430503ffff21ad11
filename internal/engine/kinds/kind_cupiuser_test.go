package kinds

import "testing"

// The CUPI user kind without a server: diff, inverse and undo order.
func TestCUPIUserKind(t *testing.T) {
	want := func(mod func(*Want)) Want {
		w := Want{Target: "cupi", Kind: KindCUPIUser, Key: "jdoe", Alias: "jdoe", Fields: map[string]any{},
			CUPI: &CUPIWant{Template: DefaultTemplate, CreateFields: Pairs{{Name: "Alias", Value: "jdoe"}, {Name: "DtmfAccessId", Value: "1001"}}}}
		if mod != nil {
			mod(&w)
		}
		return w
	}
	diffs := []struct {
		name     string
		exists   bool
		template bool
		want     Want
		ops      []wantOp
	}{
		{"create from the template", false, true, want(nil), []wantOp{{Create, "jdoe", "Alias,DtmfAccessId", ""}}},
		{"a template that does not exist fails", false, false, want(nil), []wantOp{{Create, "", "", "user template"}}},
		{"update a field that differs", true, true, want(func(w *Want) { w.Fields["FirstName"] = "Jane" }), []wantOp{{Update, "", "FirstName", ""}}},
		{"nothing when equal", true, true, want(func(w *Want) { w.Fields["FirstName"] = "John" }), []wantOp{{Noop, "", "", ""}}},
		{"delete", true, true, want(func(w *Want) { w.Delete = true }), []wantOp{{Delete, "", "Alias", ""}}},
		{"modify of what is absent fails", false, true, want(func(w *Want) { w.MustExist = true }), []wantOp{{Update, "", "", "does not exist"}}},
	}
	for _, tc := range diffs {
		t.Run("diff/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			if tc.exists {
				f.user("jdoe", "u1", "FirstName", "John")
			}
			if tc.template {
				f.st.templates[DefaultTemplate] = true
			}
			checkOps(t, f.diff(tc.want), tc.ops)
		})
	}

	inverses := []struct {
		name   string
		exists bool
		entry  BackoutEntry
		ops    []wantOp
	}{
		{"a create is undone by a delete", true, BackoutEntry{Action: Create, CreatedID: "u1"}, []wantOp{{Delete, "", "Alias", ""}}},
		{"only the user the run created is deleted", true, BackoutEntry{Action: Create, CreatedID: "u9"}, []wantOp{{Delete, "", "Alias", "not the one the run created"}}},
		{"an update is put back", true, BackoutEntry{Action: Update, Changes: []Change{{Field: "FirstName", Old: "Jo", New: "John"}}}, []wantOp{{Update, "", "FirstName", ""}}},
		{"a delete is undone by a create, roles after", false, BackoutEntry{Action: Delete, Before: map[string]any{"Alias": "jdoe", "DtmfAccessId": "1001"},
			BeforeRoles: []BackoutRole{{RoleID: "r1", Name: "Audit"}}}, []wantOp{{Create, "jdoe", "Alias,DtmfAccessId", ""}, {Create, "jdoe/Audit", "role", ""}}},
	}
	for _, tc := range inverses {
		t.Run("inverse/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			if tc.exists {
				f.user("jdoe", "u1", "FirstName", "John")
			}
			e := tc.entry
			e.Target, e.Kind, e.Key, e.Alias = "cupi", KindCUPIUser, "jdoe", "jdoe"
			checkOps(t, revertEntry(f.st, &e, BackoutHeader{}, false), tc.ops)
		})
	}

	for a, rank := range map[Action]int{Create: rankRecreateChild, Update: rankUpdate, Delete: rankDeleteChild} {
		if got := revertRank(&Op{Kind: KindCUPIUser, Action: a}); got != rank {
			t.Errorf("order: undo rank of a CUPI user %s = %d, want %d", a, got, rank)
		}
	}
	// A CUPI user's roles and credentials go down with it.
	e := &BackoutEntry{Kind: KindCUPIUser, Alias: "JDoe", Action: Create}
	if k := Of(KindCUPIUser); k.RevertDeletes(e) == "" || k.RevertDeletes(e) != Of(KindPIN).Owner(&BackoutEntry{Kind: KindPIN, Alias: "jdoe"}) {
		t.Errorf("a created CUPI user does not own its PIN: %q", k.RevertDeletes(e))
	}
}
