package kinds

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
)

// TestSendBodyDerived checks that a create planned without a Body sends
// exactly the tree it was planned from: every tree derivable accepts is
// rebuilt from its flattened changes; a tree it refuses (some of which
// flatten loses, the rest kept out to be safe) is held as the Body.
func TestSendBodyDerived(t *testing.T) {
	cases := []struct {
		name      string
		tree      string
		derivable bool
	}{
		{"flat", `{"username":"a","email":"a@x","active":true,"n":3,"none":null}`, true},
		{"nested", `{"account_information":{"change_password_on_login":true,"language":"en"},"name":"a"}`, true},
		{"scalar array", `{"tags":["x","y","z"]}`, true},
		{"array of objects", `{"phones":[{"n":"1","t":"w"},{"n":"2","t":{"deep":"d"}}],"x":"y"}`, true},
		{"mixed array", `{"a":["s",{"k":"v"}]}`, true},
		{"empty top", `{}`, true},
		{"empty object", `{"a":{},"b":"c"}`, false},
		{"empty array", `{"a":[],"b":"c"}`, false},
		{"nested empty object", `{"a":{"b":{}}}`, false},
		{"empty object in array", `{"a":[{}]}`, false},
		{"array in array", `{"a":[["x"]]}`, false},
		{"dotted key", `{"a.b":"c"}`, false},
		{"index-like key", `{"[0]":"c"}`, false},
		{"empty key", `{"":"c"}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tree map[string]any
			if err := json.Unmarshal([]byte(c.tree), &tree); err != nil {
				t.Fatal(err)
			}
			if got := derivable(tree); got != c.derivable {
				t.Fatalf("derivable = %v, want %v", got, c.derivable)
			}
			op := &Op{Action: Create}
			plan.Flatten("", tree, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
			op.Changes = append(op.Changes, Change{Field: "password", New: SecretMarker, Secret: true})
			if got := op.SendBody(); c.derivable && !reflect.DeepEqual(got, tree) {
				t.Fatalf("rebuilt %v from %v", got, tree)
			}
		})
	}
}

// TestSendBodyHeld checks that an op holding a Body sends it, and that
// withSecrets never hands out the plan's own tree.
func TestSendBodyHeld(t *testing.T) {
	body := map[string]any{"a": map[string]any{}}
	op := &Op{Action: Create, Body: body, Changes: []Change{{Field: "other", New: "x"}}}
	if got := op.SendBody(); !reflect.DeepEqual(got, body) {
		t.Fatalf("sendBody = %v, want the held %v", got, body)
	}
	op.Secrets.Set("pw", "s3cret")
	sent := withSecrets(op)
	if sent["pw"] != "s3cret" || len(body) != 1 {
		t.Fatalf("withSecrets = %v (held body now %v): want the secret in a copy", sent, body)
	}
	upd := &Op{Action: Update}
	upd.Secrets.Set("pw", "s3cret")
	if sent := withSecrets(upd); sent["pw"] != "s3cret" {
		t.Fatalf("withSecrets of an update without a body = %v", sent)
	}
}

// FuzzSendBody checks, for any JSON object, that a tree derivable accepts
// is what sendBody rebuilds from its flattened changes: a create planned
// without its Body sends exactly what it was planned from.
func FuzzSendBody(f *testing.F) {
	for _, s := range []string{
		`{"a":"b"}`, `{"a":{"b":[1,{"c":null}]}}`, `{"a":[]}`, `{"a":{}}`, `{"a.b":1}`,
		`{"x":[{"y":[{"z":"1"}]},"s"]}`, `{"a":[["b"]]}`, `{"":{"[1]":2}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tree map[string]any
		if json.Unmarshal(b, &tree) != nil || tree == nil || !derivable(tree) {
			return
		}
		op := &Op{Action: Create}
		plan.Flatten("", tree, func(p string, v any) { op.Changes = append(op.Changes, Change{Field: p, New: v}) })
		if got := op.SendBody(); !reflect.DeepEqual(got, tree) {
			t.Fatalf("rebuilt %#v from %#v", got, tree)
		}
	})
}
