// Package conformance is one table per API of the behaviours the servers
// document (spec/targets.md, the seeds) — status codes, bodies, CUPI's
// one-object JSON quirk and paging by @total, VOSS summary lists,
// transactions, bulk export and the throttles — checked over plain HTTP
// against any server. It shares no code with the clients or the
// simulators, so both can be held to it: `go test ./targets/conformance`
// runs it against the simulators, `-args -voss URL -cupi URL` against
// real servers, and `bulkprov doctor` runs its read-only checks.
package conformance

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Env is the server under test.
type Env struct {
	URL            string // base URL: scheme, host, port
	HTTP           *http.Client
	User, Password string
	// Hierarchy is where VOSS checks list, and where write checks create
	// (and then delete) their instances; Role a data/Role visible there.
	Hierarchy, Role string
	// Template is the CUPI user template write checks create users from.
	Template string
	// RateLimit is the VOSS per-user requests per second the throttle
	// check expects to be enforced (0: the check is skipped).
	RateLimit float64
	// Stress runs the CUPI throttle check, which floods the server.
	Stress bool
	// MaxPage is the CUPI page cap the page-cap check expects (default
	// 2000, assumed: no source settles it).
	MaxPage int
}

// Check is one documented behaviour.
type Check struct {
	Name     string
	Doc      string // the behaviour, as documented
	ReadOnly bool   // changes nothing on the server: safe for doctor
	Run      func(ctx context.Context, e *Env) error
}

// Result is the outcome of one check.
type Result struct {
	Name, Doc string
	ReadOnly  bool
	Err       error  // nil when the server behaved as documented
	Skipped   string // why the check could not run here
}

// skipError marks a check that could not run on this server.
type skipError struct{ why string }

func (s skipError) Error() string { return "skipped: " + s.why }

func skip(format string, args ...any) error { return skipError{fmt.Sprintf(format, args...)} }

// Run runs checks against e, only the read-only ones when readOnly.
func Run(ctx context.Context, e *Env, checks []Check, readOnly bool) []Result {
	var out []Result
	for _, c := range checks {
		if readOnly && !c.ReadOnly {
			continue
		}
		r := Result{Name: c.Name, Doc: c.Doc, ReadOnly: c.ReadOnly}
		err := c.Run(ctx, e)
		var s skipError
		if errors.As(err, &s) {
			r.Skipped = s.why
		} else {
			r.Err = err
		}
		out = append(out, r)
	}
	return out
}

// answer is a response read whole.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a *answer) json(v any) error {
	d := json.NewDecoder(bytes.NewReader(a.Body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("HTTP %d: body is not the expected JSON: %v (%.120q)", a.Status, err, a.Body)
	}
	return nil
}

type req struct {
	method, path string
	query        url.Values
	body         any
	noAuth       bool
	accept       string // default application/json; "-" sends none
}

func (e *Env) do(ctx context.Context, r req) (*answer, error) {
	var rd io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := strings.TrimRight(e.URL, "/") + r.path
	if len(r.query) > 0 {
		u += "?" + strings.ReplaceAll(r.query.Encode(), "+", "%20")
	}
	hr, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return nil, err
	}
	if !r.noAuth {
		hr.SetBasicAuth(e.User, e.Password)
	}
	switch r.accept {
	case "":
		hr.Header.Set("Accept", "application/json")
	case "-":
	default:
		hr.Header.Set("Accept", r.accept)
	}
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	client := e.HTTP
	if r.noAuth && client.Jar != nil {
		// A session cookie from an earlier answer would authenticate the
		// request: send it without the jar.
		client = &http.Client{Transport: client.Transport, Timeout: client.Timeout}
	}
	resp, err := client.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	return &answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// want fails unless the answer's status is one of codes.
func want(a *answer, codes ...int) error {
	for _, c := range codes {
		if a.Status == c {
			return nil
		}
	}
	return fmt.Errorf("HTTP %d, want %v (%.200q)", a.Status, codes, a.Body)
}

func uniq(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// digits returns n random decimal digits, the first not 0: an extension
// unlikely to be taken.
func digits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '9'
	}
	return string(b)
}

// parallel runs n requests at once and counts the answers by status.
func (e *Env) parallel(ctx context.Context, n int, r req) (map[int]int, []http.Header, error) {
	var mu sync.Mutex
	counts := map[int]int{}
	var headers []http.Header
	var firstErr error
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := e.do(ctx, r)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			counts[a.Status]++
			if a.Status == 429 || a.Status == 503 {
				headers = append(headers, a.Header)
			}
		}()
	}
	wg.Wait()
	return counts, headers, firstErr
}

// wait polls fn every 20 ms until it reports done or 10 s pass.
func wait(ctx context.Context, fn func() (bool, error)) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		done, err := fn()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("still not done after 10s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// zipJSON returns the decoded .json entries of a zip.
func zipJSON(b []byte) ([]any, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("not a zip: %v", err)
	}
	var out []any
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		var v any
		d := json.NewDecoder(rc)
		d.UseNumber()
		err = d.Decode(&v)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.Name, err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("the zip holds no .json entry")
	}
	return out, nil
}
