package cupi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/targetstest"
)

const blockPage = targetstest.BlockPage

// answering is a client of a server that answers every request with
// status, content type and body, and the count of its requests.
func answering(t *testing.T, status int, ctype, body string) (*cupi.Client, *atomic.Int64) {
	t.Helper()
	url, n := targetstest.Answering(t, status, ctype, body)
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	return cupi.New(url, hc, targets.Credentials{User: "a", Password: "b-secret"}), n
}

// Only the documented answer is success (issue 23, finding 3). A write
// answered otherwise is an unknown outcome, never done; a read answered
// otherwise is an error that makes the target unusable (Fatal: exit 3),
// never an empty object or a list without end.
func TestOnlyTheDocumentedAnswerIsSuccess(t *testing.T) {
	ctx := context.Background()
	setPW := func(c *cupi.Client) error {
		return c.SetCredential(ctx, "u1", cupi.Password, cupi.Object{"Credentials": "New-Secret-1"})
	}
	create := func(c *cupi.Client) error {
		_, err := c.CreateUser(ctx, "tpl", cupi.Object{"Alias": "a", "DtmfAccessId": "1"})
		return err
	}
	update := func(c *cupi.Client) error { return c.UpdateUser(ctx, "u1", cupi.Object{"FirstName": "A"}) }
	del := func(c *cupi.Client) error { return c.DeleteUser(ctx, "u1") }
	list := func(c *cupi.Client) error { return c.ListUsers(ctx, func(cupi.Object) error { return nil }) }
	cred := func(c *cupi.Client) error { _, err := c.Credential(ctx, "u1", cupi.Password); return err }
	get := func(c *cupi.Client) error { _, err := c.GetUser(ctx, "u1"); return err }
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   string
		call   func(*cupi.Client) error
		want   targets.Class // -1: success
	}{
		{"credential PUT 200 block page", 200, "text/html", blockPage, setPW, targets.Unknown},
		{"credential PUT 200 empty (204 documented)", 200, "", "", setPW, targets.Unknown},
		{"credential PUT 204", 204, "", "", setPW, -1},
		{"user PUT 200 block page", 200, "text/html; charset=utf-8", blockPage, update, targets.Unknown},
		{"user DELETE 200 block page", 200, "text/html", blockPage, del, targets.Unknown},
		{"user DELETE 200 empty (older servers)", 200, "", "", del, -1},
		{"user DELETE 204", 204, "", "", del, -1},
		{"create 200 block page", 200, "text/html", blockPage, create, targets.Unknown},
		{"create 200 with a URI (201 documented)", 200, "text/plain", "/vmrest/users/abc", create, targets.Unknown},
		{"users list 200 block page", 200, "text/html", blockPage, list, targets.Fatal},
		{"users list 200 XHTML block page", 200, "application/xhtml+xml", `<html><body><p>blocked</p></body></html>`, list, targets.Fatal},
		{"users list 200 XML of something else", 200, "application/xml", `<html><head><title>x</title></head></html>`, list, targets.Fatal},
		{"users list 200 JSON that is not a list", 200, "application/json", `{"status":"blocked"}`, list, targets.Fatal},
		{"users list 200 empty", 200, "application/json", ``, list, targets.Fatal},
		{"credential GET invalid XML", 200, "application/xml", `<Credential><TimeChanged>2013-03-05`, cred, targets.Fatal},
		{"credential GET 200 block page", 200, "text/html", blockPage, cred, targets.Fatal},
		{"credential GET XML of something else", 200, "application/xml", `<html><body>blocked</body></html>`, cred, targets.Fatal},
		{"credential GET 204", 204, "", "", cred, targets.Fatal},
		{"user GET JSON not an object", 200, "application/json", `["x"]`, get, targets.Fatal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, n := answering(t, tc.status, tc.ctype, tc.body)
			err := tc.call(c)
			if tc.want < 0 {
				if err != nil {
					t.Fatalf("documented answer refused: %v", err)
				}
				return
			}
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
			if strings.Contains(err.Error(), "b-secret") {
				t.Errorf("secret in %v", err)
			}
			if n.Load() > 1 {
				t.Errorf("%d requests for one call", n.Load())
			}
		})
	}
}

// Paging stops at a bound: a server that ignores pageNumber (the same
// page every time) or keeps sending pages past its own @total is an
// error, never a list read for ever.
func TestPagingIsBounded(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"same page, no total", `{"User":[{"Alias":"a","ObjectId":"1"},{"Alias":"b","ObjectId":"2"}]}`},
		{"same page, total above", `{"@total":"100000","User":[{"Alias":"a","ObjectId":"1"}]}`},
		{"more items than asked", `{"@total":"3","User":[{"Alias":"a","ObjectId":"1"},{"Alias":"b","ObjectId":"2"},{"Alias":"c","ObjectId":"3"}]}`},
		{"more XML items than asked", `<Users total="3"><User><ObjectId>1</ObjectId></User><User><ObjectId>2</ObjectId></User><User><ObjectId>3</ObjectId></User></Users>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, n := answering(t, 200, "application/json", tc.body)
			c.PageSize = 2
			err := c.ListUsers(context.Background(), func(cupi.Object) error { return nil })
			if err == nil {
				t.Fatalf("an endless list ended without error after %d requests", n.Load())
			}
			if targets.Classify(err) != targets.Fatal || n.Load() > 3 {
				t.Errorf("class %d after %d requests: %v", targets.Classify(err), n.Load(), err)
			}
		})
	}
}

// Each error quotes its own request (issue 24 saw one user's error name
// another user's credential path): many concurrent refused writes, each
// answered with its own path, come back each with its own.
func TestEachErrorQuotesItsOwnRequest(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errors":{"code":"INVALID","message":"refused ` + r.URL.Path + `"}}`))
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 16})
	c := cupi.New(ts.URL, hc, targets.Credentials{User: "a", Password: "b"})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("user-%03d", i)
			err := c.SetCredential(context.Background(), id, cupi.PIN, cupi.Object{"Credentials": "12345678"})
			if err == nil || strings.Count(err.Error(), id) != 2 || strings.Count(err.Error(), "user-") != 2 {
				t.Errorf("%s: %v", id, err)
			}
		}()
	}
	wg.Wait()
}
