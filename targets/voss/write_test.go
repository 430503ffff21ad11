package voss

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
)

func writeServer(t *testing.T, status int, body string) *Client {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	c.Nowait = false
	return c
}

// A write the server answered with 2xx happened: an answer body that
// cannot be read (empty, cut short) must never make the caller resend it
// as a transient failure (a second create is refused as a duplicate).
// It is an unknown outcome, to be verified by reading the key.
func TestWriteAnsweredButUnreadableIsNotResent(t *testing.T) {
	for _, body := range []string{"", `{"pkid": "abc", "succ`, "<html>OK</html>"} {
		c := writeServer(t, 200, body)
		_, err := c.Create(context.Background(), "data/User", "sys", map[string]any{"username": "x"}, nil)
		if body == "" && err == nil {
			continue // an empty 200 may also be taken as done
		}
		if cl := targets.Classify(err); cl != targets.Unknown {
			t.Errorf("create answered 200 %q: %v classified %v, want Unknown (verify, never resend)", body, err, cl)
		}
	}
	// An update or delete answered 200 with no body is done.
	c := writeServer(t, 200, "")
	if _, err := c.Update(context.Background(), "data/User", "p1", "sys", map[string]any{"email": "e"}, nil); err != nil {
		t.Errorf("update answered an empty 200: %v", err)
	}
	if _, err := c.Delete(context.Background(), "data/User", "p1", "sys", nil); err != nil {
		t.Errorf("delete answered an empty 200: %v", err)
	}
}

// A 200 whose body says "success": false is a refusal, not a done write
// (formats-and-apis.md 3.5: key on the status plus success).
func TestWriteSuccessFalseIsAnError(t *testing.T) {
	c := writeServer(t, 200, `{"success": false, "message": "Duplicate username"}`)
	_, err := c.Create(context.Background(), "data/User", "sys", map[string]any{"username": "x"}, nil)
	if err == nil {
		t.Fatal("a 200 with success false was taken for a done create")
	}
	if targets.Classify(err) != targets.Permanent {
		t.Errorf("success false: %v classified %v, want Permanent", err, targets.Classify(err))
	}
}
