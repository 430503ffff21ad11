package kinds

import (
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// An operation that cannot be done is labelled with what it would have
// done — a create that fails is a create, not a noop (issue 24: reports
// said "noop" for a failed create) — and a misspelt name the target does
// not hold gets the nearest one it holds, as columns do.
func TestFailedOperationKeepsItsAction(t *testing.T) {
	cupiUser := func(mod func(*CUPIWant)) Want {
		c := &CUPIWant{Template: DefaultTemplate, CreateFields: Pairs{{Name: "Alias", Value: "jdoe"}, {Name: "DtmfAccessId", Value: "1001"}}}
		if mod != nil {
			mod(c)
		}
		return Want{Target: "cupi", Kind: KindCUPIUser, Key: "jdoe", Alias: "jdoe", Fields: map[string]any{}, CUPI: c}
	}
	vossUser := func(hier, role string) Want {
		f := map[string]any{"username": "jdoe"}
		if role != "" {
			f["role"] = role
		}
		return Want{Target: "voss", Kind: KindUser, Key: hier + "/jdoe", Fields: f, VOSS: &VOSSWant{Model: KindUser, Hierarchy: hier, KeyValue: "jdoe"}}
	}
	cases := []struct {
		name   string
		want   Want
		action Action
		err    []string // substrings of the error
	}{
		{"a CUPI user with no DtmfAccessId", cupiUser(func(c *CUPIWant) { c.NoCreate = "the row has no DtmfAccessId" }), Create, []string{"DtmfAccessId"}},
		{"a CUPI user with a misspelt template", cupiUser(func(c *CUPIWant) { c.Template = "voicemailusertemplat" }), Create, []string{`user template "voicemailusertemplat"`, `did you mean "voicemailusertemplate"?`}},
		{"a VOSS user under a misspelt hierarchy", vossUser("sys.hcs.CS-P.CS-NB.AAAGlobl", ""), Create, []string{"hierarchy sys.hcs.CS-P.CS-NB.AAAGlobl does not exist", `did you mean "sys.hcs.CS-P.CS-NB.AAAGlobal"?`}},
		{"a VOSS user with a misspelt role", vossUser("sys.hcs.CS-P.CS-NB.AAAGlobal", "Help Desk Adminstrator"), Create, []string{`role "Help Desk Adminstrator"`, `did you mean "Help Desk Administrator"?`}},
		{"a credential with a misspelt policy", Want{Target: "cupi", Kind: KindPassword, Key: "jdoe", Alias: "jdoe", Fields: map[string]any{}, CUPI: &CUPIWant{PolicyName: "Strict Polcy"}}, Update, []string{`credential policy "Strict Polcy"`, `did you mean "Strict Policy"?`}},
		{"a CUPI role that does not exist", Want{Target: "cupi", Kind: KindUserRole, Key: "jdoe", Alias: "jdoe", Roles: []string{"Help Desk Adminstrator"}}, Create, []string{`did you mean "Help Desk Administrator"?`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newKindFixture()
			f.st.nodes = map[string]bool{"sys": true, "sys.hcs": true, "sys.hcs.CS-P.CS-NB.AAAGlobal": true}
			f.st.vossRoles["sys.hcs.CS-P.CS-NB.AAAGlobal"] = map[string]bool{"Help Desk Administrator": true}
			f.st.templates["voicemailusertemplate"] = true
			f.st.policies["strict policy"] = cupi.Object{"DisplayName": "Strict Policy", "ObjectId": "p1"}
			f.st.roles["help desk administrator"] = cupi.Object{"RoleName": "Help Desk Administrator", "ObjectId": "r1"}
			if tc.want.Kind == KindPassword || tc.want.Kind == KindUserRole {
				f.user("jdoe", "u1")
			}
			ops := f.diff(tc.want)
			if len(ops) != 1 {
				t.Fatalf("%d operations: %+v", len(ops), ops)
			}
			op := ops[0]
			if op.Status != Failed || op.Action != tc.action {
				t.Errorf("%s %s, want %s failed", op.Action, op.Status, tc.action)
			}
			for _, s := range tc.err {
				if !strings.Contains(op.Error, s) {
					t.Errorf("error %q lacks %q", op.Error, s)
				}
			}
		})
	}
}
