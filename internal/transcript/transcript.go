// Package transcript writes what bulkprov said to a server and what the
// server answered as plain files, and plays them back (spec/cli.md, First
// contact: `doctor --record DIR`). A transcript is one go-vcr cassette (a
// YAML file) per server; before it is saved every authorization header,
// cookie, token, password, PIN and admin username in it is redacted, so a
// user can send one from a real server and it becomes a fixture that pins
// the clients to what that server really says (Replay).
//
// A VOSS bulk export answers with a zip; the transcript keeps its one JSON
// file as text (redacted like any other body, named in the header
// X-Transcript-Unzipped) and Replay packs it into a zip again.
package transcript

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// Redacted replaces every secret in a transcript.
const Redacted = "REDACTED"

// UnzippedHeader names, on a recorded response, the file of a zip body
// kept as text.
const UnzippedHeader = "X-Transcript-Unzipped"

// Recorder records the exchanges of several servers into DIR, a cassette
// per server.
type Recorder struct {
	dir string

	mu      sync.Mutex
	recs    []*recorder.Recorder
	files   []string
	secrets []string // redacted wherever they appear
	users   []string // redacted where they stand as a whole word
}

// NewRecorder returns a recorder writing into dir (created 0700 if need be).
func NewRecorder(dir string) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Fail now, before a request is sent, if nothing can be written there.
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return nil, err
	}
	f.Close()
	os.Remove(f.Name())
	return &Recorder{dir: dir}, nil
}

// Credentials adds an admin's user name and password to what is redacted,
// with their Basic authorization token.
func (r *Recorder) Credentials(user, password string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if password != "" {
		r.secrets = append(r.secrets, password, base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
	}
	if user != "" {
		r.users = append(r.users, user)
	}
}

// FileName is the cassette file of a server named like a doctor target:
// voss, cupi, cupi[aaa] (cupi-aaa.yaml).
func FileName(name string) string {
	name = strings.NewReplacer("[", "-", "]", "", "/", "-", string(filepath.Separator), "-").Replace(name)
	return name + ".yaml"
}

// Wrap returns a function that wraps a transport so that every exchange
// through it is recorded into the cassette of the server name. The
// response keeps its TLS state, so what is checked of the connection is
// the same with and without a recording.
func (r *Recorder) Wrap(name string) func(http.RoundTripper) http.RoundTripper {
	return func(base http.RoundTripper) http.RoundTripper {
		path := filepath.Join(r.dir, strings.TrimSuffix(FileName(name), ".yaml"))
		rec, err := recorder.New(path,
			recorder.WithMode(recorder.ModeRecordOnly),
			recorder.WithRealTransport(captureTLS{base}),
			recorder.WithSkipRequestLatency(true),
			recorder.WithFS(privateFS{}),
			recorder.WithHook(r.redact, recorder.BeforeSaveHook),
		)
		if err != nil { // only for an empty name or a bad mode
			return failing{err}
		}
		r.mu.Lock()
		r.recs = append(r.recs, rec)
		r.files = append(r.files, path+".yaml")
		r.mu.Unlock()
		return keepTLS{rec}
	}
}

// Close redacts and saves every cassette; it returns their paths.
func (r *Recorder) Close() ([]string, error) {
	r.mu.Lock()
	recs, files := r.recs, append([]string(nil), r.files...)
	r.recs = nil
	r.mu.Unlock() // the redaction hook takes it again
	var errs []error
	for _, rec := range recs {
		errs = append(errs, rec.Stop())
	}
	return files, errors.Join(errs...)
}

type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// The recorder answers from the interaction it recorded, without the
// connection's TLS state: captureTLS (its real transport) puts it in a box
// the request carries, keepTLS gives it back to the response.
type tlsBox struct{ state *tls.ConnectionState }

type tlsKey struct{}

type captureTLS struct{ base http.RoundTripper }

func (c captureTLS) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err == nil {
		if b, ok := req.Context().Value(tlsKey{}).(*tlsBox); ok {
			b.state = resp.TLS
		}
	}
	return resp, err
}

type keepTLS struct{ rec *recorder.Recorder }

func (k keepTLS) RoundTrip(req *http.Request) (*http.Response, error) {
	box := &tlsBox{}
	req = req.WithContext(context.WithValue(req.Context(), tlsKey{}, box))
	resp, err := k.rec.RoundTrip(req)
	if resp != nil {
		resp.TLS = box.state
		resp.Request = req
	}
	return resp, err
}

// privateFS writes cassettes as the state folder's files are: 0600 in a
// 0700 folder.
type privateFS struct{}

func (privateFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

func (privateFS) WriteFile(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	return os.WriteFile(name, data, 0o600)
}

func (privateFS) IsFileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// secretHeader names headers whose values are always redacted.
var secretHeader = regexp.MustCompile(`(?i)^(authorization|proxy-authorization|cookie|set-cookie|x-csrf.*|x-xsrf.*)$|token|session|api-?key|secret|passw`)

// secretKey names JSON keys, XML elements and query parameters whose
// values are redacted: passwords, PINs, credentials, tokens, answers.
var secretKey = regexp.MustCompile(`(?i)(passw(or)?d|passwords|passphrase|credentials|secret|token|pin|answer|api_?key|sessionid)$`)

var (
	jsonPair = regexp.MustCompile(`"([^"\\]+)"(\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	xmlLeaf  = regexp.MustCompile(`<([A-Za-z_][\w.-]*)>([^<]+)</([A-Za-z_][\w.-]*)>`)
)

// redact is the hook run on every interaction before its cassette is saved.
func (r *Recorder) redact(i *cassette.Interaction) error {
	r.mu.Lock()
	secrets := append([]string(nil), r.secrets...)
	users := append([]string(nil), r.users...)
	r.mu.Unlock()
	// Longest first, so a secret holding another is replaced whole.
	sort.Slice(secrets, func(a, b int) bool { return len(secrets[a]) > len(secrets[b]) })
	var userRE []*regexp.Regexp
	for _, u := range users {
		userRE = append(userRE, regexp.MustCompile(`(^|[^\w.@-])`+regexp.QuoteMeta(u)+`($|[^\w.@-])`))
	}
	text := func(s string) string {
		for _, sec := range secrets {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
		for _, re := range userRE {
			// Twice: a match takes the character after it, which may be
			// the one before the next.
			s = re.ReplaceAllString(re.ReplaceAllString(s, "${1}"+Redacted+"${2}"), "${1}"+Redacted+"${2}")
		}
		return s
	}
	body := func(s string) string {
		s = jsonPair.ReplaceAllStringFunc(s, func(m string) string {
			p := jsonPair.FindStringSubmatch(m)
			if !secretKey.MatchString(p[1]) || p[3] == "" {
				return m
			}
			return `"` + p[1] + `"` + p[2] + `"` + Redacted + `"`
		})
		s = xmlLeaf.ReplaceAllStringFunc(s, func(m string) string {
			p := xmlLeaf.FindStringSubmatch(m)
			if p[1] != p[3] || !secretKey.MatchString(p[1]) {
				return m
			}
			return "<" + p[1] + ">" + Redacted + "</" + p[1] + ">"
		})
		return text(s)
	}
	headers := func(h http.Header) {
		for k, vs := range h {
			for n := range vs {
				if secretHeader.MatchString(k) {
					vs[n] = Redacted
				} else {
					vs[n] = text(vs[n])
				}
			}
		}
	}
	values := func(v url.Values) {
		for k, vs := range v {
			for n := range vs {
				if secretKey.MatchString(k) && vs[n] != "" {
					vs[n] = Redacted
				} else {
					vs[n] = text(vs[n])
				}
			}
		}
	}
	rq, rs := &i.Request, &i.Response
	headers(rq.Headers)
	headers(rs.Headers)
	headers(rq.Trailer)
	headers(rs.Trailer)
	values(rq.Form)
	if u, err := url.Parse(rq.URL); err == nil {
		u.User = nil
		q := u.Query()
		if len(q) > 0 {
			values(q)
			u.RawQuery = q.Encode()
		}
		rq.URL = text(u.String())
	} else {
		rq.URL = text(rq.URL)
	}
	rq.RequestURI = text(rq.RequestURI)
	rq.Body = body(rq.Body)
	if name, content, ok := unzipOne(rs.Body); ok {
		rs.Body = body(content)
		rs.Headers.Set(UnzippedHeader, name)
	} else {
		rs.Body = body(rs.Body)
	}
	// The body's length may have changed; a reader of the transcript
	// should not be misled, nor a replay cut short.
	rs.Headers.Del("Content-Length")
	rs.ContentLength = -1
	rq.ContentLength = int64(len(rq.Body))
	return nil
}

// unzipOne returns the one text file of a zip body.
func unzipOne(body string) (name, content string, ok bool) {
	if !strings.HasPrefix(body, "PK\x03\x04") {
		return "", "", false
	}
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil || len(zr.File) != 1 {
		return "", "", false
	}
	f, err := zr.File[0].Open()
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 256<<20))
	if err != nil {
		return "", "", false
	}
	return zr.File[0].Name, string(b), true
}

// rezip packs a body kept as text back into the zip the server sent.
func rezip(i *cassette.Interaction) error {
	name := i.Response.Headers.Get(UnzippedHeader)
	if name == "" {
		return nil
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err == nil {
		_, err = io.WriteString(w, i.Response.Body)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return fmt.Errorf("transcript: packing %s: %w", name, err)
	}
	i.Response.Body = buf.String()
	i.Response.ContentLength = int64(buf.Len())
	i.Response.Headers.Del(UnzippedHeader)
	return nil
}

// Replay returns a transport that answers every request from the cassette
// at path (a FILE.yaml that Recorder wrote): a request is matched by its
// method, path, query and body, whatever the host and headers (the
// credentials in a transcript are redacted). A request the transcript
// does not hold fails with go-vcr's cassette.ErrInteractionNotFound.
func Replay(path string) (http.RoundTripper, error) {
	rec, err := recorder.New(strings.TrimSuffix(path, ".yaml"),
		recorder.WithMode(recorder.ModeReplayOnly),
		recorder.WithMatcher(Match),
		recorder.WithSkipRequestLatency(true),
		recorder.WithReplayableInteractions(true),
		recorder.WithFS(privateFS{}),
		recorder.WithHook(rezip, recorder.BeforeResponseReplayHook),
	)
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Match reports whether r is the request recorded as i: the same method,
// path, query (in any order) and body.
func Match(r *http.Request, i cassette.Request) bool {
	u, err := url.Parse(i.URL)
	if err != nil || r.Method != i.Method || r.URL.Path != u.Path || r.URL.Query().Encode() != u.Query().Encode() {
		return false
	}
	var b []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err = io.ReadAll(r.Body)
		if err != nil {
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return strings.TrimSpace(string(b)) == strings.TrimSpace(i.Body)
}
