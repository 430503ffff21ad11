package export

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/voss/sim"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

// Instances read one GET each (a server without the bulk export; seed
// 002's instance names no hierarchy path) keep the hierarchy their list
// summary gave: an export of a tree must not put every user at its root.
func TestVOSSExportKeepsEachHierarchy(t *testing.T) {
	s := sim.New(sim.Options{User: "u", Password: "p"})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/export/") {
			http.NotFound(w, r)
			return
		}
		s.ServeHTTP(w, r)
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := vossload.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	c.Nowait = false
	ctx := context.Background()
	const child = "sys.hcs.CS-P.CS-NB.AAAGlobal"
	if _, err := c.Create(ctx, "data/User", child, map[string]any{"username": "jdoe", "role": "Operator"}, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := VOSS(c, "data/User", "sys.hcs")(ctx, func(it Item) error { got = append(got, it.Hierarchy); return nil })
	if err != nil || len(got) != 1 || got[0] != child {
		t.Fatalf("exported hierarchies %q, %v; want [%s]", got, err, child)
	}
}

// A summary without hierarchy_path and an instance that names only its
// parent node (seed 002) are placed through the hierarchy nodes.
func TestVOSSExportPlacesByParentNode(t *testing.T) {
	parent := map[string]any{"references": map[string]any{"parent": []any{map[string]any{"pkid": "n2"}}}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := func(res ...any) {
			_ = json.NewEncoder(w).Encode(map[string]any{"pagination": map[string]any{"skip": 0, "limit": 2000, "total": len(res)}, "resources": res})
		}
		switch r.URL.Path {
		case "/api/data/HierarchyNode/":
			page(map[string]any{"pkid": "n0", "data": map[string]any{"name": "sys", "hierarchy_path": ""}},
				map[string]any{"pkid": "n2", "data": map[string]any{"name": "AAAGlobal", "hierarchy_path": "sys"}})
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
	c := vossload.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	var got []string
	err := VOSS(c, "data/User", "sys")(context.Background(), func(it Item) error { got = append(got, it.Hierarchy); return nil })
	if err != nil || len(got) != 1 || got[0] != "sys.AAAGlobal" {
		t.Fatalf("exported hierarchies %q, %v; want [sys.AAAGlobal]", got, err)
	}
}
