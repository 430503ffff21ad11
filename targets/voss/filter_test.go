package voss

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
)

// The list filter's parameter names are not documented (formats-and-apis
// 3.3, [U]). A server that refuses them (400) is listed whole — the
// callers compare the key themselves — instead of failing every read
// that settles a write whose answer was lost.
func TestListFilterRefusedListsWhole(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("filter_field") != "" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"success": false, "message": "Unknown parameter filter_field"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"pagination": map[string]any{"skip": 0, "limit": 2000, "total": 2},
			"resources": []any{map[string]any{"pkid": "1", "data": map[string]any{"username": "a"}}, map[string]any{"pkid": "2", "data": map[string]any{"username": "b"}}}})
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	n := 0
	err := c.List(context.Background(), "data/User", "sys", [2]string{"username", "b"}, func(Summary) error { n++; return nil })
	if err != nil || n != 2 {
		t.Fatalf("filtered list refused by the server: %d listed, %v; want the whole list", n, err)
	}
}
