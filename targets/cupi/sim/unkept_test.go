package sim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/cupi/sim"
)

// A server that answers a write with success and keeps something else: the
// write answers 201/204 as usual; a read shows what was kept.
func TestUnkeptFields(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name              string
		o                 sim.Options
		field             string
		create, update    string
		kept, keptUpdated string
	}{
		{"drop email", sim.Options{DropFields: []string{"user:EmailAddress"}}, "EmailAddress", "J.Doe@Example.com", "new@example.com", "", ""},
		{"lower email", sim.Options{LowerFields: []string{"user:EmailAddress"}}, "EmailAddress", "J.Doe@Example.com", "NEW@Example.com", "j.doe@example.com", "new@example.com"},
		{"dropped time zone keeps the template's", sim.Options{DropFields: []string{"User:TimeZone"}}, "TimeZone", "4", "35", "190", "190"},
		{"other fields untouched", sim.Options{DropFields: []string{"user:Title"}}, "EmailAddress", "J.Doe@Example.com", "New@Example.com", "J.Doe@Example.com", "New@Example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.o.Validate(); err != nil {
				t.Fatal(err)
			}
			s, c, _ := newPair(t, tc.o)
			id, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "jdoe", "DtmfAccessId": "1001", tc.field: tc.create})
			if err != nil {
				t.Fatalf("create answered %v; the write must succeed as usual", err)
			}
			check := func(when, want string) {
				t.Helper()
				u, err := c.User(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				found, _ := c.FindUser(ctx, "jdoe")
				for _, o := range []cupi.Object{u, found} {
					if o[tc.field] != want {
						t.Errorf("after the %s %s = %q, want %q", when, tc.field, o[tc.field], want)
					}
				}
			}
			check("create", tc.kept)
			if err := c.UpdateUser(ctx, id, cupi.Object{tc.field: tc.update}); err != nil {
				t.Fatalf("update answered %v; the write must succeed as usual", err)
			}
			check("update", tc.keptUpdated)
			if w := s.Writes.Snapshot()["cupi/user:jdoe:update"]; w != 1 {
				t.Errorf("update writes counted %d, want 1", w)
			}
		})
	}
}

func TestUnkeptCredentialAndAuthz(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newPair(t, sim.Options{DropFields: []string{"credential:Locked"}, LowerFields: []string{"authzserver:ServerNodeAddress"}})
	id, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "jdoe", "DtmfAccessId": "1001"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetCredential(ctx, id, cupi.PIN, cupi.Object{"Locked": "true", "CredMustChange": "false"}); err != nil {
		t.Fatal(err)
	}
	cred, err := c.Credential(ctx, id, cupi.PIN)
	if err != nil || cred["Locked"] != "false" || cred["CredMustChange"] != "false" {
		t.Fatalf("credential = %v, %v: want Locked still false, CredMustChange set", cred, err)
	}
	if _, err := c.CreateAuthzServer(ctx, cupi.Object{"DisplayName": "LDAP", "ServerNodeAddress": "LDAP.Example.COM", "ServerPassword": "Bind-Secret-1"}); err != nil {
		t.Fatal(err)
	}
	servers, err := c.AuthzServers(ctx)
	if err != nil || len(servers) != 1 || servers[0]["ServerNodeAddress"] != "ldap.example.com" || servers[0]["DisplayName"] != "LDAP" {
		t.Fatalf("authz servers = %v, %v: want the address lower-cased, the name kept", servers, err)
	}
}

func TestUnkeptFieldsValidate(t *testing.T) {
	for _, tc := range []struct {
		drop, lower []string
		want        string // "" for valid
	}{
		{[]string{"user:EmailAddress", "credential:Locked"}, []string{"authzserver:ServerNodeAddress", "user:Alias"}, ""},
		{[]string{"USER:Title"}, nil, ""}, // object names in any case
		{[]string{"EmailAddress"}, nil, "want OBJECT:FIELD"},
		{[]string{"users:EmailAddress"}, nil, "want OBJECT:FIELD"},
		{[]string{"user:"}, nil, "want OBJECT:FIELD"},
		{[]string{"user:Email"}, nil, "user has no writable field Email (fields: "},
		{[]string{"user:ObjectId"}, nil, "no writable field"},
		{[]string{"credential:Credentials"}, nil, "write-only"},
		{nil, []string{"authzserver:ServerPassword"}, "write-only"},
		{[]string{"user:Alias"}, nil, "required"},
		{[]string{"user:DtmfAccessId"}, nil, "required"},
		{[]string{"authzserver:DisplayName"}, nil, "required"},
	} {
		err := sim.Options{DropFields: tc.drop, LowerFields: tc.lower}.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v %v: %v, want valid", tc.drop, tc.lower, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v %v: %v, want an error containing %q", tc.drop, tc.lower, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "Credentials,") {
			t.Errorf("the list of fields names a secret: %v", err)
		}
	}
}
