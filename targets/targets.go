// Package targets holds what the VOSS and CUPI clients share: the HTTP
// transport (TLS on by default, timeouts, connection reuse), the API error
// type and its classification for retries, and credentials from the
// environment. The clients themselves live in targets/voss and
// targets/cupi, each with a simulator in its sim package.
package targets

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is the bulkprov version named in the User-Agent.
var Version = "0.1.0-dev"

// ErrNotFound is returned (wrapped) when an object does not exist.
var ErrNotFound = errors.New("not found")

// Class says how an error should be handled by the caller's retry loop.
type Class int

// Error classes.
const (
	// Permanent errors fail the row: validation, conflicts, not found.
	Permanent Class = iota
	// Throttled errors (503, 429) mean back off and try again.
	Throttled
	// Transient errors (connection refused before sending, 5xx other than
	// 501) may be retried as they are.
	Transient
	// Unknown means a write may or may not have happened (the response was
	// lost after the request was sent): verify before retrying.
	Unknown
	// Fatal errors stop the run: authentication refused, permission denied,
	// a certificate that does not verify, a read answered with something
	// that is not the API's answer (BadAnswerError) or redirected away
	// from the target (RedirectError).
	Fatal
	// Canceled means the caller's context ended (Ctrl-C, SIGTERM, a
	// deadline): the request tells nothing about the target, and a read
	// that was cancelled must never be taken for "absent".
	Canceled
)

// APIError is an HTTP error answer from a target.
type APIError struct {
	Target     string // "voss" or "cupi"
	Method     string
	Path       string // path without query, never carrying secrets
	Status     int
	Read       bool   // the request only reads, whatever its method (a VOSS bulk export is a POST)
	Code       string // server error code, when given
	Message    string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		msg = e.Code + ": " + msg
	}
	return fmt.Sprintf("%s %s %s: HTTP %d: %s", e.Target, e.Method, e.Path, e.Status, msg)
}

// Is makes errors.Is(err, ErrNotFound) true for 404 answers.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// UnknownOutcomeError wraps a transport error that happened after a write
// request may have reached the server.
type UnknownOutcomeError struct{ Err error }

func (e *UnknownOutcomeError) Error() string {
	return "outcome unknown (the response was lost; the write may have happened): " + e.Err.Error()
}
func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// Classify returns how err should be handled.
func Classify(err error) Class {
	if err == nil {
		return Permanent
	}
	// An unknown outcome may wrap an API error (a lost transaction's 404):
	// it is still unknown, to be verified.
	var ue *UnknownOutcomeError
	if errors.As(err, &ue) {
		return Unknown
	}
	var re *RedirectError
	if errors.As(err, &re) {
		if re.Read {
			return Fatal
		}
		return Permanent
	}
	var be *BadAnswerError
	if errors.As(err, &be) {
		return Fatal // a read's: the target cannot be used as it answers
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return classifyAPI(ae)
	}
	if errors.Is(err, context.Canceled) {
		return Canceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// A request's own timeout (http.Client.Timeout; the run's context
		// is cancelled, never given a deadline): the server was slow this
		// once. A write's is wrapped as an unknown outcome before it
		// gets here (TransportError), so only a read is retried blindly.
		return Transient
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return Fatal
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// A local file's error (a full disk, a read-only folder): its
		// errno satisfies net.Error, but no target is involved and
		// retrying will not help.
		return Permanent
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "connection re") {
		return Transient
	}
	return Permanent
}

// classifyAPI is Classify for an answer the server sent, by its status.
func classifyAPI(ae *APIError) Class {
	switch {
	case ae.Status == 401 || ae.Status == 403:
		return Fatal
	case ae.Status == 429 || ae.Status == 503:
		return Throttled
	case ae.Status >= 500 && ae.Status != 501 && ae.Method != "" && ae.Method != http.MethodGet && !ae.Read:
		// A proxy's 500/502/504 to a write may come after the server
		// committed it (targets.md): verify, never resend blindly.
		return Unknown
	case ae.Status >= 500 && ae.Status != 501:
		return Transient
	}
	return Permanent
}

// AccessDenied reports whether err is a target refusing the credentials
// or a permission (HTTP 401 or 403): re-running will not help until the
// access is fixed.
func AccessDenied(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden)
}

// NormalizeURL returns the canonical spelling of a target's base URL, so
// that what bulkprov remembers of a server follows the server and not the
// way a command line spelt it: scheme and host lower-cased, the default
// port and a trailing slash dropped, the path kept.
func NormalizeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimRight(strings.TrimSpace(raw), "/")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date).
func RetryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// Credentials are a target's admin user and password.
type Credentials struct {
	User     string
	Password string
}

// String never shows the password.
func (c Credentials) String() string { return c.User + ":***" }

// GoString never shows the password.
func (c Credentials) GoString() string { return c.String() }

// FromEnv reads the credentials of target ("VOSS" or "CUPI") from
// BULKPROV_<TARGET>_USER and BULKPROV_<TARGET>_PASSWORD.
func FromEnv(target string) (Credentials, bool) {
	t := strings.ToUpper(target)
	u, p := os.Getenv("BULKPROV_"+t+"_USER"), os.Getenv("BULKPROV_"+t+"_PASSWORD")
	return Credentials{User: u, Password: p}, u != "" && p != ""
}

// HTTPOptions configure a target's HTTP client.
type HTTPOptions struct {
	CAFile   string        // extra CA certificates (PEM) to trust
	Conns    int           // idle connections kept per host; at least the worker count
	Timeout  time.Duration // per request; 0 means 60s
	Insecure bool          // for tests only; never set from a flag
	// Wrap, when set, wraps the transport: doctor --record's recorder
	// (internal/transcript) sees every request and answer.
	Wrap func(http.RoundTripper) http.RoundTripper
}

// NewHTTPClient returns a client with its own transport: TLS verification
// on (plus CAFile), session resumption, keep-alive connections sized to the
// worker pool, timeouts on dial, TLS handshake, response headers and the
// whole request, and a cookie jar for session cookies such as JSESSIONID.
func NewHTTPClient(o HTTPOptions) (*http.Client, error) {
	tlsCfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ClientSessionCache: tls.NewLRUClientSessionCache(64),
		InsecureSkipVerify: o.Insecure, //nolint:gosec // tests only
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate found", o.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	conns := max(o.Conns, 8)
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          conns * 2,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     false, // CUPI and VOSS speak HTTP/1.1; keep one request per connection
	}
	var rt http.RoundTripper = tr
	if o.Wrap != nil {
		rt = o.Wrap(tr)
	}
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: rt, Jar: jar, Timeout: timeout, CheckRedirect: keepMethod}, nil
}

// keepMethod follows a redirect only within the target and only when the
// request keeps its method.
//
// Credentials never leave the target they belong to (issue 23): a
// redirect to another scheme, host or port is not followed at all — Go
// would send the Authorization header to another port of the same host,
// a 307/308 the body with the users' passwords, and an https target
// redirecting to http the admin's credentials in clear text. It is a
// *RedirectError naming both URLs.
//
// A 301/302/303 turns a write into a GET, which would send nothing and
// answer with what the new URL holds — read as the write's own answer.
// The redirect itself is then the answer (an APIError naming where the
// server points: RedirectMessage).
func keepMethod(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !SameOrigin(via[0].URL, req.URL) {
		return &RedirectError{From: Redacted(via[len(via)-1].URL), To: Redacted(req.URL), Status: statusOf(req)}
	}
	if req.Method != via[0].Method {
		return http.ErrUseLastResponse
	}
	return nil
}

// statusOf is the status of the redirect that led to req, when known.
func statusOf(req *http.Request) int {
	if req.Response != nil {
		return req.Response.StatusCode
	}
	return 0
}

// SameOrigin reports whether a and b have the same scheme, host and port
// (default ports spelt or not).
func SameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		switch strings.ToLower(u.Scheme) {
		case "https":
			return "443"
		case "http":
			return "80"
		}
		return ""
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// Redacted is u without its query and user information: what an error
// may name of a URL.
func Redacted(u *url.URL) string {
	c := *u
	c.RawQuery, c.ForceQuery, c.User, c.Fragment = "", false, nil, ""
	return c.String()
}

// RedirectError is a target redirecting a request away from itself (to
// another scheme, host or port): not followed, so nothing — credentials,
// body — went there. On a write nothing was done (the row fails); on a
// read the target cannot be used as given (Classify: Fatal).
type RedirectError struct {
	From, To string
	Status   int
	// Read is set for requests that only read.
	Read bool
}

func (e *RedirectError) Error() string {
	st := ""
	if e.Status != 0 {
		st = fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	// The server chose the Location: it may echo a secret in its path.
	return fmt.Sprintf("%s redirected to %s%s: not followed — credentials and request bodies are sent to the target's own scheme, host and port only; if the server lives there, give that URL", e.From, Scrub(e.To), st)
}

// RedirectMessage is the error message of a redirect answered to a write.
func RedirectMessage(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	from := ""
	if resp.Request != nil && resp.Request.URL != nil {
		from = Redacted(resp.Request.URL) + " "
		if u, err := resp.Request.URL.Parse(loc); err == nil {
			loc = Redacted(u)
		}
	} else if u, err := url.Parse(loc); err == nil {
		loc = Redacted(u)
	}
	return from + "redirected to " + Scrub(loc) + " (a write is not followed there: give the target's URL as the server names it, e.g. https)"
}

// BadAnswerError is an answer that is not what the API documents for the
// request: an HTML page (a proxy's or firewall's block page) where JSON
// or XML belongs, a 200 where 204 is documented, a list that is not a
// list, paging that does not end. On a write it is wrapped in an
// UnknownOutcomeError (settled by the write's proof, never taken as
// done); on a read the target cannot be used (Classify: Fatal, exit 3).
type BadAnswerError struct {
	Target, Method, Path string
	Status               int
	ContentType          string
	Detail               string // what was wrong; server text passes Scrub
}

func (e *BadAnswerError) Error() string {
	ct := e.ContentType
	if ct == "" {
		ct = "no content type"
	}
	msg := fmt.Sprintf("%s %s %s: HTTP %d (%s) is not the API's answer: %s", e.Target, e.Method, e.Path, e.Status, ct, e.Detail)
	if strings.Contains(strings.ToLower(ct), "html") {
		msg += " — a proxy, firewall or login page may stand in front of the target"
	}
	return msg
}

// BadAnswer returns a *BadAnswerError for resp (whose body is not read
// here); a write's is wrapped as an unknown outcome.
func BadAnswer(target, method, path string, read bool, resp *http.Response, detail string) error {
	e := &BadAnswerError{Target: target, Method: method, Path: path, Detail: Scrub(detail)}
	if resp != nil {
		e.Status, e.ContentType = resp.StatusCode, resp.Header.Get("Content-Type")
	}
	if read || method == http.MethodGet {
		return e
	}
	return &UnknownOutcomeError{Err: e}
}

// MediaType is the media type of a Content-Type header, lower-cased,
// without parameters ("" when absent).
func MediaType(resp *http.Response) string {
	ct := resp.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// IsJSON and IsXML tell a documented body's media type, leniently
// (application/json, application/vnd.x+json, text/xml, application/xml).
func IsJSON(mt string) bool { return strings.HasSuffix(mt, "/json") || strings.HasSuffix(mt, "+json") }

// IsXML reports whether mt is an XML media type.
func IsXML(mt string) bool { return strings.HasSuffix(mt, "/xml") || strings.HasSuffix(mt, "+xml") }

// PageBound stops a list whose paging does not end: a page that repeats
// the one before (a server ignoring pageNumber), or more pages than the
// server's own @total can fill. The zero PageBound is ready.
type PageBound struct{ last uint64 }

// maxPagesUnknownTotal bounds a list whose server states no total.
const maxPagesUnknownTotal = 100_000

// Next checks page (from 1) of size rows, which held n items whose ids
// (in order) are ids, of a list of total (-1: not said).
func (b *PageBound) Next(page, size, n, total int, ids string) error {
	h := fnv.New64a()
	h.Write([]byte(ids))
	sum := h.Sum64()
	if page > 1 && n > 0 && sum == b.last {
		return fmt.Errorf("page %d repeats page %d (the server ignores paging): the list does not end", page, page-1)
	}
	b.last = sum
	if total >= 0 && size > 0 && (page-1)*size > total {
		return fmt.Errorf("page %d of %d rows is past the %d the server says the list holds: the list does not end", page, size, total)
	}
	if page >= maxPagesUnknownTotal {
		return fmt.Errorf("%d pages and no end", page)
	}
	return nil
}

// UserAgent names bulkprov and its version.
func UserAgent() string { return "bulkprov/" + Version + " (+https://github.com/bulkprov/bulkprov)" }

// RequestHeaders are the headers every request of a client carries —
// Basic authentication, Accept, User-Agent and, with a body, Content-Type
// — built once per client, not per request (SetBasicAuth and Header.Set
// cost about a tenth of a request's allocation). Each request gets a
// fresh map (the cookie jar adds its own key to it) whose values are
// shared and never changed: net/http does not change a request's header
// values.
type RequestHeaders struct{ auth, accept, ua, ctype []string }

// NewRequestHeaders returns the headers of a client authenticating with
// c, asking for (and sending) the media type accept.
func NewRequestHeaders(c Credentials, accept string) RequestHeaders {
	token := base64.StdEncoding.EncodeToString([]byte(c.User + ":" + c.Password))
	return RequestHeaders{auth: []string{"Basic " + token}, accept: []string{accept}, ua: []string{UserAgent()}, ctype: []string{accept}}
}

// Header returns a request's header; body says the request sends one.
func (h RequestHeaders) Header(body bool) http.Header {
	if body {
		return http.Header{"Authorization": h.auth, "Accept": h.accept, "User-Agent": h.ua, "Content-Type": h.ctype}
	}
	return http.Header{"Authorization": h.auth, "Accept": h.accept, "User-Agent": h.ua}
}

// Hooks are a watchdog's view of a client's requests: Begin as each is
// sent, End once it is over (its answer's body closed, or no answer
// came), Reading as each part of an answer's body arrives. Observe-style
// metrics come with the answer's headers; these tell how long a server
// has owed an answer, and one that stalls mid-body owes it still. Any may
// be nil; set Begin and End together.
type Hooks struct{ Begin, Reading, End func() }

// Do sends req through hc between the hooks: End when no answer came, or
// once the answer's body (Tracked) is closed.
func (h Hooks) Do(hc *http.Client, req *http.Request) (*http.Response, error) {
	if h.Begin != nil {
		h.Begin()
	}
	resp, err := hc.Do(req)
	if err != nil {
		if h.End != nil {
			h.End()
		}
		return nil, err
	}
	resp.Body = Tracked(resp.Body, h.Reading, h.End)
	return resp, nil
}

// Tracked returns body, calling read as each part of it arrives and end
// once, when it is closed; either may be nil. A client's watchdog hooks
// (Begin, Reading, End) use it: an answer whose body stalls is still owed.
func Tracked(body io.ReadCloser, read, end func()) io.ReadCloser {
	if read == nil && end == nil {
		return body
	}
	return &tracked{ReadCloser: body, read: read, end: end}
}

type tracked struct {
	io.ReadCloser
	read, end func()
	once      sync.Once
}

func (t *tracked) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 && t.read != nil {
		t.read()
	}
	return n, err
}

func (t *tracked) Close() error {
	err := t.ReadCloser.Close()
	if t.end != nil {
		t.once.Do(t.end)
	}
	return err
}

// Drain reads the rest of a response body (so the connection is reused)
// and closes it.
func Drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
	_ = r.Close()
}

// TransportError turns a client.Do error into the right class: an error
// after a write was sent has an unknown outcome; a dial error is transient.
func TransportError(method string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var re *RedirectError
	if errors.As(err, &re) {
		// The redirect is the answer: nothing was done, nothing went
		// elsewhere.
		re.Read = method == http.MethodGet
		return err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return err
	}
	if method == http.MethodGet {
		return err
	}
	return &UnknownOutcomeError{Err: err}
}
