package kinds

import "testing"

// The VOSS kind without a server: diff, inverse and undo order.
func TestVOSSKind(t *testing.T) {
	userWant := func(fields map[string]any) Want {
		return Want{Target: "voss", Kind: KindUser, Key: "T/jdoe", Fields: fields,
			VOSS: &VOSSWant{Model: KindUser, Hierarchy: "T", KeyValue: "jdoe"}}
	}
	existing := map[string]any{"username": "jdoe", "role": "R", "email": "old@x"}
	diffs := []struct {
		name   string
		exists bool
		want   Want
		ops    []wantOp
	}{
		{"create what is absent", false, userWant(map[string]any{"username": "jdoe", "role": "R"}), []wantOp{{Create, "T/jdoe", "role,username", ""}}},
		{"update a field that differs", true, userWant(map[string]any{"username": "jdoe", "email": "new@x"}), []wantOp{{Update, "", "email", ""}}},
		{"nothing when equal", true, userWant(map[string]any{"username": "jdoe", "email": "old@x"}), []wantOp{{Noop, "", "", ""}}},
		{"a server default counts as equal", true, userWant(map[string]any{"language": "EN-US"}), []wantOp{{Noop, "", "", ""}}},
		{"delete what is there", true, func() Want { w := userWant(nil); w.Delete = true; return w }(), []wantOp{{Delete, "", "username", ""}}},
		{"delete of what is absent", false, func() Want { w := userWant(nil); w.Delete = true; return w }(), []wantOp{{Noop, "", "", ""}}},
		{"modify of what is absent fails", false, func() Want { w := userWant(map[string]any{"email": "a"}); w.MustExist = true; return w }(), []wantOp{{Update, "", "", "does not exist"}}},
		{"a create lacking a required field fails", false, userWant(map[string]any{"username": "jdoe"}), []wantOp{{Create, "", "username", "role: this field is required"}}},
	}
	for _, tc := range diffs {
		t.Run("diff/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			if tc.exists {
				f.vossInstance(KindUser, "T", "jdoe", "p1", CopyTree(existing))
			}
			checkOps(t, f.diff(tc.want), tc.ops)
		})
	}

	entry := func(a Action) *BackoutEntry {
		return &BackoutEntry{Target: "voss", Kind: KindUser, Key: "T/jdoe", Action: a, Model: KindUser, Hierarchy: "T", Pkid: "p1"}
	}
	inverses := []struct {
		name   string
		exists bool
		entry  *BackoutEntry
		ops    []wantOp
	}{
		{"a create is undone by a delete", true, func() *BackoutEntry { e := entry(Create); e.CreatedID = "p1"; return e }(), []wantOp{{Delete, "", "username", ""}}},
		{"a create that never landed needs nothing", false, func() *BackoutEntry { e := entry(Create); e.CreatedID = "p1"; return e }(), []wantOp{{Noop, "", "", ""}}},
		{"an update is put back", true, func() *BackoutEntry {
			e := entry(Update)
			e.Changes = []Change{{Field: "email", Old: "before@x", New: "old@x"}}
			return e
		}(), []wantOp{{Update, "", "email", ""}}},
		{"an update changed since is not touched", true, func() *BackoutEntry {
			e := entry(Update)
			e.Changes = []Change{{Field: "email", Old: "before@x", New: "run@x"}}
			return e
		}(), []wantOp{{Update, "", "email", "changed since the run"}}},
		{"a delete is undone by a create", false, func() *BackoutEntry {
			e := entry(Delete)
			e.Before = map[string]any{"username": "jdoe", "role": "R"}
			return e
		}(), []wantOp{{Create, "", "role,username", ""}}},
	}
	for _, tc := range inverses {
		t.Run("inverse/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			if tc.exists {
				f.vossInstance(KindUser, "T", "jdoe", "p1", CopyTree(existing))
			}
			checkOps(t, revertEntry(f.st, tc.entry, BackoutHeader{}, false), tc.ops)
		})
	}

	for a, rank := range map[Action]int{Create: rankRecreateParent, Update: rankUpdate, Delete: rankDeleteParent, Noop: rankUpdate} {
		if got := revertRank(&Op{Kind: KindAdminREL, Action: a}); got != rank {
			t.Errorf("order: undo rank of a VOSS %s = %d, want %d", a, got, rank)
		}
	}
}
