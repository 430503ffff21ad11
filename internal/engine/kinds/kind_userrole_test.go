package kinds

import (
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// The user-role kind without a server: diff, inverse and undo order.
func TestUserRoleKind(t *testing.T) {
	want := func(roles []string, mod func(*Want)) Want {
		w := Want{Target: "cupi", Kind: KindUserRole, Key: "jdoe", Alias: "jdoe", Roles: roles}
		if mod != nil {
			mod(&w)
		}
		return w
	}
	diffs := []struct {
		name string
		held []string
		want Want
		ops  []wantOp
	}{
		{"grant a role not held", nil, want([]string{"Audit"}, nil), []wantOp{{Create, "jdoe/Audit", "role", ""}}},
		{"nothing when held", []string{"Audit"}, want([]string{"audit"}, nil), []wantOp{{Noop, "jdoe", "", ""}}},
		{"remove a held role", []string{"Audit"}, want([]string{"Audit"}, func(w *Want) { w.Delete = true }), []wantOp{{Delete, "jdoe/Audit", "role", ""}}},
		{"exact roles remove the others", []string{"Audit", "Help Desk"}, want([]string{"Audit"}, func(w *Want) { w.ExactRoles = true }), []wantOp{{Delete, "jdoe/Help Desk", "role", ""}}},
		{"a role that does not exist fails", nil, want([]string{"Audti"}, nil), []wantOp{{Create, "", "", `did you mean "Audit"`}}},
	}
	for _, tc := range diffs {
		t.Run("diff/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			f.user("jdoe", "u1")
			for i, name := range []string{"Audit", "Help Desk"} {
				f.st.roles[strings.ToLower(name)] = cupi.Object{"RoleName": name, "ObjectId": "r" + string(rune('1'+i))}
			}
			for _, name := range tc.held {
				r := f.st.roles[strings.ToLower(name)]
				f.st.userRoles["u1"] = append(f.st.userRoles["u1"], cupi.Object{"RoleName": name, "RoleObjectId": r["ObjectId"], "ObjectId": "ur-" + r["ObjectId"]})
			}
			checkOps(t, f.diff(tc.want), tc.ops)
		})
	}

	inverses := []struct {
		name  string
		held  bool
		entry BackoutEntry
		ops   []wantOp
	}{
		{"a grant is undone by a removal", true, BackoutEntry{Action: Create}, []wantOp{{Delete, "", "role", ""}}},
		{"a grant no longer held needs nothing", false, BackoutEntry{Action: Create}, []wantOp{{Noop, "", "", ""}}},
		{"a removal is undone by a grant", false, BackoutEntry{Action: Delete}, []wantOp{{Create, "", "role", ""}}},
	}
	for _, tc := range inverses {
		t.Run("inverse/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			f.user("jdoe", "u1")
			if tc.held {
				f.st.userRoles["u1"] = []cupi.Object{{"RoleName": "Audit", "RoleObjectId": "r1", "ObjectId": "ur1"}}
			}
			e := tc.entry
			e.Target, e.Kind, e.Key, e.Alias, e.RoleID = "cupi", KindUserRole, "jdoe/Audit", "jdoe", "r1"
			checkOps(t, revertEntry(f.st, &e, BackoutHeader{}, false), tc.ops)
		})
	}

	for _, a := range []Action{Create, Delete} {
		if got := revertRank(&Op{Kind: KindUserRole, Action: a}); got != rankChild {
			t.Errorf("order: undo rank of a role %s = %d, want %d (after its user is recreated, before it is deleted)", a, got, rankChild)
		}
	}
}
