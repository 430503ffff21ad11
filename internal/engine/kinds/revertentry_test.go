package kinds

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// Each write's undo is decided by the object's value now: what the run
// wrote is undone, the value before the run is left alone, anything else
// is drift (failed, three values shown) unless forced; only what the run
// created is deleted.
func TestRevertEntry(t *testing.T) {
	st := &State{voss: map[string]*voss.Instance{}, byPkid: map[string]*voss.Instance{}, cupiState: newCUPIState()}
	add := func(pkid, name string, data map[string]any) {
		in := &voss.Instance{Pkid: pkid, Model: KindUser, Hierarchy: "h", Data: data}
		st.voss[vkey(KindUser, "h", name)], st.byPkid[pkid] = in, in
	}
	add("p1", "renamed", map[string]any{"username": "renamed", "first_name": "New"})
	add("p2", "drifted", map[string]any{"username": "drifted", "first_name": "Other"})
	add("p3", "created", map[string]any{"username": "created", "role": "R"})
	add("p4", "lookalike", map[string]any{"username": "lookalike", "role": "R"})
	st.users["vm"] = cupi.Object{"ObjectId": "u1", "Alias": "vm"}
	st.userRoles["u1"] = []cupi.Object{{"ObjectId": "ur1", "RoleObjectId": "r1", "RoleName": "Help"}}
	st.creds["u1|password"] = cupi.Object{"Locked": "true", "CredMustChange": "false"}
	st.authz["ldap"] = cupi.Object{"ObjectId": "a1", "DisplayName": "ldap", "Port": "636"}
	vossUpd := func(pkid, key string) *BackoutEntry {
		return &BackoutEntry{Kind: KindUser, Target: "voss", Model: KindUser, Hierarchy: "h", Key: "h/" + key, Pkid: pkid,
			Action: Update, Changes: []Change{{Field: "first_name", Old: "Old", New: "New"}}}
	}
	tests := []struct {
		name   string
		e      *BackoutEntry
		force  bool
		action Action
		status Status
		text   string // in the error, or in the changes
	}{
		{"update restored", vossUpd("p1", "renamed"), false, Update, Planned, `first_name "New"→"Old"`},
		{"update drifted", vossUpd("p2", "drifted"), false, Update, Failed, `first_name: before the run "Old", the run wrote "New", now "Other"`},
		{"update drifted, forced", vossUpd("p2", "drifted"), true, Update, Planned, `first_name "Other"→"Old"`},
		{"update of a deleted object", vossUpd("p9", "gone"), false, Update, Failed, "no longer exists"},
		{"create undone", &BackoutEntry{Kind: KindUser, Model: KindUser, Hierarchy: "h", Key: "h/created", Action: Create,
			CreatedID: "p3", Wrote: map[string]any{"username": "created", "role": "R"}}, false, Delete, Planned, `username "created"→<nil>`},
		{"another object of that name is not deleted", &BackoutEntry{Kind: KindUser, Model: KindUser, Hierarchy: "h", Key: "h/lookalike", Action: Create,
			CreatedID: "p-other", Wrote: map[string]any{"username": "lookalike", "role": "R"}}, false, Noop, Planned, ""},
		{"create changed since", &BackoutEntry{Kind: KindUser, Model: KindUser, Hierarchy: "h", Key: "h/created", Action: Create,
			CreatedID: "p3", Wrote: map[string]any{"username": "created", "role": "S"}}, false, Delete, Failed, `role: the run wrote "S", now "R"`},
		{"delete recreated", &BackoutEntry{Kind: KindUser, Model: KindUser, Hierarchy: "h", Key: "h/gone", Action: Delete,
			Before: map[string]any{"username": "gone", "role": "R", "password_last_change_time": "x"}}, false, Create, Planned, `role <nil>→"R"`},
		{"role added is removed", &BackoutEntry{Kind: KindUserRole, Alias: "vm", Key: "vm/Help", RoleID: "r1", Action: Create}, false, Delete, Planned, `role "Help"→<nil>`},
		{"role removed is re-added", &BackoutEntry{Kind: KindUserRole, Alias: "vm", Key: "vm/Other", RoleID: "r2", Action: Delete}, false, Create, Planned, `role <nil>→"Other"`},
		{"unlock undone", &BackoutEntry{Kind: KindPassword, Alias: "vm", Key: "vm", Action: Update,
			Changes: []Change{{Field: "Locked", Old: "false", New: "true"}, {Field: "CredMustChange", Old: nil, New: "false"}}}, false, Update, Planned, `Locked "true"→"false"`},
		{"authz update drifted", &BackoutEntry{Kind: KindAuthz, Key: "ldap", Action: Update,
			Changes: []Change{{Field: "Port", Old: "389", New: "3268"}}}, false, Update, Failed, `now "636"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := revertEntry(st, tc.e, BackoutHeader{}, tc.force)
			op := ops[0]
			var changes []string
			for _, c := range op.Changes {
				changes = append(changes, fmt.Sprintf("%s %s→%s", c.Field, show(c.Old, c.Old != nil), show(c.New, c.New != nil)))
			}
			got := strings.ReplaceAll(strings.Join(changes, "; ")+" | "+op.Error, "(absent)", "<nil>")
			if op.Action != tc.action || op.Status != tc.status && !(tc.status == Planned && op.Status == 0) || !strings.Contains(got, tc.text) {
				t.Fatalf("%s %q: %s", op.Action, op.Status, got)
			}
			if strings.Contains(got, "password_last_change_time") {
				t.Errorf("a read-only field is sent: %s", got)
			}
		})
	}
}
