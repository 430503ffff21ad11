package targets_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/cupi/sim"
)

// The clients refuse an unknown certificate by default and accept it when
// its CA is given with --ca-file; credentials never show in the errors.
func TestTLSVerification(t *testing.T) {
	s := sim.New(sim.Options{User: "admin", Password: "Admin-Secret-42"})
	ts := httptest.NewTLSServer(s)
	defer ts.Close()
	creds := targets.Credentials{User: "admin", Password: "Admin-Secret-42"}

	hc, err := targets.NewHTTPClient(targets.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cupi.New(ts.URL, hc, creds).Roles(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("unknown certificate accepted: %v", err)
	}
	if targets.Classify(err) != targets.Fatal {
		t.Errorf("a certificate error must stop the run, got class %v", targets.Classify(err))
	}
	if strings.Contains(err.Error(), creds.Password) {
		t.Fatal("error shows the password")
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	hc, err = targets.NewHTTPClient(targets.HTTPOptions{CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cupi.New(ts.URL, hc, creds).Roles(context.Background()); err != nil {
		t.Fatalf("with --ca-file: %v", err)
	}
}

func TestWrongCredentialsAreFatalAndNotEchoed(t *testing.T) {
	ts := httptest.NewServer(sim.New(sim.Options{User: "admin", Password: "right"}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	_, err := cupi.New(ts.URL, hc, targets.Credentials{User: "admin", Password: "Wrong-Secret-7"}).Roles(context.Background())
	if targets.Classify(err) != targets.Fatal || strings.Contains(err.Error(), "Wrong-Secret-7") {
		t.Fatalf("err = %v", err)
	}
	if s := (targets.Credentials{User: "a", Password: "Wrong-Secret-7"}); strings.Contains(s.String(), "Wrong") {
		t.Fatal("Credentials print the password")
	}
}

func TestRetryAfter(t *testing.T) {
	if got := targets.RetryAfter("3"); got.Seconds() != 3 {
		t.Errorf("RetryAfter(3) = %v", got)
	}
	if got := targets.RetryAfter(http.TimeFormat); got != 0 {
		t.Errorf("bad date = %v", got)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want targets.Class
	}{
		{"503", &targets.APIError{Status: 503}, targets.Throttled},
		{"429", &targets.APIError{Status: 429}, targets.Throttled},
		{"500", &targets.APIError{Status: 500}, targets.Transient},
		{"500 to a read", &targets.APIError{Method: "GET", Status: 500}, targets.Transient},
		{"502 to a write", &targets.APIError{Method: "POST", Status: 502}, targets.Unknown},
		{"504 to a write", &targets.APIError{Method: "PUT", Status: 504}, targets.Unknown},
		{"503 to a write", &targets.APIError{Method: "PUT", Status: 503}, targets.Throttled},
		{"501 to a write", &targets.APIError{Method: "PUT", Status: 501}, targets.Permanent},
		{"400", &targets.APIError{Status: 400}, targets.Permanent},
		{"404", &targets.APIError{Status: 404}, targets.Permanent},
		{"401", &targets.APIError{Status: 401}, targets.Fatal},
		{"403", &targets.APIError{Status: 403}, targets.Fatal},
		{"unknown outcome wrapping a 404", &targets.UnknownOutcomeError{Err: &targets.APIError{Status: 404}}, targets.Unknown},
		{"context cancelled", context.Canceled, targets.Canceled},
		{"a request's timeout", fmt.Errorf("GET /x: %w", context.DeadlineExceeded), targets.Transient},
		{"a write's timeout", targets.TransportError(http.MethodPut, context.DeadlineExceeded), targets.Unknown},
	}
	for _, tc := range tests {
		if got := targets.Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://CUC.Example", "https://cuc.example"},
		{"https://cuc.example/", "https://cuc.example"},
		{"https://cuc.example:443/", "https://cuc.example"},
		{"HTTPS://cuc.example:8443", "https://cuc.example:8443"},
		{"http://127.0.0.1:80", "http://127.0.0.1"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"https://proxy.example/voss/", "https://proxy.example/voss"},
		{"https://proxy.example/Voss", "https://proxy.example/Voss"},
		{"https://[::1]:443/", "https://[::1]"},
	}
	for _, tc := range tests {
		if got := targets.NormalizeURL(tc.in); got != tc.want {
			t.Errorf("NormalizeURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Paced spaces requests at the budget, whatever the concurrency.
func TestPacedHoldsTheRate(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	hc := &http.Client{Transport: targets.Paced(http.DefaultTransport, rate.NewLimiter(50, 1))}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if len(times) != 16 {
		t.Fatalf("%d requests arrived", len(times))
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	// 16 requests at 50/s with a burst of 1 take at least 15 intervals of
	// 20 ms; with no pacing they would all arrive at once.
	if span := times[15].Sub(times[0]); span < 15*20*time.Millisecond*9/10 {
		t.Errorf("16 requests arrived within %v, want them spaced at 50/s", span)
	}
}
