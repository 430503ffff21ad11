package voss

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
)

func pollServer(t *testing.T, poll func(w http.ResponseWriter)) *Client {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST":
			_ = json.NewEncoder(w).Encode(map[string]any{"href": "/api/tool/Transaction/t1", "success": true, "transaction_id": "t1"})
		case strings.HasSuffix(r.URL.Path, "/poll/"):
			poll(w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	c.PollInterval = 0
	return c
}

// A transaction the server accepted is never a permanent failure because
// its poll answer could not be read: its status answered without the
// id key is read as it is, and an answer that cannot be read at all is
// an unknown outcome (verified by reading the key), not a refusal.
func TestPollAnswerShapes(t *testing.T) {
	c := pollServer(t, func(w http.ResponseWriter) {
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "Success", "href": "/api/tool/Transaction/t1"})
	})
	if _, err := c.Create(context.Background(), "data/User", "sys", map[string]any{"username": "x"}, nil); err != nil {
		t.Errorf("a flat poll answer with status Success: %v", err)
	}
	c = pollServer(t, func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{"t1": "Success"`)) })
	_, err := c.Create(context.Background(), "data/User", "sys", map[string]any{"username": "x"}, nil)
	if targets.Classify(err) != targets.Unknown {
		t.Errorf("an unreadable poll answer: %v classified %v, want Unknown", err, targets.Classify(err))
	}
}
