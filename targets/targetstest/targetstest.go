// Package targetstest holds what the clients' tests share: a server that
// answers every request alike, to see what a client takes such an answer
// for (issue 23, finding 3: only the documented answer is success).
package targetstest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// BlockPage is what a web filter answers in place of the API: 200,
// text/html.
const BlockPage = `<!DOCTYPE html><html><head><title>Request blocked</title></head><body><h1>Access to this site is blocked by policy</h1></body></html>`

// Answering starts a server, closed when t ends, that answers every
// request with status, content type (none when empty) and body, and
// returns its URL and the count of requests it had. More than 50 is an
// error of t: a client that does not stop.
func Answering(t *testing.T, status int, ctype, body string) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 50 {
			t.Errorf("more than 50 requests: %s %s", r.Method, r.URL)
			http.Error(w, "stop", http.StatusTeapot)
			return
		}
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts.URL, &n
}
