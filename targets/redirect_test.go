package targets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
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

// catcher is a server on another port (or scheme) that a hostile target
// redirects to: it records what reached it.
type catcher struct {
	mu       sync.Mutex
	requests int
	auth     []string
	bodies   []string
}

func (c *catcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.requests++
	if a := r.Header.Get("Authorization"); a != "" {
		c.auth = append(c.auth, a)
	}
	if len(b) > 0 {
		c.bodies = append(c.bodies, string(b))
	}
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Credentials never leave the target they belong to (issue 23, finding
// 2): a redirect to another port, host or scheme is not followed — with
// or without the credentials — and the error names both URLs. https never
// downgrades to http. A redirect to the same scheme, host and port is
// followed (a 307 re-sends the body there).
func TestRedirectsNeverCarryCredentialsAway(t *testing.T) {
	const secret = "Users-Secret-Passw0rd!"
	for _, tc := range []struct {
		name   string
		tls    bool
		status int
		method string
	}{
		{"307 credential PUT to another port", false, http.StatusTemporaryRedirect, http.MethodPut},
		{"308 create POST to another port", false, http.StatusPermanentRedirect, http.MethodPost},
		{"302 read to another port", false, http.StatusFound, http.MethodGet},
		{"https 307 PUT to http", true, http.StatusTemporaryRedirect, http.MethodPut},
		{"https 302 read to http", true, http.StatusFound, http.MethodGet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			away := &catcher{}
			other := httptest.NewServer(away)
			defer other.Close()
			hostile := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// The Location echoes the admin's password in its path.
				http.Redirect(w, r, other.URL+"/Admin-Secret-42"+r.URL.RequestURI(), tc.status)
			})
			var ts *httptest.Server
			if tc.tls {
				ts = httptest.NewTLSServer(hostile)
			} else {
				ts = httptest.NewServer(hostile)
			}
			defer ts.Close()
			hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Insecure: tc.tls})
			c := cupi.New(ts.URL, hc, targets.Credentials{User: "admin", Password: "Admin-Secret-42"})
			var err error
			switch tc.method {
			case http.MethodPut:
				err = c.SetCredential(context.Background(), "u1", cupi.Password, cupi.Object{"Credentials": secret})
			case http.MethodPost:
				_, err = c.CreateUser(context.Background(), "voicemailusertemplate", cupi.Object{"Alias": "a", "DtmfAccessId": "1", "Password": secret})
			default:
				_, err = c.Roles(context.Background())
			}
			away.mu.Lock()
			defer away.mu.Unlock()
			if away.requests != 0 {
				t.Errorf("the redirect was followed: %d request(s) reached %s, Authorization %q, bodies %q", away.requests, other.URL, away.auth, away.bodies)
			}
			if err == nil {
				t.Fatal("a redirect to another origin passed for success")
			}
			if !strings.Contains(err.Error(), ts.URL) || !strings.Contains(err.Error(), other.URL) {
				t.Errorf("the error does not name both URLs (%s, %s): %v", ts.URL, other.URL, err)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "Admin-Secret-42") {
				t.Errorf("a secret in the error: %v", err)
			}
			// Not an unknown outcome (nothing was sent where it landed);
			// a read that cannot be made makes the target unusable.
			want := targets.Permanent
			if tc.method == http.MethodGet {
				want = targets.Fatal
			}
			if got := targets.Classify(err); got != want {
				t.Errorf("class %v, want %v: %v", got, want, err)
			}
		})
	}
}

// A 307 to the same scheme, host and port is followed, the body re-sent.
func TestRedirectWithinTheTargetIsFollowed(t *testing.T) {
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/moved") {
			http.Redirect(w, r, "/moved"+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_, _, ok := r.BasicAuth()
		got = append(got, fmt.Sprintf("%s auth=%v %s", r.Method, ok, b))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := cupi.New(ts.URL, hc, targets.Credentials{User: "admin", Password: "pw"})
	if err := c.SetCredential(context.Background(), "u1", cupi.Password, cupi.Object{"Locked": "false"}); err != nil {
		t.Fatalf("same-origin 307: %v", err)
	}
	if len(got) != 1 || !strings.Contains(got[0], "PUT auth=true") || !strings.Contains(got[0], "Locked") {
		t.Errorf("same-origin 307 reached the server as %q", got)
	}
}
