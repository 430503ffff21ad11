package simkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestForbidden(t *testing.T) {
	rules := []string{"/vmrest/credentialpolicies", "POST /api/data/User/export/", " GET /api/data/Role"}
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/vmrest/credentialpolicies", true},
		{"PUT", "/vmrest/credentialpolicies/x", true},
		{"POST", "/api/data/User/export/", true},
		{"GET", "/api/data/User/export/", false},
		{"get", "/api/data/Role/", true},
		{"GET", "/vmrest/users", false},
	} {
		if got := Forbidden(rules, tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s: Forbidden = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
	if Forbidden([]string{"", "POST "}, "POST", "/anything") {
		t.Error("an empty rule forbids everything")
	}
}

// A write answered after commit: the handler ran (committed), the client
// sees the proxy's status; a refusal by the server passes through as is.
func TestFailAfterCommit(t *testing.T) {
	in := NewInjector(Faults{FailAfterCommit: 1, FailAfterCommitStatus: 504})
	ran := 0
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++; w.WriteHeader(201) })
	refuse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++; http.Error(w, "duplicate", 400) })

	rec := httptest.NewRecorder()
	in.Serve(rec, httptest.NewRequest("POST", "/x", nil), ok)
	if ran != 1 || rec.Code != 504 || !strings.Contains(rec.Body.String(), "504 Gateway Timeout") {
		t.Fatalf("committed write: ran %d, answered %d %q; want ran 1, 504 page", ran, rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	in.Serve(rec, httptest.NewRequest("POST", "/x", nil), refuse)
	if ran != 2 || rec.Code != 400 || !strings.Contains(rec.Body.String(), "duplicate") {
		t.Fatalf("refused write: answered %d %q; want the server's 400", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	in.Serve(rec, httptest.NewRequest("GET", "/x", nil), ok)
	if rec.Code != 201 {
		t.Fatalf("a read got %d; reads are never failed after commit", rec.Code)
	}
}
