package sim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/targets/voss/sim"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

const h = "sys.hcs.CS-P.CS-NB.AAAGlobal"

func newPair(t *testing.T, o sim.Options, nowait bool) (*sim.Server, *voss.Client, *httptest.Server) {
	t.Helper()
	o.User, o.Password = "admin", "voss-admin-pw"
	s := sim.New(o)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := vossload.New(ts.URL, hc, targets.Credentials{User: "admin", Password: "voss-admin-pw"})
	c.Nowait = nowait
	return s, c, ts
}

func user(name string) map[string]any {
	return map[string]any{"username": name, "role": "User Administrator", "password": "Long-Enough-1",
		"account_information": map[string]any{"locked": false}}
}

func TestLifecycle(t *testing.T) {
	for _, nowait := range []bool{false, true} {
		t.Run(fmt.Sprintf("nowait=%v", nowait), func(t *testing.T) {
			ctx := context.Background()
			s, c, _ := newPair(t, sim.Options{}, nowait)
			var txs []string
			res, err := c.Create(ctx, "data/User", h, user("jdoe"), func(id string) { txs = append(txs, id) })
			if err != nil || res.Pkid == "" {
				t.Fatalf("create: %+v %v", res, err)
			}
			if nowait != (len(txs) == 1) {
				t.Fatalf("transactions reported: %v", txs)
			}
			if _, err := c.Create(ctx, "data/User", h, user("JDOE"), nil); err == nil {
				t.Fatal("duplicate business key accepted")
			}
			bad := user("x")
			bad["password"] = "short"
			if _, err := c.Create(ctx, "data/User", h, bad, nil); err == nil || strings.Contains(err.Error(), "short") {
				t.Fatalf("short password: %v (must fail, without echoing it)", err)
			}
			bad = user("y")
			bad["role"] = "NoSuchRole"
			if _, err := c.Create(ctx, "data/User", h, bad, nil); err == nil {
				t.Fatal("unknown role accepted")
			}
			in, err := c.Get(ctx, "data/User", res.Pkid)
			if err != nil || in.Data["username"] != "jdoe" || in.Data["password"] != nil || in.Data["language"] != "en-us" {
				t.Fatalf("get = %+v, %v (password must be hidden, language defaulted)", in, err)
			}
			if _, err := c.Update(ctx, "data/User", res.Pkid, h, map[string]any{"account_information": map[string]any{"locked": true}}, nil); err != nil {
				t.Fatal(err)
			}
			var got []voss.Instance
			if err := c.Export(ctx, "data/User", h, []string{res.Pkid}, func(i voss.Instance) error { got = append(got, i); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Data["account_information"].(map[string]any)["locked"] != true {
				t.Fatalf("export = %+v", got)
			}
			if _, err := c.Delete(ctx, "data/User", res.Pkid, h, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get(ctx, "data/User", res.Pkid); !errors.Is(err, targets.ErrNotFound) {
				t.Fatalf("after delete: %v", err)
			}
			if w := s.Writes.Snapshot()["data/User:"+h+"/jdoe:create"]; w != 1 {
				t.Fatalf("create writes for jdoe = %d", w)
			}
		})
	}
}

func TestListPagesAndBulkDelete(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newPair(t, sim.Options{MaxLimit: 10}, false)
	var ids []string
	for i := 0; i < 25; i++ {
		r, err := c.Create(ctx, "data/User", h+".Site1", user(fmt.Sprintf("u%02d", i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Pkid)
	}
	n := 0
	if err := c.List(ctx, "data/User", h, [2]string{}, func(s voss.Summary) error {
		if s.Hierarchy != h+".Site1" || s.Data["username"] == nil || s.Data["role"] != nil {
			t.Errorf("summary %+v: want the summary attributes only", s)
		}
		n++
		return nil
	}); err != nil || n != 25 {
		t.Fatalf("listed %d (%v), want 25 over pages of 10 from the parent hierarchy", n, err)
	}
	if err := c.BulkDelete(ctx, "data/User", h, ids[:20], nil); err != nil {
		t.Fatal(err)
	}
	n = 0
	_ = c.List(ctx, "data/User", h, [2]string{}, func(voss.Summary) error { n++; return nil })
	if n != 5 {
		t.Fatalf("after bulk delete: %d left, want 5", n)
	}
}

func TestHierarchyRequiredAndAuth(t *testing.T) {
	_, _, ts := newPair(t, sim.Options{}, false)
	req, _ := http.NewRequest("GET", ts.URL+"/api/data/User/?format=json", nil)
	req.SetBasicAuth("admin", "voss-admin-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("no hierarchy: %d, want 400", resp.StatusCode)
	}
	resp, err = http.Get(ts.URL + "/api/data/User/?hierarchy=sys")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("no auth: %d, want 401", resp.StatusCode)
	}
}

// A list never comes in one page when the server caps it lower than the
// client asks: hierarchy nodes and roles are paged like users.
func TestSmallPagesAreFollowed(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newPair(t, sim.Options{MaxLimit: 3}, false)
	nodes, err := c.HierarchyNodes(ctx)
	if err != nil || len(nodes) != len(sim.DefaultHierarchy) {
		t.Fatalf("HierarchyNodes = %d nodes, %v; want %d", len(nodes), err, len(sim.DefaultHierarchy))
	}
	roles, err := c.Roles(ctx, h)
	if err != nil || len(roles) != len(sim.DefaultRoles) {
		t.Fatalf("Roles = %d, %v; want %d", len(roles), err, len(sim.DefaultRoles))
	}
}
