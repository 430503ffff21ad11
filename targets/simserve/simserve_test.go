package simserve_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/simserve"
)

// --state keeps every simulator across a restart: VOSS, the main Unity
// Connection and each further cluster, each with its own users.
func TestStateKeepsClusters(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sim.json")
	start := func() *simserve.Running {
		r, err := simserve.Start(simserve.Options{User: "u", Password: "p", StateFile: state, Clusters: []string{"aaa", "bbb"}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	users := func(url string) map[string]bool {
		hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
		c := cupi.New(url, hc, targets.Credentials{User: "u", Password: "p"})
		got := map[string]bool{}
		if err := c.ListUsers(context.Background(), func(o cupi.Object) error { got[o["Alias"]] = true; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	r := start()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	for _, cl := range r.Clusters {
		c := cupi.New(cl.URL, hc, targets.Credentials{User: "u", Password: "p"})
		if _, err := c.CreateUser(context.Background(), "voicemailusertemplate", cupi.Object{"Alias": "only-in-" + cl.Name, "DtmfAccessId": "7" + cl.Name[:1] + "01"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = start()
	defer r.Close()
	for _, cl := range r.Clusters {
		got := users(cl.URL)
		if !got["only-in-"+cl.Name] {
			t.Errorf("cluster %s after restart: %v", cl.Name, got)
		}
		for _, other := range []string{"aaa", "bbb"} {
			if other != cl.Name && got["only-in-"+other] {
				t.Errorf("cluster %s holds %s's user", cl.Name, other)
			}
		}
	}
	if main := users(r.URL); main["only-in-aaa"] || main["only-in-bbb"] {
		t.Errorf("the main Unity Connection holds a cluster's user: %v", main)
	}
}
