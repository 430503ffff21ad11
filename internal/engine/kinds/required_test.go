package kinds

import (
	"testing"

	"github.com/bulkprov/bulkprov/internal/schema"
)

func TestMissingRequired(t *testing.T) {
	m := schema.Get(schema.User)
	q := func(answer bool) map[string]any {
		el := map[string]any{"question": "First pet?"}
		if answer {
			el["answer"] = "rex"
		}
		return map[string]any{"username": "u1", "role": "r", "account_information": map[string]any{"security_questions": []any{el}}}
	}
	const path = "account_information.security_questions.[0].answer"
	for _, c := range []struct {
		name    string
		body    map[string]any
		secrets Secrets
		create  bool
		want    string
	}{
		{"question without its answer", q(false), Secrets{}, true, path},
		{"the answer from a secrets file", q(false), secretsOf(path, "rex"), true, ""},
		{"the answer in the body", q(true), Secrets{}, true, ""},
		{"an update sends the array whole", q(false), Secrets{}, false, path},
		{"no array, nothing required", map[string]any{"username": "u1", "role": "r"}, Secrets{}, true, ""},
		{"a create without its role", map[string]any{"username": "u1"}, Secrets{}, true, "role"},
	} {
		if got := missingRequired(m, c.body, c.secrets, c.create); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	rel := schema.Get(schema.AdminUserREL)
	if got := missingRequired(rel, map[string]any{}, Secrets{}, true); got != "hcsUname" {
		t.Errorf("relation without its key: %q", got)
	}
	if got := missingRequired(rel, map[string]any{}, Secrets{}, false); got != "" {
		t.Errorf("an update need not repeat the key: %q", got)
	}
	op := &Op{Action: Create}
	if !failMissing(op, m, q(false), Secrets{}, true) || op.Status != Failed || op.Error != path+": this field is required (a write-only value, which no export carries: give it in the sheet or in a --secrets file)" {
		t.Errorf("failMissing: %+v", op)
	}
}

// secretsOf returns Secrets holding path's value.
func secretsOf(path, value string) Secrets {
	var s Secrets
	s.Set(path, value)
	return s
}
