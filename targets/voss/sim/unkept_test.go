package sim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/targets/voss/sim"
)

// A server that answers a write with success and keeps something else: the
// write succeeds and counts as usual; get and export show what was kept.
func TestUnkeptFields(t *testing.T) {
	admin := func(name string) map[string]any {
		u := user(name)
		delete(u, "username")
		return map[string]any{"hcsUname": name, "AdminUser": map[string]any{"username": name, "role": u["role"], "email": "Admin.X@Example.COM"}}
	}
	for _, tc := range []struct {
		name        string
		o           sim.Options
		model       string
		data        func() map[string]any
		update      map[string]any
		path        []string
		create, upd any // kept after the create and after the update; nil: absent
	}{
		{"drop email", sim.Options{DropFields: []string{"data/User:email"}}, "data/User",
			func() map[string]any { u := user("jdoe"); u["email"] = "J.Doe@Example.com"; return u },
			map[string]any{"email": "new@example.com"}, []string{"email"}, nil, nil},
		{"lower email", sim.Options{LowerFields: []string{"data/User:email"}}, "data/User",
			func() map[string]any { u := user("jdoe"); u["email"] = "J.Doe@Example.com"; return u },
			map[string]any{"email": "NEW@Example.com"}, []string{"email"}, "j.doe@example.com", "new@example.com"},
		{"drop nested boolean", sim.Options{DropFields: []string{"data/User:account_information.locked"}}, "data/User",
			func() map[string]any { return user("jdoe") },
			map[string]any{"account_information": map[string]any{"locked": true}}, []string{"account_information", "locked"}, nil, nil},
		{"lower nested in a relation", sim.Options{LowerFields: []string{"relation/HcsAdminUserREL:AdminUser.email"}}, "relation/HcsAdminUserREL",
			func() map[string]any { return admin("adm1") },
			map[string]any{"AdminUser": map[string]any{"email": "Other@Example.COM"}}, []string{"AdminUser", "email"}, "admin.x@example.com", "other@example.com"},
		{"another model is untouched", sim.Options{DropFields: []string{"relation/HcsAdminUserREL:AdminUser.email"}}, "data/User",
			func() map[string]any { u := user("jdoe"); u["email"] = "J.Doe@Example.com"; return u },
			map[string]any{"email": "New@Example.com"}, []string{"email"}, "J.Doe@Example.com", "New@Example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.o.Validate(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			s, c, _ := newPair(t, tc.o, true)
			res, err := c.Create(ctx, tc.model, h, tc.data(), nil)
			if err != nil {
				t.Fatalf("create answered %v; the write must succeed as usual", err)
			}
			check := func(when string, want any) {
				t.Helper()
				in, err := c.Get(ctx, tc.model, res.Pkid)
				if err != nil {
					t.Fatal(err)
				}
				var exported []voss.Instance
				if err := c.Export(ctx, tc.model, h, []string{res.Pkid}, func(i voss.Instance) error { exported = append(exported, i); return nil }); err != nil || len(exported) != 1 {
					t.Fatalf("export: %v", err)
				}
				for _, data := range []map[string]any{in.Data, exported[0].Data} {
					got, ok := at(data, tc.path)
					if want == nil && ok || want != nil && got != want {
						t.Errorf("after the %s %s = %v (present %v), want %v", when, strings.Join(tc.path, "."), got, ok, want)
					}
				}
			}
			check("create", tc.create)
			if _, err := c.Update(ctx, tc.model, res.Pkid, h, tc.update, nil); err != nil {
				t.Fatalf("update answered %v; the write must succeed as usual", err)
			}
			check("update", tc.upd)
			key := tc.data()["username"]
			if key == nil {
				key = tc.data()["hcsUname"]
			}
			if w := s.Writes.Snapshot()[tc.model+":"+h+"/"+key.(string)+":update"]; w != 1 {
				t.Errorf("update writes counted %d, want 1", w)
			}
		})
	}
}

// An update of a dropped field keeps what the instance held before (here
// from before the server began to drop it: its saved state).
func TestDropKeepsTheOldValue(t *testing.T) {
	ctx := context.Background()
	before, c, _ := newPair(t, sim.Options{}, false)
	u := user("jdoe")
	u["last_name"] = "Doe"
	res, err := c.Create(ctx, "data/User", h, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := before.Save()
	if err != nil {
		t.Fatal(err)
	}
	after, c, _ := newPair(t, sim.Options{DropFields: []string{"data/User:last_name"}}, false)
	if err := after.Load(saved); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, "data/User", res.Pkid, h, map[string]any{"last_name": "Smith", "first_name": "Jane"}, nil); err != nil {
		t.Fatal(err)
	}
	in, _ := c.Get(ctx, "data/User", res.Pkid)
	if in.Data["last_name"] != "Doe" || in.Data["first_name"] != "Jane" {
		t.Fatalf("data = %v: want last_name still Doe, first_name Jane", in.Data)
	}
}

func at(data map[string]any, path []string) (any, bool) {
	for _, p := range path[:len(path)-1] {
		sub, ok := data[p].(map[string]any)
		if !ok {
			return nil, false
		}
		data = sub
	}
	v, ok := data[path[len(path)-1]]
	return v, ok
}

func TestUnkeptFieldsValidate(t *testing.T) {
	for _, tc := range []struct {
		drop, lower []string
		want        string // "" for valid
	}{
		{[]string{"data/User:email"}, []string{"relation/HcsAdminUserREL:AdminUser.first_name"}, ""},
		{[]string{"data/User:account_information.disabled"}, nil, ""},
		{[]string{"data/User"}, nil, "want MODEL:FIELD"},
		{[]string{"data/Phone:email"}, nil, "want MODEL:FIELD"},
		{[]string{"data/User:"}, nil, "want MODEL:FIELD"},
		{[]string{"data/User:emial"}, nil, "data/User has no field emial"},
		{[]string{"data/User:Email"}, nil, "has no field Email"}, // field names are case-sensitive
		{[]string{"data/User:password"}, nil, "write-only"},
		{[]string{"data/User:account_information.last_login_time"}, nil, "read only"},
		{[]string{"data/User:account_information"}, nil, "not a single value"},
		{[]string{"data/User:email.x"}, nil, "email is not an object"},
		{[]string{"data/User:username"}, nil, "required"},
		{[]string{"relation/HcsAdminUserREL:AdminUser.role"}, nil, "required"},
		{nil, []string{"data/User:set_language"}, "not a string"},
		{nil, []string{"data/User:username"}, ""}, // lower-casing a key is allowed
	} {
		err := sim.Options{DropFields: tc.drop, LowerFields: tc.lower}.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v %v: %v, want valid", tc.drop, tc.lower, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v %v: %v, want an error containing %q", tc.drop, tc.lower, err, tc.want)
		}
	}
}
