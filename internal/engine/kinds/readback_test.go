package kinds

import (
	"encoding/json"
	"testing"
)

// How a value not kept is said: the field, the value wanted, the value
// held, and a normalisation named as such.
func TestNotKeptWords(t *testing.T) {
	for _, tc := range []struct {
		n    NotKept
		want string
	}{
		{NotKept{Field: "email", Wanted: "J.Doe@x.com", Absent: true}, `email: wanted "J.Doe@x.com", server holds nothing (not kept)`},
		{NotKept{Field: "email", Wanted: "J.Doe@x.com", Held: ""}, `email: wanted "J.Doe@x.com", server holds nothing (not kept)`},
		{NotKept{Field: "email", Wanted: "J.Doe@x.com", Held: "j.doe@x.com"}, `email: wanted "J.Doe@x.com", server holds "j.doe@x.com" (kept lower-cased)`},
		{NotKept{Field: "Alias", Wanted: "jdoe", Held: "JDOE"}, `Alias: wanted "jdoe", server holds "JDOE" (kept upper-cased)`},
		{NotKept{Field: "FirstName", Wanted: "McDonald", Held: "Mcdonald"}, `FirstName: wanted "McDonald", server holds "Mcdonald" (kept with its case changed)`},
		{NotKept{Field: "LastName", Wanted: " Doe ", Held: "Doe"}, `LastName: wanted " Doe ", server holds "Doe" (kept with spaces trimmed)`},
		{NotKept{Field: "phone", Wanted: "+1 (555) 0100", Held: "15550100"}, `phone: wanted "+1 (555) 0100", server holds "15550100" (kept with spaces or punctuation changed)`},
		{NotKept{Field: "TimeZone", Wanted: "Europe/Paris", Held: "UTC"}, `TimeZone: wanted "Europe/Paris", server holds "UTC"`},
		{NotKept{Field: "locked", Wanted: true, Held: false}, `locked: wanted "true", server holds "false"`},
		{NotKept{Field: "port", Wanted: json.Number("636"), Held: "389"}, `port: wanted "636", server holds "389"`},
		{NotKept{Field: "Credentials", Proof: "TimeChanged did not move (x): the value was not set"}, `Credentials: TimeChanged did not move (x): the value was not set`},
	} {
		if got := tc.n.Words(); got != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.n, got, tc.want)
		}
	}
	op := &Op{Target: "voss", Kind: KindUser, Key: "sys.x/jdoe"}
	got := NotKeptError(op, []NotKept{{Field: "email", Wanted: "J.Doe@x.com", Held: "j.doe@x.com"}, {Field: "first_name", Wanted: "J", Absent: true}})
	want := `value not kept: voss data/User sys.x/jdoe: email: wanted "J.Doe@x.com", server holds "j.doe@x.com" (kept lower-cased); first_name: wanted "J", server holds nothing (not kept)`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// compareChanges reads each written field, never a secret, and calls
// kept what compares the same as the plan's value (booleans and numbers
// by their text, as the diff does).
func TestCompareChanges(t *testing.T) {
	op := &Op{Changes: []Change{
		{Field: "email", New: "A@x.com"},
		{Field: "account_information.locked", New: true},
		{Field: "password", New: SecretMarker, Secret: true},
		{Field: "gone", Old: "x", New: nil},
		{Field: "dropped", New: "v"},
	}}
	held := map[string]any{"email": "A@x.com", "account_information.locked": "true"}
	got := compareChanges(op, func(f string) (any, bool) { v, ok := held[f]; return v, ok })
	if len(got) != 1 || got[0].Field != "dropped" || !got[0].Absent {
		t.Errorf("got %+v, want only dropped, absent", got)
	}
}
