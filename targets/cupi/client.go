// Package cupi is a client for the Cisco Unity Connection Provisioning
// Interface (CUPI, /vmrest): users, their password and PIN credentials,
// user roles, roles, credential policies, user templates and authorization
// servers. It speaks JSON and also reads XML answers, and it copes with
// CUPI's JSON quirks: every value is a string, and a collection of exactly
// one item is an object rather than an array.
//
// The client makes one attempt per call and classifies failures (see
// targets.Classify); retries and back-off belong to the caller.
package cupi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	stdjson "encoding/json"
	json "github.com/bulkprov/bulkprov/internal/jsonx"
	"github.com/bulkprov/bulkprov/targets"
)

// Object is a CUPI object: CUPI sends every value as a string.
type Object map[string]string

// Credential kinds.
const (
	Password = "password"
	PIN      = "pin"
)

// PageSize is the page size the client asks for when listing, unless
// Client.PageSize says otherwise.
const PageSize = 2000

// Client talks to one Unity Connection server. Safe for concurrent use.
type Client struct {
	base  string
	http  *http.Client
	creds targets.Credentials
	hdr   targets.RequestHeaders // built once from creds
	// Observe, when set, is called after every request with its method,
	// status (0 on transport errors) and duration; used for metrics.
	Observe func(method string, status int, seconds float64)
	// Hooks (Begin, Reading, End), when set, follow every request until
	// its answer's body is closed (the watchdog).
	targets.Hooks
	// PageSize is the rows a list asks for per page; 0 means PageSize.
	PageSize int
	// capped is the server's page cap when a first page showed it below
	// the rows asked (0: not seen): later pages ask that many.
	capped atomic.Int64
}

// New returns a client for the server at base (scheme://host[:port]).
func New(base string, hc *http.Client, creds targets.Credentials) *Client {
	targets.AddCredentials(creds)
	return &Client{base: strings.TrimRight(base, "/"), http: hc, creds: creds, hdr: targets.NewRequestHeaders(creds, "application/json")}
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + "/vmrest" + path
	if len(query) > 0 {
		u += "?" + encodeQuery(query)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header = c.hdr.Header(body != nil)
	start := nowSeconds()
	resp, err := c.Hooks.Do(c.http, req)
	if err != nil {
		c.observe(method, 0, start)
		return nil, targets.TransportError(method, fmt.Errorf("cupi %s %s: %w", method, path, stripURL(err)))
	}
	c.observe(method, resp.StatusCode, start)
	if resp.StatusCode >= 300 {
		defer targets.Drain(resp.Body)
		return nil, apiError(method, path, resp)
	}
	return resp, nil
}

func (c *Client) observe(method string, status int, start float64) {
	if c.Observe != nil {
		c.Observe(method, status, nowSeconds()-start)
	}
}

// encodeQuery encodes CUPI queries with %20 for spaces, as CUPI expects.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// stripURL removes the URL (which carries no secret, but may carry a
// user's alias) from url.Error to keep messages short.
func stripURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func apiError(method, path string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &targets.APIError{Target: "cupi", Method: method, Path: path, Status: resp.StatusCode,
		RetryAfter: targets.RetryAfter(resp.Header.Get("Retry-After"))}
	e.Code, e.Message = ParseError(body)
	if resp.StatusCode < 400 {
		e.Code, e.Message = "", targets.RedirectMessage(resp)
	}
	return e
}

// ParseError reads a CUPI error body: JSON {"errors":{"code","message"}}
// (message may also come as "error", a string or a list), XML
// <ErrorDetails><errors><code/><message/></errors></ErrorDetails>, or else
// the raw text. Every secret the run holds is scrubbed from what it
// returns (targets.Scrub): a server may quote the request it refused.
func ParseError(body []byte) (code, message string) {
	code, message = parseError(body)
	return targets.Scrub(code), message
}

func parseError(body []byte) (code, message string) {
	defer func() { message = shorten(targets.Scrub(message)) }()
	trim := bytes.TrimSpace(body)
	if len(trim) == 0 {
		return "", ""
	}
	if trim[0] == '{' {
		var v jsonErrors
		if json.Unmarshal(trim, &v) == nil && len(v.Errors) > 0 {
			var one map[string]any
			var many []map[string]any
			var text string
			if json.Unmarshal(v.Errors, &one) == nil {
				return errFields(one)
			}
			if json.Unmarshal(v.Errors, &many) == nil && len(many) > 0 {
				return errFields(many[0])
			}
			if json.Unmarshal(v.Errors, &text) == nil && text != "" {
				return "", text
			}
		}
		// error (a string or a list) or message on its own.
		var top map[string]any
		if json.Unmarshal(trim, &top) == nil {
			if code, msg := errFields(top); msg != "" {
				return code, msg
			}
		}
	}
	if trim[0] == '<' {
		var x xmlErrors
		if xml.Unmarshal(trim, &x) == nil && (x.Errors.Code != "" || x.Errors.Message != "") {
			return x.Errors.Code, x.Errors.Message
		}
	}
	return "", string(trim)
}

// shorten keeps an error message quoted from a server to a line's worth
// (after it was scrubbed whole: a cut must not leave half a secret).
func shorten(s string) string {
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

func errFields(m map[string]any) (string, string) {
	code := fmt.Sprint(m["code"])
	if m["code"] == nil {
		code = ""
	}
	for _, k := range []string{"message", "error"} {
		switch v := m[k].(type) {
		case string:
			return code, v
		case []any:
			var parts []string
			for _, p := range v {
				parts = append(parts, fmt.Sprint(p))
			}
			return code, strings.Join(parts, "; ")
		}
	}
	return code, ""
}

// MaxBody bounds one answer read into memory.
const MaxBody = 256 << 20

// openAnswer checks a read's 200 answer is what CUPI documents: 200 with
// a JSON body (asked for; XML leniently). Anything else — a proxy's or
// firewall's HTML page, a 204, a body in another media type or empty — is
// a *targets.BadAnswerError. It returns the body, at most limit bytes, to
// be decoded as it streams in, and whether it is XML. The caller drains
// and closes resp.Body.
func openAnswer(resp *http.Response, limit int64) (io.Reader, bool, error) {
	a, err := checkAnswer(resp)
	if err != nil {
		return nil, false, err
	}
	br := bufio.NewReader(io.LimitReader(resp.Body, limit))
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return nil, false, a.bad("an empty body")
		}
		if err != nil {
			return nil, false, err
		}
		if !isSpace(c) {
			_ = br.UnreadByte()
			isXML, err := a.first(c)
			return br, isXML, err
		}
	}
}

// answer is a read's answer whose status and media type passed: its
// body's first byte is still to be checked (first).
type answer struct {
	resp         *http.Response
	isXML, sniff bool
}

// checkAnswer checks a read's status and media type (openAnswer).
func checkAnswer(resp *http.Response) (answer, error) {
	a := answer{resp: resp}
	if resp.StatusCode != http.StatusOK {
		return a, a.bad("a read is answered 200 with a body")
	}
	mt := targets.MediaType(resp)
	a.isXML = targets.IsXML(mt)
	a.sniff = mt == "" || mt == "text/plain" // a server that does not say (Go's own default)
	if !targets.IsJSON(mt) && !a.isXML && !a.sniff {
		return a, a.bad("JSON (or XML) was asked for")
	}
	if strings.Contains(mt, "html") {
		return a, a.bad("an HTML page, not the API's XML")
	}
	return a, nil
}

func (a answer) bad(detail string) error {
	method, path := http.MethodGet, ""
	if req := a.resp.Request; req != nil {
		method, path = req.Method, strings.TrimPrefix(req.URL.Path, "/vmrest")
	}
	return targets.BadAnswer("cupi", method, path, true, a.resp, detail)
}

// first checks the body's first byte other than white space against the
// media type (or, when none was said, tells it) and returns whether the
// body is XML.
func (a answer) first(c byte) (bool, error) {
	isXML := a.isXML
	if a.sniff {
		isXML = c == '<' // no media type said: the body's first byte tells
	}
	if isXML && c != '<' || !isXML && c != '{' && c != '[' {
		return false, a.bad("the body does not match its media type")
	}
	return isXML, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// answers are the buffers single-object answers are read into, reused
// (readAnswer): a credential's or user's read is a few hundred bytes,
// and a fresh bufio.Reader and io.ReadAll cost about 5 KB each.
var answers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readAnswer is openAnswer, read whole (for single objects, at most limit
// bytes) into a reused buffer: the body is valid until release is called
// (decoders copy what they keep).
func readAnswer(resp *http.Response, limit int64) (body []byte, isXML bool, release func(), err error) {
	defer targets.Drain(resp.Body)
	a, err := checkAnswer(resp)
	if err != nil {
		return nil, false, nil, err
	}
	buf := answers.Get().(*bytes.Buffer)
	buf.Reset()
	release = func() {
		if buf.Cap() <= 64<<10 { // a big answer's buffer is not kept
			answers.Put(buf)
		}
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, limit)); err != nil {
		release()
		return nil, false, nil, err
	}
	body = buf.Bytes()
	i := 0
	for i < len(body) && isSpace(body[i]) {
		i++
	}
	if i == len(body) {
		release()
		return nil, false, nil, a.bad("an empty body")
	}
	if isXML, err = a.first(body[i]); err != nil {
		release()
		return nil, false, nil, err
	}
	return body[i:], isXML, release, nil
}

// decodeList reads a CUPI collection answer in JSON or XML and returns its
// total and items. An answer that is not a collection of elem is a
// *targets.BadAnswerError.
func decodeList(resp *http.Response, elem string, maxItems int) (int, []Object, error) {
	defer targets.Drain(resp.Body)
	r, isXML, err := openAnswer(resp, MaxBody)
	if err != nil {
		return 0, nil, err
	}
	var total int
	var items []Object
	if isXML {
		total, items, err = decodeXMLListOf(r, elem, maxItems)
	} else {
		total, items, err = decodeJSONListOf(r, elem, true, maxItems)
	}
	if err != nil {
		return 0, nil, targets.BadAnswer("cupi", http.MethodGet, strings.TrimPrefix(resp.Request.URL.Path, "/vmrest"), true, resp, err.Error())
	}
	return total, items, nil
}

// DecodeJSONList decodes {"@total":"N","Elem":[...]} where Elem may also be
// a lone object or absent. Without @total, the total is the items held.
func DecodeJSONList(body []byte, elem string) (int, []Object, error) {
	total, out, err := decodeJSONList(body, elem)
	if total < 0 {
		total = len(out)
	}
	return total, out, err
}

// decodeJSONList is DecodeJSONList with a total of -1 when the server
// does not say.
func decodeJSONList(body []byte, elem string) (int, []Object, error) {
	return decodeJSONListOf(bytes.NewReader(body), elem, false, 0)
}

// decodeJSONListOf is decodeJSONList; strict, an object with neither
// @total nor elem is not a list (CUPI sends {"@total":"0"} for none).
func decodeJSONListOf(r io.Reader, elem string, strict bool, maxItems int) (int, []Object, error) {
	// Decoded from the stream, member by member and item by item: the
	// body is never held whole beside its decoding (a 256 MiB answer
	// cost four times that, issue 23).
	d := stdjson.NewDecoder(r)
	d.UseNumber()
	bad := func(err error) (int, []Object, error) {
		return 0, nil, fmt.Errorf("cupi: bad JSON list: %w", err)
	}
	if tok, err := d.Token(); err != nil {
		return bad(err)
	} else if tok != stdjson.Delim('{') {
		return bad(errors.New("not an object"))
	}
	total, present := -1, false
	var out []Object
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return bad(err)
		}
		key, _ := tok.(string)
		switch {
		case key == "@total":
			var t any
			if err := d.Decode(&t); err != nil {
				return bad(err)
			}
			if n, err := strconv.Atoi(fmt.Sprint(t)); err == nil {
				total = n
			}
		case strings.EqualFold(key, elem) && !present:
			present = true
			items, err := decodeItems(d, elem, maxItems)
			if err != nil {
				return 0, nil, err
			}
			out = items
		default:
			var skip stdjson.RawMessage
			if err := d.Decode(&skip); err != nil {
				return bad(err)
			}
		}
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return bad(err)
	}
	if strict && !present && total < 0 {
		return 0, nil, fmt.Errorf("a JSON object with neither @total nor %s is not a list of %s", elem, elem)
	}
	return total, out, nil
}

// tooMany is a page holding more items than the rows asked: not the
// API's answer, and not read further (memory stays bounded by the page
// size, not by what a server sends).
func tooMany(n int) error {
	return fmt.Errorf("the page holds more than the %d rows asked (rowsPerPage)", n)
}

// decodeItems reads a list's element: an array of objects, one object
// (CUPI's list of one), or null.
func decodeItems(d *stdjson.Decoder, elem string, maxItems int) ([]Object, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("cupi: bad JSON list: %w", err)
	}
	badElem := fmt.Errorf("cupi: bad %s element", elem)
	switch tok {
	case nil:
		return nil, nil
	case stdjson.Delim('['):
		var out []Object
		for d.More() {
			var m map[string]any
			if err := d.Decode(&m); err != nil || m == nil {
				return nil, badElem
			}
			out = append(out, flatten(m))
			if maxItems > 0 && len(out) > maxItems {
				return nil, tooMany(maxItems)
			}
		}
		if _, err := d.Token(); err != nil {
			return nil, badElem
		}
		return out, nil
	case stdjson.Delim('{'):
		m := map[string]any{}
		for d.More() {
			kt, err := d.Token()
			if err != nil {
				return nil, badElem
			}
			k, _ := kt.(string)
			var v any
			if err := d.Decode(&v); err != nil {
				return nil, badElem
			}
			m[k] = v
		}
		if _, err := d.Token(); err != nil {
			return nil, badElem
		}
		return []Object{flatten(m)}, nil
	}
	return nil, badElem
}

// DecodeXMLList decodes <Users total="N"><User>...</User></Users>.
// Without a total, the total is the items held.
func DecodeXMLList(body []byte) (int, []Object, error) {
	total, out, err := decodeXMLList(body)
	if total < 0 {
		total = len(out)
	}
	return total, out, err
}

// decodeXMLList is DecodeXMLList with a total of -1 when the server does
// not say.
func decodeXMLList(body []byte) (int, []Object, error) {
	return decodeXMLListOf(bytes.NewReader(body), "", 0)
}

// decodeXMLListOf is decodeXMLList; with elem, every item must be an
// elem, and a root with no total and no item is not a list.
func decodeXMLListOf(r io.Reader, elem string, maxItems int) (int, []Object, error) {
	d := xml.NewDecoder(r)
	total, depth := -1, 0
	root := ""
	var out []Object
	var cur Object
	var field string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, fmt.Errorf("cupi: bad XML list: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				root = t.Name.Local
				for _, a := range t.Attr {
					if a.Name.Local == "total" {
						total, _ = strconv.Atoi(a.Value)
					}
				}
			case 2:
				if elem != "" && !strings.EqualFold(t.Name.Local, elem) {
					return 0, nil, fmt.Errorf("<%s> holds <%s>, not a list of %s", root, t.Name.Local, elem)
				}
				cur = Object{}
			case 3:
				field = t.Name.Local
				text.Reset()
			}
		case xml.CharData:
			if depth == 3 {
				text.Write(t)
			}
		case xml.EndElement:
			switch depth {
			case 2:
				out = append(out, withID(cur))
				if maxItems > 0 && len(out) > maxItems {
					return 0, nil, tooMany(maxItems)
				}
			case 3:
				cur[field] = text.String()
			}
			depth--
		}
	}
	if root == "" {
		return 0, nil, errors.New("cupi: bad XML list: no element")
	}
	if elem != "" && total < 0 && len(out) == 0 {
		return 0, nil, fmt.Errorf("<%s> with no total and no %s is not a list of %s", root, elem, elem)
	}
	return total, out, nil
}

// DecodeXMLObject decodes a single <Elem><Field>v</Field>...</Elem>.
func DecodeXMLObject(body []byte) (Object, error) {
	_, items, err := DecodeXMLList([]byte("<List>" + string(body) + "</List>"))
	if err != nil || len(items) == 0 {
		return nil, fmt.Errorf("cupi: bad XML object")
	}
	return items[0], nil
}

// withID fills ObjectId from the URI when a server leaves it out.
func withID(o Object) Object {
	if o["ObjectId"] == "" && o["URI"] != "" {
		u := strings.TrimRight(o["URI"], "/")
		o["ObjectId"] = u[strings.LastIndex(u, "/")+1:]
	}
	return o
}

func flatten(m map[string]any) Object {
	o := Object{}
	defer withID(o)
	for k, v := range m {
		switch t := v.(type) {
		case string:
			o[k] = t
		case nil:
			o[k] = ""
		case map[string]any, []any:
			continue
		default:
			o[k] = fmt.Sprint(t)
		}
	}
	return o
}

// decodeObject reads a single object answer (elem in XML: User,
// Credential). Invalid XML, another element or anything not JSON or XML
// is a *targets.BadAnswerError — never an empty object, which would read
// as a credential never set.
func decodeObject(resp *http.Response, elem string) (Object, error) {
	body, isXML, release, err := readAnswer(resp, 16<<20)
	if err != nil {
		return nil, err
	}
	defer release()
	bad := func(err error) error {
		return targets.BadAnswer("cupi", http.MethodGet, strings.TrimPrefix(resp.Request.URL.Path, "/vmrest"), true, resp, err.Error())
	}
	if isXML {
		trim := bytes.TrimSpace(body)
		if err := xmlRootIs(trim, elem); err != nil {
			return nil, bad(err)
		}
		o, err := DecodeXMLObject(trim)
		if err != nil {
			return nil, bad(err)
		}
		return o, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, bad(fmt.Errorf("cupi: bad JSON object: %w", err))
	}
	return flatten(m), nil
}

// xmlRootIs checks that body is well-formed XML whose root is elem.
func xmlRootIs(body []byte, elem string) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("cupi: bad XML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if !strings.EqualFold(root, elem) {
		return fmt.Errorf("cupi: <%s> where <%s> belongs", root, elem)
	}
	return nil
}

// list pages through a collection, calling fn for each item.
func (c *Client) list(ctx context.Context, path, elem string, query url.Values, fn func(Object) error) error {
	seen := 0
	var pb targets.PageBound
	for page := 1; ; page++ {
		var ids strings.Builder
		total, n, err := c.page(ctx, path, elem, query, page, func(o Object) error {
			ids.WriteString(o["ObjectId"] + o["URI"] + "\x00")
			return fn(o)
		})
		if err != nil {
			return err
		}
		seen += n
		if LastPage(n, seen, total) {
			return nil
		}
		if err := pb.Next(page, c.pageSize(), n, total, ids.String()); err != nil {
			return targets.BadAnswer("cupi", http.MethodGet, path, true, nil, err.Error())
		}
	}
}

// LastPage reports whether a page of n items, after seen items in all,
// ends a list whose total is total. When the server does not say (-1),
// only an empty page ends it: a short one may be the server's own page
// limit.
func LastPage(n, seen, total int) bool {
	return n == 0 || (total >= 0 && seen >= total)
}

// page reads one page (from 1) of a list and calls fn for each item; it
// returns the list's total (-1 when the server does not say) and the
// items the page held.
func (c *Client) page(ctx context.Context, path, elem string, query url.Values, page int, fn func(Object) error) (total, n int, err error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	size := c.pageSize()
	q.Set("rowsPerPage", strconv.Itoa(size))
	q.Set("pageNumber", strconv.Itoa(page))
	resp, err := c.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return 0, 0, err
	}
	total, items, err := decodeList(resp, elem, size)
	if err != nil {
		return 0, 0, err
	}
	if page == 1 && len(items) > 0 && len(items) < size && total > len(items) {
		// A first page below the rows asked, with more to come: the
		// server's cap. A server may place page N by the rows asked
		// while holding at most its cap, so later pages ask the cap.
		c.capped.Store(int64(len(items)))
	}
	for _, it := range items {
		if err := fn(it); err != nil {
			return 0, 0, err
		}
	}
	return total, len(items), nil
}

func (c *Client) pageSize() int {
	size := PageSize
	if c.PageSize > 0 {
		size = c.PageSize
	}
	if capped := int(c.capped.Load()); capped > 0 && capped < size {
		size = capped
	}
	return size
}

// ListUsers calls fn for every user, page after page.
func (c *Client) ListUsers(ctx context.Context, fn func(Object) error) error {
	return c.list(ctx, "/users", "User", nil, fn)
}

// UsersPage reads one page (from 1) of the user list, calling fn for each
// user; it returns the list's total (-1 when the server does not say),
// and the users the page held, so that a caller can read the other pages
// at once (LastPage tells when a list ends).
func (c *Client) UsersPage(ctx context.Context, page int, fn func(Object) error) (total, n int, err error) {
	return c.page(ctx, "/users", "User", nil, page, fn)
}

// FindUser returns the user with alias, or an error wrapping
// targets.ErrNotFound.
func (c *Client) FindUser(ctx context.Context, alias string) (Object, error) {
	var found Object
	q := url.Values{"query": {"(alias is " + alias + ")"}}
	err := c.list(ctx, "/users", "User", q, func(o Object) error {
		if strings.EqualFold(o["Alias"], alias) {
			found = o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("cupi user %q: %w", alias, targets.ErrNotFound)
	}
	return found, nil
}

// GetUser returns user id with every field the server sends (the full
// object, not a list summary), or an error wrapping targets.ErrNotFound.
func (c *Client) GetUser(ctx context.Context, id string) (Object, error) {
	resp, err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return nil, err
	}
	return decodeObject(resp, "User")
}

// created reads the object id from a 201 answer: the body and the
// Location header both carry the new URI. An answer that names no id
// created something the client cannot name: an unknown outcome, which the
// caller settles by reading (never an empty id that later writes use).
func created(method, path string, resp *http.Response) (string, error) {
	defer targets.Drain(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		// 201 is documented (with the URI): a 200 is a proxy's page or
		// something else answering, not the server creating.
		return "", targets.BadAnswer("cupi", method, path, false, resp, "a create is answered 201 Created with the new URI")
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if err != nil {
			return "", &targets.UnknownOutcomeError{Err: fmt.Errorf("cupi %s %s: HTTP %d, answer cut short: %w", method, path, resp.StatusCode, err)}
		}
		loc = strings.TrimSpace(string(b))
	}
	if u, err := url.Parse(loc); err == nil && loc != "" {
		loc = u.Path
	}
	loc = strings.TrimRight(loc, "/")
	id := loc[strings.LastIndex(loc, "/")+1:]
	if id == "" || strings.ContainsAny(id, " <>{}\"\n") {
		return "", &targets.UnknownOutcomeError{Err: fmt.Errorf("cupi %s %s: HTTP %d names no new object (no Location, no URI in the body)", method, path, resp.StatusCode)}
	}
	// A copy: the id is held for the whole run, the header's whole value
	// (or the body read) need not be.
	return strings.Clone(id), nil
}

// CreateUser creates a user from template and returns its ObjectId.
// fields must hold Alias and DtmfAccessId.
func (c *Client) CreateUser(ctx context.Context, template string, fields Object) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, "/users", url.Values{"templateAlias": {template}}, fields)
	if err != nil {
		return "", err
	}
	return created(http.MethodPost, "/users", resp)
}

// noContent sends a PUT or DELETE and checks its answer is the
// documented one: 204 No Content (older servers answer a DELETE 200,
// with no body or a JSON or XML one). Anything else — a 200 where 204 is
// documented, a proxy's HTML page — is an unknown outcome, settled by
// the write's proof, never taken as done.
func (c *Client) noContent(ctx context.Context, method, path string, body any) error {
	resp, err := c.do(ctx, method, path, nil, body)
	if err != nil {
		return err
	}
	defer targets.Drain(resp.Body)
	if resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if method == http.MethodDelete && resp.StatusCode == http.StatusOK {
		mt := targets.MediaType(resp)
		if targets.IsJSON(mt) || targets.IsXML(mt) && !strings.Contains(mt, "html") {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1))
		if err == nil && len(b) == 0 {
			return nil
		}
	}
	return targets.BadAnswer("cupi", method, path, false, resp, "204 No Content is documented")
}

// UpdateUser changes the given fields of user id.
func (c *Client) UpdateUser(ctx context.Context, id string, fields Object) error {
	return c.noContent(ctx, http.MethodPut, "/users/"+url.PathEscape(id), fields)
}

// DeleteUser deletes user id (200 or 204).
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/users/"+url.PathEscape(id), nil)
}

// Credential returns the settings of a user's password or PIN (never the
// secret itself).
func (c *Client) Credential(ctx context.Context, id, kind string) (Object, error) {
	resp, err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(id)+"/credential/"+kind, nil, nil)
	if err != nil {
		return nil, err
	}
	return decodeObject(resp, "Credential")
}

// SetCredential changes a user's password or PIN settings; a Credentials
// field sets the secret.
func (c *Client) SetCredential(ctx context.Context, id, kind string, fields Object) error {
	return c.noContent(ctx, http.MethodPut, "/users/"+url.PathEscape(id)+"/credential/"+kind, fields)
}

// UserRoles lists the roles a user holds.
func (c *Client) UserRoles(ctx context.Context, id string) ([]Object, error) {
	var out []Object
	err := c.list(ctx, "/users/"+url.PathEscape(id)+"/userroles", "UserRole", nil, func(o Object) error {
		out = append(out, o)
		return nil
	})
	return out, err
}

// AddUserRole grants role roleID to user id and returns the user-role id.
func (c *Client) AddUserRole(ctx context.Context, id, roleID string) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(id)+"/userroles", nil, Object{"RoleObjectId": roleID})
	if err != nil {
		return "", err
	}
	return created(http.MethodPost, "/users/"+id+"/userroles", resp)
}

// DeleteUserRole removes user-role urID from user id.
func (c *Client) DeleteUserRole(ctx context.Context, id, urID string) error {
	return c.noContent(ctx, http.MethodDelete, "/users/"+url.PathEscape(id)+"/userroles/"+url.PathEscape(urID), nil)
}

func (c *Client) all(ctx context.Context, path, elem string) ([]Object, error) {
	var out []Object
	err := c.list(ctx, path, elem, nil, func(o Object) error {
		out = append(out, o)
		return nil
	})
	return out, err
}

// Roles lists the roles (RoleName, ObjectId).
func (c *Client) Roles(ctx context.Context) ([]Object, error) { return c.all(ctx, "/roles", "Role") }

// CredentialPolicies lists the credential policies (DisplayName, ObjectId).
func (c *Client) CredentialPolicies(ctx context.Context) ([]Object, error) {
	return c.all(ctx, "/credentialpolicies", "CredentialPolicy")
}

// UserTemplates lists the user templates (Alias, ObjectId).
func (c *Client) UserTemplates(ctx context.Context) ([]Object, error) {
	return c.all(ctx, "/usertemplates", "UserTemplate")
}

// AuthzServers lists the authorization servers.
func (c *Client) AuthzServers(ctx context.Context) ([]Object, error) {
	return c.all(ctx, "/authz/server", "AuthzServer")
}

// CreateAuthzServer creates an authorization server and returns its id.
func (c *Client) CreateAuthzServer(ctx context.Context, fields Object) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, "/authz/server", nil, fields)
	if err != nil {
		return "", err
	}
	return created(http.MethodPost, "/authz/server", resp)
}

// UpdateAuthzServer changes fields of authorization server id.
func (c *Client) UpdateAuthzServer(ctx context.Context, id string, fields Object) error {
	return c.noContent(ctx, http.MethodPut, "/authz/server/"+url.PathEscape(id), fields)
}

// DeleteAuthzServer deletes authorization server id.
func (c *Client) DeleteAuthzServer(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, "/authz/server/"+url.PathEscape(id), nil)
}

// Page reads page 1 of the collection at path (e.g. "/users") with at
// most rows items, returning the collection's @total and the items; rows
// 0 asks for the count only. It is the cheap read a preflight uses.
func (c *Client) Page(ctx context.Context, path, elem string, rows int) (int, []Object, error) {
	q := url.Values{"rowsPerPage": {strconv.Itoa(rows)}, "pageNumber": {"1"}}
	resp, err := c.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return 0, nil, err
	}
	return decodeList(resp, elem, rows)
}

// User returns user id.
func (c *Client) User(ctx context.Context, id string) (Object, error) {
	resp, err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return nil, err
	}
	return decodeObject(resp, "User")
}

// Base returns the server's base URL (scheme://host[:port]).
func (c *Client) Base() string { return c.base }
