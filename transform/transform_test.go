package transform

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
)

func kinds(ws []Want) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Kind)
	}
	return out
}

func TestMap(t *testing.T) {
	cfg := &Config{
		Hierarchies:        map[string]string{"sys.old": "sys.hcs.new"},
		Roles:              map[string][]string{"Admin": {"User Administrator", "Help Desk Administrator"}},
		CredentialPolicies: map[string]string{"Old-CP": "Default Credential Policy"},
		CUPIUserTemplate:   "tmpl",
	}
	user := func(action loader.Action, fields map[string]any) *loader.Record {
		return &loader.Record{Model: "data/User", Action: action, Hierarchy: "sys.old.site", Fields: fields}
	}
	tests := []struct {
		name  string
		rec   *loader.Record
		kinds []string
		check func(t *testing.T, ws []Want)
	}{
		{"add user maps to VOSS and CUPI",
			user(loader.Add, map[string]any{"username": "u", "role": "Admin", "password": "Secret-123", "pin": "123456", "DtmfAccessId": "0100",
				"account_information": map[string]any{"locked": true, "credential_policy": "Old-CP"}}),
			[]string{KindUser, KindCUPIUser, KindUserRole, KindPassword, KindPIN},
			func(t *testing.T, ws []Want) {
				v := ws[0]
				if v.VOSS.Hierarchy != "sys.hcs.new.site" || v.Key != "sys.hcs.new.site/u" {
					t.Errorf("hierarchy rename: %s %s", v.VOSS.Hierarchy, v.Key)
				}
				if _, ok := v.Fields["password"]; ok || !hasSecret(v.Secrets, "password", "Secret-123") {
					t.Errorf("password must move to Secrets: %v", v.Fields)
				}
				if _, ok := v.Fields["DtmfAccessId"]; ok {
					t.Error("DtmfAccessId is not a VOSS field")
				}
				if ws[1].CUPI.Template != "tmpl" || !hasField(ws[1].CUPI.CreateFields, "DtmfAccessId", "0100") {
					t.Errorf("cupi user: %+v", ws[1])
				}
				if !reflect.DeepEqual(ws[2].Roles, []string{"User Administrator", "Help Desk Administrator"}) {
					t.Errorf("roles %v", ws[2].Roles)
				}
				if ws[3].Fields["Locked"] != "true" || ws[3].CUPI.PolicyName != "Default Credential Policy" || !hasSecret(ws[3].Secrets, "Credentials", "Secret-123") {
					t.Errorf("password credential %+v", ws[3])
				}
				if !hasSecret(ws[4].Secrets, "Credentials", "123456") {
					t.Errorf("pin %+v", ws[4])
				}
			}},
		{"modify of an email only leaves CUPI alone", user(loader.Modify, map[string]any{"username": "u", "email": "e@x"}), []string{KindUser}, nil},
		{"delete removes the mapped roles, never the CUPI user", user(loader.Delete, map[string]any{"username": "u", "role": "Admin"}),
			[]string{KindUser, KindUserRole},
			func(t *testing.T, ws []Want) {
				if !ws[0].Delete || !ws[1].Delete {
					t.Error("delete wants")
				}
			}},
		{"delete without a role takes the VOSS user's current one", user(loader.Delete, map[string]any{"username": "u"}),
			[]string{KindUser, KindUserRole},
			func(t *testing.T, ws []Want) {
				if ws[1].Roles != nil || ws[1].CUPI == nil || ws[1].CUPI.RolesOf == nil || ws[1].CUPI.RolesOf("Admin")[0] != "User Administrator" {
					t.Errorf("%+v", ws[1])
				}
				if ws[1].VOSS == nil || ws[1].VOSS.Hierarchy != ws[0].VOSS.Hierarchy {
					t.Errorf("the role delete must read the VOSS user's role at its hierarchy: %+v", ws[1].VOSS)
				}
			}},
		{"unmapped role maps to the same name", user(loader.Add, map[string]any{"username": "u", "role": "Technician"}),
			[]string{KindUser, KindCUPIUser, KindUserRole},
			func(t *testing.T, ws []Want) {
				if ws[1].CUPI.NoCreate == "" || ws[2].Roles[0] != "Technician" {
					t.Errorf("%+v", ws)
				}
			}},
		{"cupi/User exact roles", &loader.Record{Model: "cupi/User", Action: loader.Add, Fields: map[string]any{"Alias": "vm", "DtmfAccessId": "1", "Roles": "b; a;", "Pin": "123456", "Template": "t2"}},
			[]string{KindCUPIUser, KindUserRole, KindPIN},
			func(t *testing.T, ws []Want) {
				if ws[0].CUPI.Template != "t2" || !ws[1].ExactRoles || !reflect.DeepEqual(ws[1].Roles, []string{"a", "b"}) {
					t.Errorf("%+v %+v", ws[0], ws[1])
				}
			}},
		{"authz server password is a secret", &loader.Record{Model: "cupi/AuthzServer", Action: loader.Add, Fields: map[string]any{"DisplayName": "A", "ServerPassword": "pw", "Port": int64(8443)}},
			[]string{KindAuthz},
			func(t *testing.T, ws []Want) {
				if _, ok := ws[0].Fields["ServerPassword"]; ok || !hasSecret(ws[0].Secrets, "ServerPassword", "pw") || ws[0].Fields["Port"] != "8443" {
					t.Errorf("%+v", ws[0])
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := Map(tc.rec, cfg, Options{})
			if got := kinds(row.Wants); !reflect.DeepEqual(got, tc.kinds) {
				t.Fatalf("kinds %v, want %v", got, tc.kinds)
			}
			if tc.check != nil {
				tc.check(t, row.Wants)
			}
		})
	}
}

func TestLoadConfigRefusesUnknownKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	_ = os.WriteFile(p, []byte(`{"defaultHierarchy":"sys","role":{}}`), 0o600)
	if _, _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := LoadConfig("../samples/config.json"); err != nil {
		t.Fatalf("sample config: %v", err)
	}
}

// hasField reports whether fields holds value in name.
func hasField(fields engine.Pairs, name, value string) bool {
	v, ok := fields.Get(name)
	return ok && v == value
}

// hasSecret reports whether secrets holds value at path.
func hasSecret(secrets engine.Secrets, path, value string) bool {
	v, ok := secrets.Get(path)
	return ok && v == value
}
