package voss

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
)

// summaryServer answers lists of data/HierarchyNode and data/Role with
// the given resources' data, and GET by pkid with the full instance.
func summaryServer(t *testing.T, nodes, roles []map[string]any, full map[string]map[string]any) *Client {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hierarchy") == "" && strings.Count(strings.Trim(r.URL.Path, "/"), "/") < 3 {
			w.WriteHeader(400)
			return
		}
		var list []map[string]any
		switch r.URL.Path {
		case "/api/data/HierarchyNode/":
			list = nodes
		case "/api/data/Role/":
			list = roles
		default:
			id := strings.Trim(r.URL.Path[strings.LastIndex(strings.TrimRight(r.URL.Path, "/"), "/"):], "/")
			if d, ok := full[id]; ok {
				_ = json.NewEncoder(w).Encode(map[string]any{"pkid": id, "meta": map[string]any{"model_type": "data/Role"}, "data": d})
				return
			}
			http.NotFound(w, r)
			return
		}
		var res []any
		for _, d := range list {
			res = append(res, map[string]any{"pkid": d["pkid"], "meta": map[string]any{}, "data": d})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"pagination": map[string]any{"skip": 0, "limit": 2000, "total": len(res), "maximum_limit": 2000}, "resources": res})
	}))
	t.Cleanup(ts.Close)
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	return New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// In a list, hierarchy_path is where an instance lives (seed 002: the
// admin AAAGlobalAdmin at sys.hcs.CS-P.CS-NB.AAAGlobal). A hierarchy
// node lives in its parent: a server that says so for data/HierarchyNode
// must not make the client believe the leaf nodes (where users live) do
// not exist — every row there would fail "hierarchy does not exist".
func TestHierarchyNodesWhereTheyLive(t *testing.T) {
	c := summaryServer(t, []map[string]any{
		{"pkid": "n0", "name": "sys", "hierarchy_path": ""},
		{"pkid": "n1", "name": "hcs", "hierarchy_path": "sys"},
		{"pkid": "n2", "name": "CS-P", "hierarchy_path": "sys.hcs"},
		{"pkid": "n3", "name": "AAAGlobal", "hierarchy_path": "sys.hcs.CS-P"},
		{"pkid": "n4", "name": "AAAGlobal", "hierarchy_path": "sys.hcs.CS-P.AAAGlobal"}, // a site named as its customer
	}, nil, nil)
	got, err := c.HierarchyNodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sys", "sys.hcs", "sys.hcs.CS-P", "sys.hcs.CS-P.AAAGlobal", "sys.hcs.CS-P.AAAGlobal.AAAGlobal"} {
		if got != nil && !got[want] {
			t.Errorf("node %s missing from %v", want, keys(got))
		}
	}

	// The own path (our simulator's way) still reads the same.
	c = summaryServer(t, []map[string]any{
		{"pkid": "n0", "name": "sys", "hierarchy_path": "sys"},
		{"pkid": "n1", "name": "hcs", "hierarchy_path": "sys.hcs"},
		{"pkid": "n3", "name": "AAAGlobal", "hierarchy_path": "sys.hcs.AAAGlobal"},
	}, nil, nil)
	got, _ = c.HierarchyNodes(context.Background())
	if strings.Join(keys(got), " ") != "sys sys.hcs sys.hcs.AAAGlobal" {
		t.Errorf("own paths read as %v", keys(got))
	}

	// Nodes without any path: the client cannot tell, and says so with a
	// nil set (every hierarchy is taken to exist; writes tell).
	c = summaryServer(t, []map[string]any{{"pkid": "n0", "name": "sys"}, {"pkid": "n1", "name": "hcs"}}, nil, nil)
	if got, err = c.HierarchyNodes(context.Background()); err != nil || got != nil {
		t.Errorf("nodes without paths gave %v, %v; want nil (unknown)", keys(got), err)
	}
}

// data/Role's summary attributes are not documented: a list whose
// resources do not carry the name must not read as "no roles" (every row
// would fail "role does not exist"); the names come from the instances.
func TestRolesNamesNotInSummary(t *testing.T) {
	c := summaryServer(t, nil,
		[]map[string]any{{"pkid": "r1", "hierarchy_friendly_name": "AAAGlobal"}, {"pkid": "r2", "hierarchy_friendly_name": "AAAGlobal"}},
		map[string]map[string]any{"r1": {"name": "AAAGlobalENTCustomerAdministrator"}, "r2": {"name": "Operator"}})
	names, err := c.Roles(context.Background(), "sys.hcs")
	sort.Strings(names)
	if err != nil || strings.Join(names, ",") != "AAAGlobalENTCustomerAdministrator,Operator" {
		t.Fatalf("Roles = %v, %v", names, err)
	}
}
