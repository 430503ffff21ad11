package schema

import "testing"

func TestLookupAndSuggest(t *testing.T) {
	m := Get("DATA/USER")
	if m == nil || m.Name != User {
		t.Fatal("model names are case-insensitive")
	}
	tests := []struct {
		path, canon string
		typ         Type
	}{
		{"Account_Information.Locked", "account_information.locked", Bool},
		{"account_information.security_questions.[3].answer", "account_information.security_questions.[3].answer", String},
		{"account_information.num_of_failed_login_attempts", "account_information.num_of_failed_login_attempts", Integer},
	}
	for _, tc := range tests {
		f, canon := m.Lookup(tc.path)
		if f == nil || canon != tc.canon || f.Type != tc.typ {
			t.Errorf("Lookup(%s) = %v %q", tc.path, f, canon)
		}
	}
	if f, _ := m.Lookup("account_information.[0]"); f != nil {
		t.Error("an index on an object resolved")
	}
	if f, _ := m.Lookup("password"); !f.Secret || f.Match("short") || !f.Match("long-enough") {
		t.Error("password: secret with pattern .{8,}")
	}
	for name, want := range map[string]string{"emial": "email", "usrname": "username", "zzzzzzzz": ""} {
		if got := m.Suggest(name); got != want {
			t.Errorf("Suggest(%s) = %q, want %q", name, got, want)
		}
	}
}
