package conformance_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/targets/conformance"
	cupisim "github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/targets/simkit"
	vosssim "github.com/bulkprov/bulkprov/targets/voss/sim"
)

var (
	vossURL   = flag.String("voss", "", "run the VOSS table against this base URL instead of the simulator (credentials: BULKPROV_VOSS_USER/_PASSWORD)")
	cupiURL   = flag.String("cupi", "", "run the CUPI table against this base URL instead of the simulator (credentials: BULKPROV_CUPI_USER/_PASSWORD)")
	write     = flag.Bool("write", false, "with -voss/-cupi: also run the checks that create (and delete) test objects")
	hierarchy = flag.String("hierarchy", "sys.hcs.CS-P.CS-NB.AAAGlobal", "VOSS hierarchy to list under and create test users at")
	role      = flag.String("role", "Operator", "VOSS data/Role the test users get")
	rate      = flag.Float64("rate", 0, "with -voss: the per-user requests/s limit to probe (0: skip the throttle check)")
	stress    = flag.Bool("stress", false, "with -cupi: flood the server to see its 503 throttle")
)

func run(t *testing.T, e *conformance.Env, table []conformance.Check, readOnly bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ran := 0
	for _, r := range conformance.Run(ctx, e, table, readOnly) {
		t.Run(r.Name, func(t *testing.T) {
			switch {
			case r.Skipped != "":
				t.Skip(r.Skipped)
			case r.Err != nil:
				t.Errorf("%s: %v", r.Doc, r.Err)
			}
		})
		ran++
	}
	if ran == 0 {
		t.Fatal("no check ran")
	}
}

func env(url, user, pass string) *conformance.Env {
	return &conformance.Env{URL: url, HTTP: &http.Client{Timeout: 30 * time.Second}, User: user, Password: pass,
		Hierarchy: *hierarchy, Role: *role}
}

// seedVOSS gives the read checks something to read.
func seedVOSS(t *testing.T, e *conformance.Env) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/data/User/?hierarchy="+e.Hierarchy+"&format=json",
		stringsReader(`{"username":"seeded","role":"Operator","password":"Seeded-Pw-1"}`))
	req.SetBasicAuth(e.User, e.Password)
	resp, err := e.HTTP.Do(req)
	if err != nil || resp.StatusCode >= 300 {
		t.Fatalf("seeding: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestVOSS(t *testing.T) {
	if *vossURL != "" {
		e := env(*vossURL, os.Getenv("BULKPROV_VOSS_USER"), os.Getenv("BULKPROV_VOSS_PASSWORD"))
		e.RateLimit = *rate
		run(t, e, conformance.VOSS, !*write)
		return
	}
	for _, status := range []int{429, 503} {
		s := vosssim.New(vosssim.Options{User: "admin", Password: "voss-pw", RateLimit: 20, ThrottleStatus: status})
		ts := httptest.NewServer(s)
		e := env(ts.URL, "admin", "voss-pw")
		e.RateLimit = 20
		seedVOSS(t, e)
		run(t, e, conformance.VOSS, false)
		ts.Close()
	}
}

func TestCUPI(t *testing.T) {
	if *cupiURL != "" {
		e := env(*cupiURL, os.Getenv("BULKPROV_CUPI_USER"), os.Getenv("BULKPROV_CUPI_PASSWORD"))
		e.Stress = *stress
		run(t, e, conformance.CUPI, !*write)
		return
	}
	for _, del := range []int{204, 200} { // older servers answer a DELETE with 200
		t.Run(fmt.Sprintf("delete=%d", del), func(t *testing.T) { testCUPISim(t, del) })
	}
}

func testCUPISim(t *testing.T, deleteStatus int) {
	// A cap of 5 pages the 11 system roles, so the page-cap check runs.
	s := cupisim.New(cupisim.Options{User: "admin", Password: "cupi-pw", ServiceTime: 30 * time.Millisecond, QueueTimeout: 60 * time.Millisecond,
		DeleteStatus: deleteStatus, MaxPage: 5})
	ts := httptest.NewServer(s)
	defer ts.Close()
	e := env(ts.URL, "admin", "cupi-pw")
	e.MaxPage = 5
	e.Stress = true
	// One user, so the credential read has something to read.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/vmrest/users?templateAlias=voicemailusertemplate", stringsReader(`{"Alias":"seeded","DtmfAccessId":"5550100"}`))
	req.SetBasicAuth("admin", "cupi-pw")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := e.HTTP.Do(req); err != nil || resp.StatusCode != 201 {
		t.Fatalf("seeding: %v %v", err, resp)
	}
	run(t, e, conformance.CUPI, false)
}

// TestReadOnlyChecksWriteNothing proves the checks doctor runs change
// nothing: the simulators count every committed write.
func TestReadOnlyChecksWriteNothing(t *testing.T) {
	v := vosssim.New(vosssim.Options{User: "a", Password: "b"})
	c := cupisim.New(cupisim.Options{User: "a", Password: "b"})
	vs, cs := httptest.NewServer(v), httptest.NewServer(c)
	defer vs.Close()
	defer cs.Close()
	ve, ce := env(vs.URL, "a", "b"), env(cs.URL, "a", "b")
	seedVOSS(t, ve)
	before := v.Writes.Total()
	run(t, ve, conformance.VOSS, true)
	run(t, ce, conformance.CUPI, true)
	if v.Writes.Total() != before || c.Writes.Total() != 0 {
		t.Fatalf("read-only checks wrote: voss %d→%d, cupi %d", before, v.Writes.Total(), c.Writes.Total())
	}
}

// TestForbiddenRoute shows a refused route fails its check (the check can
// fail), with the simulators' --forbid fault.
func TestForbiddenRoute(t *testing.T) {
	c := cupisim.New(cupisim.Options{User: "a", Password: "b", Faults: simkit.Faults{Forbid: []string{"GET /vmrest/roles"}}})
	cs := httptest.NewServer(c)
	defer cs.Close()
	res := conformance.Run(context.Background(), env(cs.URL, "a", "b"), conformance.CUPI, true)
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no check failed with /vmrest/roles refused")
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
