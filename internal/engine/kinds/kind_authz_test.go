package kinds

import (
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// The authorization-server kind without a server: diff, inverse and undo
// order.
func TestAuthzKind(t *testing.T) {
	want := func(mod func(*Want)) Want {
		w := Want{Target: "cupi", Kind: KindAuthz, Key: "LDAP1", Fields: map[string]any{"Port": "636"}}
		if mod != nil {
			mod(&w)
		}
		return w
	}
	diffs := []struct {
		name   string
		exists bool
		want   Want
		ops    []wantOp
	}{
		{"create what is absent", false, want(nil), []wantOp{{Create, "LDAP1", "DisplayName,Port", ""}}},
		{"a password is sent on a create", false, want(func(w *Want) { w.Secrets = SecretsOf("ServerPassword", "pw-1234") }), []wantOp{{Create, "", "DisplayName,Port,ServerPassword", ""}}},
		{"update what differs", true, want(func(w *Want) { w.Fields["Port"] = "3269" }), []wantOp{{Update, "", "Port", ""}}},
		{"nothing when equal", true, want(nil), []wantOp{{Noop, "", "", ""}}},
		{"delete", true, want(func(w *Want) { w.Delete = true }), []wantOp{{Delete, "", "DisplayName", ""}}},
	}
	for _, tc := range diffs {
		t.Run("diff/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			if tc.exists {
				f.st.authz["ldap1"] = cupi.Object{"DisplayName": "LDAP1", "ObjectId": "a1", "Port": "636"}
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
		{"a create is undone by a delete", true, BackoutEntry{Action: Create, CreatedID: "a1"}, []wantOp{{Delete, "", "DisplayName", ""}}},
		{"only the server the run created is deleted", true, BackoutEntry{Action: Create, CreatedID: "a9"}, []wantOp{{Delete, "", "DisplayName", "not the one the run created"}}},
		{"an update is put back", true, BackoutEntry{Action: Update, Changes: []Change{{Field: "Port", Old: "389", New: "636"}}}, []wantOp{{Update, "", "Port", ""}}},
		{"a delete is undone by a create", false, BackoutEntry{Action: Delete, Before: map[string]any{"DisplayName": "LDAP1", "Port": "636", "ServerPassword": ""}}, []wantOp{{Create, "", "DisplayName,Port", ""}}},
	}
	for _, tc := range inverses {
		t.Run("inverse/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			if tc.exists {
				f.st.authz["ldap1"] = cupi.Object{"DisplayName": "LDAP1", "ObjectId": "a1", "Port": "636"}
			}
			e := tc.entry
			e.Target, e.Kind, e.Key = "cupi", KindAuthz, "LDAP1"
			checkOps(t, revertEntry(f.st, &e, BackoutHeader{}, false), tc.ops)
		})
	}

	for _, a := range []Action{Create, Update, Delete} {
		if got := revertRank(&Op{Kind: KindAuthz, Action: a}); got != rankUpdate {
			t.Errorf("order: undo rank of an authorization server %s = %d, want %d", a, got, rankUpdate)
		}
	}
}
