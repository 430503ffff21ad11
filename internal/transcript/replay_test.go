package transcript_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/bulkprov/bulkprov/internal/doctor"
	"github.com/bulkprov/bulkprov/internal/transcript"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
	"github.com/bulkprov/bulkprov/transform"
)

// fixture is the checked-in transcript (go generate ./internal/transcript).
const fixture = "testdata/sim/"

const h = "sys.hcs.CS-P.CS-NB.AAAGlobal"

// replay returns a client over the transcript at path and the base URL it
// was recorded against (any would do: requests match on path and query).
func replay(t *testing.T, path string) (*http.Client, string) {
	t.Helper()
	rt, err := transcript.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cassette.Load(strings.TrimSuffix(path, ".yaml"))
	if err != nil || len(c.Interactions) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	u, _ := url.Parse(c.Interactions[0].Request.URL)
	return &http.Client{Transport: rt}, u.Scheme + "://" + u.Host
}

// The credentials replayed with are not the recorded ones (those are
// redacted): a transcript matches on what was asked, not who asked.
var anyone = targets.Credentials{User: "replayer", Password: "not-the-recorded-one"}

// The VOSS client's read paths, as doctor and plan use them, pinned to
// what the transcript's server said.
func TestReplayVOSSReads(t *testing.T) {
	ctx := context.Background()
	hc, base := replay(t, fixture+"voss.yaml")
	c := vossload.New(base, hc, anyone)
	nodes, err := c.HierarchyNodes(ctx)
	if err != nil || len(nodes) != 8 || !nodes[h] || !nodes[h+".Site1"] {
		t.Fatalf("HierarchyNodes = %v, %v; want the 8 nodes of the tree", nodes, err)
	}
	roles, err := c.Roles(ctx, h)
	if err != nil || len(roles) != 12 || !contains(roles, "AAAGlobalENTCustomerAdministrator") {
		t.Fatalf("Roles = %v, %v", roles, err)
	}
	for _, tc := range []struct {
		model, key string
		total      int
		first      string
	}{
		{"data/User", "username", 60, "user001"},
		{"relation/HcsAdminUserREL", "hcsUname", 5, "AAAGlobalAdmin1"},
	} {
		total, page, err := c.Page(ctx, tc.model, h, 0, 1)
		if err != nil || total != tc.total || len(page) != 1 || page[0].Data[tc.key] != tc.first || page[0].Hierarchy == "" {
			t.Fatalf("%s: Page = %d %+v, %v; want %d in all, the first %s placed in its hierarchy", tc.model, total, page, err, tc.total, tc.first)
		}
		pkid := page[0].Pkid
		in, err := c.Get(ctx, tc.model, pkid)
		if err != nil || in.Pkid != pkid || in.Hierarchy != page[0].Hierarchy || in.Data[tc.key] != tc.first {
			t.Fatalf("%s: Get = %+v, %v", tc.model, in, err)
		}
		if in.Data["password"] != nil {
			t.Errorf("%s: Get holds a password", tc.model)
		}
		var found []voss.Summary
		if err := c.List(ctx, tc.model, h, [2]string{tc.key, tc.first}, func(s voss.Summary) error { found = append(found, s); return nil }); err != nil || len(found) != 1 || found[0].Pkid != pkid {
			t.Fatalf("%s: the lookup by %s = %+v, %v", tc.model, tc.key, found, err)
		}
		var exported []voss.Instance
		if err := c.Export(ctx, tc.model, h, []string{pkid}, func(i voss.Instance) error { exported = append(exported, i); return nil }); err != nil || len(exported) != 1 {
			t.Fatalf("%s: Export = %+v, %v", tc.model, exported, err)
		}
		if e := exported[0]; e.Pkid != pkid || e.Hierarchy != h || e.Data[tc.key] != tc.first {
			t.Errorf("%s: exported %+v, want %s at %s", tc.model, e, tc.first, h)
		}
	}
}

// The CUPI client's read paths, as doctor and plan use them.
func TestReplayCUPIReads(t *testing.T) {
	ctx := context.Background()
	hc, base := replay(t, fixture+"cupi.yaml")
	c := cupi.New(base, hc, anyone)
	total, users, err := c.Page(ctx, "/users", "User", 1)
	if err != nil || total != 66 || len(users) != 1 || users[0]["Alias"] != "user001" {
		t.Fatalf("Page(/users) = %d %v, %v", total, users, err)
	}
	id := users[0]["ObjectId"]
	u, err := c.User(ctx, id)
	if err != nil || u["Alias"] != "user001" || u["ObjectId"] != id || u["DtmfAccessId"] == "" {
		t.Fatalf("User = %v, %v", u, err)
	}
	found, err := c.FindUser(ctx, "user001")
	if err != nil || found["ObjectId"] != id {
		t.Fatalf("FindUser = %v, %v", found, err)
	}
	if _, err := c.UserRoles(ctx, id); err != nil {
		t.Fatalf("UserRoles: %v", err)
	}
	for _, kind := range []string{cupi.Password, cupi.PIN} {
		cred, err := c.Credential(ctx, id, kind)
		if err != nil || cred["TimeChanged"] == "" || cred["Credentials"] != "" || cred["CredentialPolicyObjectId"] == "" {
			t.Fatalf("Credential(%s) = %v, %v", kind, cred, err)
		}
	}
	for _, tc := range []struct {
		list  func(context.Context) ([]cupi.Object, error)
		field string
		n     int
		has   string
	}{
		{c.Roles, "RoleName", 11, "Help Desk Administrator"},
		{c.CredentialPolicies, "DisplayName", 3, "Default Credential Policy"},
		{c.UserTemplates, "Alias", 2, "voicemailusertemplate"},
		{c.AuthzServers, "DisplayName", 2, ""},
	} {
		objs, err := tc.list(ctx)
		if err != nil || len(objs) != tc.n {
			t.Fatalf("%s list = %d objects, %v; want %d", tc.field, len(objs), err, tc.n)
		}
		var names []string
		for _, o := range objs {
			names = append(names, o[tc.field])
		}
		if tc.has != "" && !contains(names, tc.has) {
			t.Errorf("%v holds no %s", names, tc.has)
		}
	}
}

// A request the transcript does not hold fails, and says so: a client
// that changed what it asks is caught.
func TestReplayUnknownRequest(t *testing.T) {
	hc, base := replay(t, fixture+"cupi.yaml")
	_, err := cupi.New(base, hc, anyone).FindUser(context.Background(), "nobody-recorded")
	if !errors.Is(err, cassette.ErrInteractionNotFound) {
		t.Fatalf("FindUser of an unrecorded alias: %v, want %v", err, cassette.ErrInteractionNotFound)
	}
}

// doctor replayed from the transcript finds what it found live (without
// the TLS state a transcript does not keep: its tls check warns).
func TestReplayDoctor(t *testing.T) {
	cfg, _, err := transform.LoadConfig("../../samples/config.json")
	if err != nil {
		t.Fatal(err)
	}
	var ts []doctor.Target
	for _, name := range []string{"voss", "cupi"} {
		hc, base := replay(t, fixture+name+".yaml")
		dt := doctor.Target{Name: name, URL: base, HTTP: hc, Workers: 5}
		if name == "voss" {
			dt.VOSS = vossload.New(base, hc, anyone)
		} else {
			dt.CUPI = cupi.New(base, hc, anyone)
		}
		ts = append(ts, dt)
	}
	checks := doctor.Run(context.Background(), doctor.Options{Targets: ts, Config: cfg})
	seen := map[string]bool{}
	for _, c := range checks {
		seen[c.Name] = true
		if c.Status != doctor.OK && !strings.HasSuffix(c.Name, ".tls") {
			t.Errorf("%s", c)
		}
	}
	for _, want := range []string{"voss.auth", "voss.export[data/User]", "voss.find[data/User]", "voss.role[AAAGlobalENTCustomerAdministrator]",
		"cupi.auth", "cupi.find[user]", "cupi.get[credential/pin]", "cupi.role[Help Desk Administrator]", "cupi.latency"} {
		if !seen[want] {
			t.Errorf("no %s check", want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
