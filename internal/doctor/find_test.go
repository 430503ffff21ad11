package doctor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/voss/sim"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

// The lookup by business key a plan makes: ok on a server that honours the
// filter, warn on one that ignores it (it answers everything), fail on one
// whose filtered list misses the instance.
func TestFindByBusinessKey(t *testing.T) {
	const h = "sys.hcs.CS-P.CS-NB.AAAGlobal"
	cr := targets.Credentials{User: "admin", Password: "doctor-pw"}
	for _, tc := range []struct {
		name   string
		filter func(r *http.Request) // what the server does to a filtered list
		want   Status
		detail string
	}{
		{"honours the filter", func(*http.Request) {}, OK, "as a plan does"},
		{"ignores the filter", func(r *http.Request) {
			q := r.URL.Query()
			q.Del("filter_field")
			q.Del("filter_text")
			r.URL.RawQuery = q.Encode()
		}, Warn, "answered 3 instances: the server ignores the filter"},
		{"misses the instance", func(r *http.Request) {
			q := r.URL.Query()
			q.Set("filter_text", "nobody")
			r.URL.RawQuery = q.Encode()
		}, Fail, "did not answer the instance just listed (0 answered)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(sim.Options{User: cr.User, Password: cr.Password})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("filter_field") != "" {
					tc.filter(r)
				}
				s.ServeHTTP(w, r)
			}))
			defer srv.Close()
			c := vossload.New(srv.URL, srv.Client(), cr)
			for _, u := range []string{"ann", "bob", "cat"} {
				if _, err := c.Create(context.Background(), "data/User", h, map[string]any{"username": u, "role": "Operator"}, nil); err != nil {
					t.Fatal(err)
				}
			}
			checks := Run(context.Background(), Options{Samples: 1, Targets: []Target{{Name: "voss", URL: srv.URL, HTTP: srv.Client(), VOSS: c}}})
			var got *Check
			for i := range checks {
				if checks[i].Name == "voss.find[data/User]" {
					got = &checks[i]
				}
			}
			if got == nil || got.Status != tc.want || !strings.Contains(got.Detail, tc.detail) {
				t.Fatalf("find check = %+v, want %v saying %q", got, tc.want, tc.detail)
			}
		})
	}
}
