package kinds

import (
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

// The credential kinds without a server: diff (a value the run state
// knows is not sent again), inverse, undo order and the TimeChanged proof.
func TestCredentialKind(t *testing.T) {
	want := func(kind string, mod func(*Want)) Want {
		w := Want{Target: "cupi", Kind: kind, Key: "jdoe", Alias: "jdoe", Fields: map[string]any{}}
		if mod != nil {
			mod(&w)
		}
		return w
	}
	withPIN := func(w *Want) { w.Secrets = SecretsOf("Credentials", "4711-0815") }
	diffs := []struct {
		name   string
		kind   string
		exists bool
		known  bool // the run state knows the value as applied
		want   Want
		ops    []wantOp
	}{
		{"set a PIN on a new user", KindPIN, false, false, want(KindPIN, withPIN), []wantOp{{Update, "jdoe", "Credentials", ""}}},
		{"set a PIN not known as applied", KindPIN, true, false, want(KindPIN, withPIN), []wantOp{{Update, "", "Credentials", ""}}},
		{"a PIN known as applied is not sent", KindPIN, true, true, want(KindPIN, withPIN), []wantOp{{Noop, "", "", ""}}},
		{"a setting that differs", KindPassword, true, false, want(KindPassword, func(w *Want) { w.Fields["DoesntExpire"] = "true" }), []wantOp{{Update, "", "DoesntExpire", ""}}},
		{"a policy that does not exist fails", KindPassword, true, false, want(KindPassword, func(w *Want) { w.CUPI = &CUPIWant{PolicyName: "Strict"} }), []wantOp{{Update, "", "", "credential policy"}}},
	}
	for _, tc := range diffs {
		t.Run("diff/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			if tc.exists {
				f.user("jdoe", "u1")
				f.st.creds["u1|"+credKind(tc.kind)] = cupi.Object{"DoesntExpire": "false", "TimeChanged": "2026-01-01 00:00:00.000"}
			}
			if tc.known {
				op := &Op{Target: "cupi", Kind: tc.kind, UserID: "u1"}
				scope := f.t.SecretScope(op, "Credentials")
				f.o.RunState.Set(scope, f.o.RunState.Hash(scope, "4711-0815"))
			}
			ops := f.diff(tc.want)
			checkOps(t, ops, tc.ops)
			if tc.exists && ops[0].Secrets.Len() > 0 && !ops[0].HasTimeBefore() {
				t.Error("a set of an existing user's credential holds no TimeChanged: its lost answer could not be proven")
			}
		})
	}

	inverses := []struct {
		name   string
		exists bool
		entry  BackoutEntry
		ops    []wantOp
	}{
		{"a setting is put back", true, BackoutEntry{Action: Update, Changes: []Change{{Field: "DoesntExpire", Old: "true", New: "false"}}}, []wantOp{{Update, "", "DoesntExpire", ""}}},
		{"a secret set is not put back", true, BackoutEntry{Action: Update, NotRestorable: []string{"Credentials"}}, []wantOp{{Noop, "", "", ""}}},
		{"the user is gone, and its credentials with it", false, BackoutEntry{Action: Update, Changes: []Change{{Field: "DoesntExpire", Old: "true", New: "false"}}}, []wantOp{{Noop, "", "", ""}}},
	}
	for _, tc := range inverses {
		t.Run("inverse/"+tc.name, func(t *testing.T) {
			f := newKindFixture()
			if tc.exists {
				f.user("jdoe", "u1")
				f.st.creds["u1|"+cupi.Password] = cupi.Object{"DoesntExpire": "false"}
			}
			e := tc.entry
			e.Target, e.Kind, e.Key, e.Alias = "cupi", KindPassword, "jdoe", "jdoe"
			checkOps(t, revertEntry(f.st, &e, BackoutHeader{}, false), tc.ops)
		})
	}

	for _, kind := range []string{KindPassword, KindPIN} {
		k := Of(kind)
		if got := revertRank(&Op{Kind: kind, Action: Update}); got != rankChild {
			t.Errorf("order: undo rank of %s = %d, want %d", kind, got, rankChild)
		}
		if !k.TimeProof() || !k.NeedsUser() {
			t.Errorf("%s: a set must be proven by TimeChanged and run after its user", kind)
		}
		if w := k.ReadWant(&BackoutEntry{Kind: kind, Alias: "jdoe"}); len(w.Fields) == 0 {
			t.Errorf("%s: a revert must read the settings", kind)
		}
	}
}
