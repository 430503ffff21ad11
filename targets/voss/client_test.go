package voss

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
)

// A server that does only the documented minimum: lists without a total,
// transactions with poll but no detail endpoint, "Completed" as the
// final status. The client must still page to the end and finish writes.
func TestLenientAgainstAMinimalServer(t *testing.T) {
	var polls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "GET" && r.URL.Path == "/api/data/User/":
			skip, _ := strconv.Atoi(r.URL.Query().Get("skip"))
			var res []any
			for i := skip; i < min(skip+3, 7); i++ { // the server clamps pages to 3
				res = append(res, map[string]any{"pkid": fmt.Sprint(i), "data": map[string]any{"username": fmt.Sprint("u", i)}})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"pagination": map[string]any{"skip": skip, "limit": 3, "total": 0}, "resources": res})
		case r.Method == "POST" && r.URL.Path == "/api/data/User/":
			_ = json.NewEncoder(w).Encode(map[string]any{"href": "/api/tool/Transaction/t1", "success": true, "transaction_id": "t1"})
		case strings.HasSuffix(r.URL.Path, "/poll/"):
			status := "Processing"
			if polls.Add(1) > 2 {
				status = "Completed"
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"t1": map[string]any{"status": status}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	c.PollInterval = 0
	n := 0
	if err := c.List(context.Background(), "data/User", "sys", [2]string{}, func(Summary) error { n++; return nil }); err != nil || n != 7 {
		t.Fatalf("listed %d (%v), want 7 over clamped pages without a total", n, err)
	}
	var tx string
	if _, err := c.Create(context.Background(), "data/User", "sys", map[string]any{"username": "x"}, func(id string) { tx = id }); err != nil || tx != "t1" {
		t.Fatalf("create through a transaction without a detail endpoint: %v (tx %q)", err, tx)
	}
}
