package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
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
