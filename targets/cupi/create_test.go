package cupi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// A 201 whose new URI cannot be read (no Location, an empty body) created
// something the client cannot name: it must not pass for a create with
// an empty ObjectId (the row's credential and role writes then went to
// /vmrest/users//...). It is an unknown outcome, which the caller settles
// by finding the user by alias.
func TestCreatedWithoutURIIsUnknown(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := cupi.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	id, err := c.CreateUser(context.Background(), "voicemailusertemplate", cupi.Object{"Alias": "a", "DtmfAccessId": "1"})
	if err == nil || targets.Classify(err) != targets.Unknown {
		t.Fatalf("201 without a URI: id %q, err %v (class %v); want an unknown outcome", id, err, targets.Classify(err))
	}
	if _, err := c.AddUserRole(context.Background(), "u1", "r1"); targets.Classify(err) != targets.Unknown {
		t.Fatalf("user role 201 without a URI: %v; want an unknown outcome", err)
	}
}
