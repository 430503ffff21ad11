package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

func backoutLines(t *testing.T, lines ...any) []byte {
	t.Helper()
	var out []byte
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, b...), '\n')
	}
	return out
}

// The reader keeps what undoes each write the run may have done: failed
// writes are dropped, the attempts of one operation across a resume are
// merged (the oldest old value, the newest written one), and a torn last
// line — the run killed mid-write — is ignored.
func TestParseBackout(t *testing.T) {
	h := BackoutHeader{Type: "backout", Version: BackoutVersion}
	upd := func(op, old, new string) BackoutEntry {
		return BackoutEntry{Type: "write", Op: op, Kind: KindCUPIUser, Key: "a", Alias: "a", Action: Update,
			Changes: []Change{{Field: "FirstName", Old: old, New: new}}}
	}
	create := BackoutEntry{Type: "write", Op: "c", Kind: KindCUPIUser, Key: "b", Alias: "b", Action: Create, Wrote: map[string]any{"Alias": "b"}}
	tests := []struct {
		name    string
		data    []byte
		want    []string // op ids kept
		first   string   // FirstName old → new of op "u"
		wantErr string
	}{
		{"failed writes are dropped", backoutLines(t, h, create, upd("u", "x", "y"),
			BackoutEntry{Type: "outcome", Op: "c", Status: Failed}), []string{"u"}, "x→y", ""},
		{"attempts of one op are merged", backoutLines(t, h, upd("u", "x", "y"), upd("u", "y", "z"),
			BackoutEntry{Type: "outcome", Op: "u", Status: Done}), []string{"u"}, "x→z", ""},
		{"a failed attempt then a done one", backoutLines(t, h, upd("u", "x", "y"),
			BackoutEntry{Type: "outcome", Op: "u", Status: Failed}, upd("u", "x", "w")), []string{"u"}, "x→w", ""},
		{"torn last line", append(backoutLines(t, h, upd("u", "x", "y")), []byte(`{"type":"write","op":"c","ki`)...), []string{"u"}, "x→y", ""},
		{"bad line inside", append(append(backoutLines(t, h), []byte("{oops\n")...), backoutLines(t, upd("u", "x", "y"))...), nil, "", "corrupt line 2"},
		{"not a back-out file", backoutLines(t, upd("u", "x", "y")), nil, "", "not a bulkprov back-out file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bf, err := ParseBackout(tc.data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range bf.Entries {
				ids = append(ids, e.Op)
				if e.Op == "u" {
					if got := e.Changes[0].Old.(string) + "→" + e.Changes[0].New.(string); got != tc.first {
						t.Errorf("FirstName %s, want %s", got, tc.first)
					}
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Errorf("entries %v, want %v", ids, tc.want)
			}
		})
	}
}

// The back-out file is 0600, a resumed run appends to it after cutting a
// torn last line, and what it holds reads back.
func TestBackoutFileAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.backout.json")
	b, err := CreateBackout(path, BackoutHeader{Command: "apply", Targets: BackoutTargets{VOSS: "https://v"}})
	if err != nil {
		t.Fatal(err)
	}
	op := &Op{ID: "1", Kind: KindCUPIUser, Target: "cupi", Key: "a", Alias: "a", Action: Update,
		Changes: []Change{{Field: "FirstName", Old: "x", New: "y"}, {Field: "Credentials", Old: SecretMarker, New: SecretMarker, Secret: true}}}
	if _, err := backoutIntent(t.Context(), b, op, &Targets{}, Options{}); err != nil {
		t.Fatal(err)
	}
	op.Status = Done
	if err := backoutOutcome(b, op); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"type":"write","op":"torn`)
	f.Close()
	b, err = AppendBackout(path, BackoutHeader{})
	if err != nil {
		t.Fatal(err)
	}
	op2 := &Op{ID: "2", Kind: KindCUPIUser, Target: "cupi", Key: "c", Alias: "c", Action: Create, Body: map[string]any{"Alias": "c"}}
	if _, err := backoutIntent(t.Context(), b, op2, &Targets{}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	bf, err := ReadBackout(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(bf.Entries) != 2 || bf.Header.Targets.VOSS != "https://v" || len(bf.Entries[0].Changes) != 1 ||
		bf.Entries[0].NotRestorable[0] != "Credentials" || bf.Entries[1].Wrote["Alias"] != "c" {
		t.Fatalf("read back: %+v", bf)
	}
}

// Each write's undo is decided by the object's value now: what the run
// wrote is undone, the value before the run is left alone, anything else
// is drift (failed, three values shown) unless forced; only what the run
// created is deleted.
func TestRevertEntry(t *testing.T) {
	st := &state{voss: map[string]*voss.Instance{}, byPkid: map[string]*voss.Instance{}, cupiState: newCUPIState()}
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

// Within a row, the undo runs in reverse dependency order.
func TestRevertRank(t *testing.T) {
	ops := []*Op{
		{Kind: KindUser, Action: Delete}, {Kind: KindCUPIUser, Action: Delete},
		{Kind: KindUserRole, Action: Delete}, {Kind: KindUserRole, Action: Create},
		{Kind: KindCUPIUser, Action: Create}, {Kind: KindUser, Action: Create},
	}
	sort.SliceStable(ops, func(i, j int) bool { return revertRank(ops[i]) < revertRank(ops[j]) })
	var got []string
	for _, op := range ops {
		got = append(got, op.Kind+":"+op.Action.String())
	}
	want := "data/User:create cupi/user:create cupi/userrole:delete cupi/userrole:create cupi/user:delete data/User:delete"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}
