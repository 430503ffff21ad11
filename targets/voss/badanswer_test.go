package voss_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/targetstest"
	"github.com/bulkprov/bulkprov/targets/voss"
)

const blockPage = targetstest.BlockPage

// answering is a client of a server that answers every request with
// status, content type and body, and the count of its requests.
func answering(t *testing.T, status int, ctype, body string) (*voss.Client, *atomic.Int64) {
	t.Helper()
	url, n := targetstest.Answering(t, status, ctype, body)
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := voss.New(url, hc, targets.Credentials{User: "a", Password: "b-secret"})
	c.MaxWait = 0
	return c, n
}

// Only the documented answer is success (issue 23, finding 3): VOSS
// answers JSON; a list that is not a list, or paging that never ends, is
// an error that makes the target unusable (Fatal); a write answered with
// something else is an unknown outcome.
func TestOnlyTheDocumentedAnswerIsSuccess(t *testing.T) {
	ctx := context.Background()
	list := func(c *voss.Client) error {
		return c.List(ctx, "data/User", "sys", [2]string{}, func(voss.Summary) error { return nil })
	}
	create := func(c *voss.Client) error {
		_, err := c.Create(ctx, "data/User", "sys", map[string]any{"username": "x"}, nil)
		return err
	}
	get := func(c *voss.Client) error { _, err := c.Get(ctx, "data/User", "p1"); return err }
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   string
		call   func(*voss.Client) error
		want   targets.Class
	}{
		{"list 200 block page", 200, "text/html", blockPage, list, targets.Fatal},
		{"list 200 JSON not a list", 200, "application/json", `{"status":"blocked"}`, list, targets.Fatal},
		{"list same full page for ever, no total", 200, "application/json", `{"pagination":{"skip":0,"limit":1,"total":0},"resources":[{"pkid":"a","data":{}}]}`, list, targets.Fatal},
		{"get 200 block page", 200, "text/html", blockPage, get, targets.Fatal},
		{"create 200 block page", 200, "text/html", blockPage, create, targets.Unknown},
		{"create 200 JSON without pkid or transaction", 200, "application/json", `{}`, create, targets.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, n := answering(t, tc.status, tc.ctype, tc.body)
			err := tc.call(c)
			if err == nil {
				t.Fatalf("%d %s %q passed for success (%d requests)", tc.status, tc.ctype, tc.body, n.Load())
			}
			if got := targets.Classify(err); got != tc.want {
				t.Errorf("class %d, want %d: %v", got, tc.want, err)
			}
			var be *targets.BadAnswerError
			if !errors.As(err, &be) {
				t.Errorf("not a BadAnswerError: %v", err)
			}
			if n.Load() > 3 {
				t.Errorf("%d requests", n.Load())
			}
		})
	}
}
