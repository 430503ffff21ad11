package voss

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
)

// Neither a list resource whose summary has no hierarchy_path nor a GET
// answer (seed 002) names the hierarchy path, but both name the parent
// node by pkid (meta.references.parent): once the nodes are listed, that
// places each instance.
func TestHierarchyFromParentNode(t *testing.T) {
	parent := map[string]any{"references": map[string]any{"parent": []any{map[string]any{"pkid": "n2", "href": "/api/data/HierarchyNode/n2"}}}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := func(res ...any) {
			_ = json.NewEncoder(w).Encode(map[string]any{"pagination": map[string]any{"skip": 0, "limit": 2000, "total": len(res)}, "resources": res})
		}
		switch r.URL.Path {
		case "/api/data/HierarchyNode/":
			page(map[string]any{"pkid": "n0", "data": map[string]any{"name": "sys", "hierarchy_path": ""}},
				map[string]any{"pkid": "n1", "data": map[string]any{"name": "hcs", "hierarchy_path": "sys"}},
				map[string]any{"pkid": "n2", "data": map[string]any{"name": "AAAGlobal", "hierarchy_path": "sys.hcs"}})
		case "/api/data/User/":
			page(map[string]any{"pkid": "u1", "meta": parent, "data": map[string]any{"username": "jdoe"}})
		case "/api/data/User/u1/":
			_ = json.NewEncoder(w).Encode(map[string]any{"pkid": "u1", "meta": parent, "data": map[string]any{"username": "jdoe"}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	ctx := context.Background()
	if _, err := c.HierarchyNodes(ctx); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := c.List(ctx, "data/User", "sys", [2]string{}, func(s Summary) error { got = s.Hierarchy; return nil }); err != nil || got != "sys.hcs.AAAGlobal" {
		t.Errorf("listed at %q (%v), want sys.hcs.AAAGlobal", got, err)
	}
	in, err := c.Get(ctx, "data/User", "u1")
	if err != nil || in.Hierarchy != "sys.hcs.AAAGlobal" {
		t.Errorf("GET placed at %+v (%v), want sys.hcs.AAAGlobal", in, err)
	}
}
