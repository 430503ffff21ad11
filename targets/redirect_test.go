package targets_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// A server that redirects (say http to https, 301/302) turns a followed
// POST into a GET of the list: the write was never sent, and its answer
// is a list. A write must never read a redirected GET's answer as its
// own: the redirect is an error naming where the server points.
func TestWriteIsNotFollowedAsAGet(t *testing.T) {
	var posts, gets int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("moved") == "" {
			http.Redirect(w, r, r.URL.Path+"?moved=1&"+r.URL.RawQuery, http.StatusFound)
			return
		}
		switch r.Method {
		case http.MethodGet:
			gets++
			_ = json.NewEncoder(w).Encode(map[string]any{"pagination": map[string]any{"skip": 0, "limit": 2000, "total": 0}, "resources": []any{}})
		case http.MethodPost:
			posts++
			_ = json.NewEncoder(w).Encode(map[string]any{"pkid": "p1", "success": true})
		}
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := voss.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	c.Nowait = false
	res, err := c.Create(context.Background(), "data/User", "sys", map[string]any{"username": "x"}, nil)
	if err == nil {
		t.Fatalf("a create redirected and followed as a GET passed for done (pkid %q; %d POSTs, %d GETs reached the server)", res.Pkid, posts, gets)
	}
	if !strings.Contains(err.Error(), "redirected to") || posts != 0 {
		t.Errorf("redirected create: %v (%d POSTs reached the server)", err, posts)
	}
	// Reads still follow redirects.
	if err := c.List(context.Background(), "data/User", "sys", [2]string{}, func(voss.Summary) error { return nil }); err != nil {
		t.Fatalf("a redirected list: %v", err)
	}
}
