// Package voss is a client for the VOSS Automate REST API (/api): paged
// lists under a hierarchy, instances by pkid, bulk export of many
// instances as a JSON zip, create/modify/delete with optional asynchronous
// transactions (nowait=true, then poll), bulk delete, roles and hierarchy
// nodes.
//
// The client makes one attempt per call and classifies failures (see
// targets.Classify); retries and back-off belong to the caller.
package voss

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
	"github.com/bulkprov/bulkprov/targets"
)

// Instance is a model instance as read from VOSS.
type Instance struct {
	Pkid      string
	Model     string
	Hierarchy string
	Data      map[string]any
}

// Summary is one resource of a list answer: pkid, hierarchy and the
// summary attributes only.
type Summary struct {
	Pkid      string
	Hierarchy string
	Data      map[string]any
}

// PageLimit is the page size the client asks for (VOSS maximum_limit).
const PageLimit = 2000

// ExportBatch is how many hrefs one bulk export asks for.
const ExportBatch = 500

// Client talks to one VOSS Automate server. Safe for concurrent use.
type Client struct {
	base  string
	http  *http.Client
	creds targets.Credentials
	hdr   targets.RequestHeaders // built once from creds
	// Nowait makes writes asynchronous transactions that the client polls.
	Nowait bool
	// PollInterval is the first poll delay (doubling up to 1s).
	PollInterval time.Duration
	// MaxWait bounds how long one transaction is polled before its
	// outcome is treated as unknown (and verified by reading).
	MaxWait time.Duration
	// Observe, when set, is called after every request (for metrics).
	Observe func(method string, status int, seconds float64)
	// Hooks (Begin, Reading, End), when set, follow every request until
	// its answer's body is closed (the watchdog).
	targets.Hooks
	// DecodeExport reads a bulk export response (a JSON export zip or a
	// JSON document) into instances; items without a model are of model.
	// vossload.New sets it to the loader's reader.
	DecodeExport func(body []byte, model string) ([]Instance, error)
	// nodes maps a hierarchy node's pkid to its path, as HierarchyNodes
	// last listed them: an instance that names only its parent node
	// (meta.references.parent, seed 002) is placed by it.
	nodes sync.Map
}

// placed returns hierarchy, else the path of the parent node m names.
func (c *Client) placed(hierarchy string, m refs) string {
	if hierarchy != "" || len(m.References.Parent) == 0 {
		return hierarchy
	}
	if p, ok := c.nodes.Load(m.References.Parent[0].Pkid); ok {
		return p.(string)
	}
	return ""
}

// New returns a client for the server at base (scheme://host[:port]).
func New(base string, hc *http.Client, creds targets.Credentials) *Client {
	targets.AddCredentials(creds)
	return &Client{base: strings.TrimRight(base, "/"), http: hc, creds: creds, hdr: targets.NewRequestHeaders(creds, "application/json"), Nowait: true, PollInterval: 20 * time.Millisecond, MaxWait: 10 * time.Minute}
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("format", "json")
	// The time a paced transport holds the request for the budget is not
	// the server's: it is taken off the latency observed.
	ctx, waited := targets.WithPaceWait(ctx)
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/"+path+"?"+q.Encode(), rd)
	if err != nil {
		return nil, err
	}
	req.Header = c.hdr.Header(body != nil)
	// A bulk export is a POST that only reads: its failures are safe to
	// retry, never an unknown outcome.
	read := method == http.MethodGet || strings.HasSuffix(path, "/export/")
	start := time.Now()
	resp, err := c.Hooks.Do(c.http, req)
	if err != nil {
		c.observe(method, 0, start.Add(waited()))
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		kind := method
		if read {
			kind = http.MethodGet
		}
		return nil, targets.TransportError(kind, fmt.Errorf("voss %s /api/%s: %w", method, path, err))
	}
	c.observe(method, resp.StatusCode, start.Add(waited()))
	if resp.StatusCode >= 300 {
		defer targets.Drain(resp.Body)
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		e := &targets.APIError{Target: "voss", Method: method, Path: "/api/" + path, Status: resp.StatusCode, Read: read,
			RetryAfter: targets.RetryAfter(resp.Header.Get("Retry-After"))}
		e.Message = ParseError(b)
		if resp.StatusCode < 400 {
			e.Message = targets.RedirectMessage(resp)
		}
		return nil, e
	}
	return resp, nil
}

func (c *Client) observe(method string, status int, start time.Time) {
	if c.Observe != nil {
		c.Observe(method, status, time.Since(start).Seconds())
	}
}

// ParseError reads a VOSS error body ({"message": ...} and variants),
// falling back to the raw text. Every secret the run holds is scrubbed
// from it (targets.Scrub): a server may quote the request it refused.
func ParseError(b []byte) string {
	return shorten(targets.Scrub(parseError(b)))
}

func parseError(b []byte) string {
	var v map[string]any
	if json.Unmarshal(b, &v) == nil {
		for _, k := range []string{"message", "error", "detail", "errors"} {
			if m, ok := v[k]; ok && m != nil {
				return fmt.Sprint(m)
			}
		}
	}
	return strings.TrimSpace(string(b))
}

// shorten keeps an error message quoted from a server to a line's worth
// (after it was scrubbed whole: a cut must not leave half a secret).
func shorten(s string) string {
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

// decode reads a read's answer into v, checking it is what VOSS
// documents: 200 with a JSON body. Anything else — a proxy's or
// firewall's HTML page, another media type, a body that is not JSON — is
// a *targets.BadAnswerError (a read's: the target cannot be used).
func decode(resp *http.Response, v any) error {
	defer targets.Drain(resp.Body)
	if err := jsonAnswer(resp); err != nil {
		return err
	}
	d := json.NewDecoder(io.LimitReader(resp.Body, 256<<20))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return badAnswer(resp, true, "voss: bad JSON answer: "+err.Error())
	}
	return nil
}

func badAnswer(resp *http.Response, read bool, detail string) error {
	method, path := http.MethodGet, ""
	if resp.Request != nil {
		method, path = resp.Request.Method, resp.Request.URL.Path
	}
	return targets.BadAnswer("voss", method, path, read, resp, detail)
}

// jsonAnswer checks a 2xx answer's media type is JSON (or unsaid, or
// text/plain: Go's default for a server that does not say; the body must
// then parse as JSON all the same).
func jsonAnswer(resp *http.Response) error {
	mt := targets.MediaType(resp)
	if targets.IsJSON(mt) || mt == "" || mt == "text/plain" {
		return nil
	}
	read := resp.Request == nil || resp.Request.Method == http.MethodGet || strings.HasSuffix(resp.Request.URL.Path, "/export/")
	return badAnswer(resp, read, "JSON was asked for (format=json)")
}

// decodeList reads a list answer: JSON with pagination or resources.
func decodeList(resp *http.Response, page *listPage) error {
	if err := decode(resp, page); err != nil {
		return err
	}
	if !page.Pagination.seen && page.Resources == nil {
		return badAnswer(resp, true, "a JSON object with neither pagination nor resources is not a list")
	}
	return nil
}

// List calls fn with each instance of model at hierarchy and below,
// paging with skip/limit until pagination.total is reached. filter, when
// not empty, is {field, text} matched with "equals": a hint only, as its
// parameter names are not documented (formats-and-apis 3.3): a server
// may ignore it, and one that refuses it (400) is listed whole, so the
// caller compares the field itself.
func (c *Client) List(ctx context.Context, model, hierarchy string, filter [2]string, fn func(Summary) error) error {
	skip, pages := 0, 0
	var bound targets.PageBound // a server ignoring skip: issue 23
	for {
		q := url.Values{"hierarchy": {hierarchy}, "skip": {strconv.Itoa(skip)}, "limit": {strconv.Itoa(PageLimit)}}
		if filter[0] != "" {
			q.Set("filter_field", filter[0])
			q.Set("filter_condition", "equals")
			q.Set("filter_text", filter[1])
		}
		resp, err := c.do(ctx, http.MethodGet, model+"/", q, nil)
		if ae, ok := err.(*targets.APIError); ok && ae.Status == http.StatusBadRequest && filter[0] != "" && skip == 0 {
			filter = [2]string{}
			continue
		}
		if err != nil {
			return err
		}
		var page listPage
		if err := decodeList(resp, &page); err != nil {
			return err
		}
		var ids strings.Builder
		for _, r := range page.Resources {
			ids.WriteString(r.Pkid + "\x00")
			h, _ := r.Data["hierarchy_path"].(string)
			if model != "data/HierarchyNode" {
				h = c.placed(h, r.Meta)
			}
			if err := fn(Summary{Pkid: r.Pkid, Hierarchy: h, Data: r.Data}); err != nil {
				return err
			}
		}
		pages++
		skip += len(page.Resources)
		pageSize := page.Pagination.Limit
		if pageSize <= 0 {
			pageSize = PageLimit
		}
		switch {
		case len(page.Resources) == 0:
			return nil
		case page.Pagination.Total > 0 && skip >= page.Pagination.Total:
			return nil
		case page.Pagination.Total == 0 && len(page.Resources) < pageSize:
			return nil // no total given (count=false): a short page is the last
		}
		total := page.Pagination.Total
		if total == 0 {
			total = -1
		}
		if err := bound.Next(pages, len(page.Resources), len(page.Resources), total, ids.String()); err != nil {
			return targets.BadAnswer("voss", http.MethodGet, "/api/"+model+"/", true, nil, err.Error())
		}
	}
}

func (j instanceJSON) instance() Instance {
	id := j.Pkid
	if id == "" {
		id = j.Meta.Pkid
	}
	return Instance{Pkid: id, Model: j.Meta.ModelType, Hierarchy: j.Meta.Hierarchy, Data: j.Data}
}

// Get returns the full instance with pkid.
func (c *Client) Get(ctx context.Context, model, pkid string) (*Instance, error) {
	resp, err := c.do(ctx, http.MethodGet, model+"/"+url.PathEscape(pkid)+"/", nil, nil)
	if err != nil {
		return nil, err
	}
	var j instanceJSON
	if err := decode(resp, &j); err != nil {
		return nil, err
	}
	in := j.instance()
	if in.Model == "" {
		in.Model = model
	}
	in.Hierarchy = c.placed(in.Hierarchy, j.Meta.refs)
	return &in, nil
}

// MaxExportBytes bounds one bulk export response read into memory.
const MaxExportBytes = 256 << 20

// Export returns the full instances with the given pkids, asking the bulk
// export (one JSON zip per ExportBatch pkids) instead of one GET each. The
// response is decoded by DecodeExport (the loader's JSON export reader,
// wired by the caller: see package vossload), so live exports and export
// files given as input are read by one decoder under one set of limits.
func (c *Client) Export(ctx context.Context, model, hierarchy string, pkids []string, fn func(Instance) error) error {
	for lo := 0; lo < len(pkids); lo += ExportBatch {
		batch := pkids[lo:min(lo+ExportBatch, len(pkids))]
		hrefs := make([]string, len(batch))
		for i, id := range batch {
			hrefs[i] = "/api/" + model + "/" + id
		}
		q := url.Values{"hierarchy": {hierarchy}, "export_format": {"json"}}
		resp, err := c.do(ctx, http.MethodPost, model+"/export/", q, map[string]any{"hrefs": hrefs})
		if ae, ok := err.(*targets.APIError); ok && (ae.Status == 404 || ae.Status == 405 || ae.Status == 501) {
			// No bulk export on this server: one GET per instance.
			for _, id := range batch {
				in, err := c.Get(ctx, model, id)
				if err != nil {
					return err
				}
				if err := fn(*in); err != nil {
					return err
				}
			}
			continue
		}
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxExportBytes+1))
		targets.Drain(resp.Body)
		if err != nil {
			return err
		}
		if c.DecodeExport == nil {
			return fmt.Errorf("voss export of %d %s: the client has no export decoder (DecodeExport)", len(batch), model)
		}
		items, err := c.DecodeExport(body, model)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteResult is the outcome of a write: the pkid when known, and the
// transaction id for asynchronous writes.
type WriteResult struct {
	Pkid string
	TxID string
}

// write sends a mutator; with Nowait, it reports the transaction id to
// onTx (so a caller can journal it) and polls it to its end.
func (c *Client) write(ctx context.Context, method, path string, q url.Values, body any, onTx func(string)) (WriteResult, error) {
	if c.Nowait {
		if q == nil {
			q = url.Values{}
		}
		q.Set("nowait", "true")
	}
	resp, err := c.do(ctx, method, path, q, body)
	if err != nil {
		return WriteResult{}, err
	}
	// The server answered 2xx: the write happened, or was queued. An
	// answer that cannot be read (empty, cut short, not JSON) must not
	// pass for a transient failure, which a caller would resend (a
	// second create is refused as a duplicate): the outcome is unknown,
	// to be verified — except an update's or delete's empty answer,
	// which is done (there is nothing more to learn from it).
	var a writeAnswer
	if err := jsonAnswer(resp); err != nil {
		targets.Drain(resp.Body)
		return WriteResult{}, err // an unknown outcome: a proxy's page, not VOSS's answer
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	targets.Drain(resp.Body)
	switch {
	case rerr != nil:
		return WriteResult{}, &targets.UnknownOutcomeError{Err: fmt.Errorf("voss %s /api/%s: HTTP %d, answer cut short: %w", method, path, resp.StatusCode, rerr)}
	case len(bytes.TrimSpace(b)) == 0:
		if method == http.MethodPost {
			return WriteResult{}, &targets.UnknownOutcomeError{Err: fmt.Errorf("voss %s /api/%s: HTTP %d with an empty answer (no pkid, no transaction)", method, path, resp.StatusCode)}
		}
		return WriteResult{}, nil
	default:
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&a); err != nil {
			return WriteResult{}, badAnswer(resp, false, "an unreadable answer: "+err.Error())
		}
	}
	if method == http.MethodPost && a.Pkid == "" && a.TransactionID == "" && (a.Success == nil || *a.Success) {
		// A create is answered with the new pkid or a transaction to
		// poll (formats-and-apis 3.5): an answer naming neither is not
		// VOSS creating.
		return WriteResult{}, badAnswer(resp, false, "a create is answered with its pkid or a transaction_id")
	}
	if a.Success != nil && !*a.Success && a.TransactionID == "" {
		// A refusal in a 2xx answer (formats-and-apis.md 3.5: key on the
		// status plus success).
		return WriteResult{}, &targets.APIError{Target: "voss", Method: method, Path: "/api/" + path, Status: resp.StatusCode, Message: ParseError(b)}
	}
	res := WriteResult{Pkid: a.Pkid, TxID: a.TransactionID}
	if a.TransactionID == "" {
		return res, nil
	}
	if onTx != nil {
		onTx(a.TransactionID)
	}
	pkid, err := c.Wait(ctx, a.TransactionID)
	if pkid != "" {
		res.Pkid = pkid
	}
	return res, err
}

// TxFailed is a transaction that ended in failure.
type TxFailed struct {
	TxID, Message string
}

func (e *TxFailed) Error() string {
	return "voss transaction " + e.TxID + " failed: " + shorten(targets.Scrub(e.Message))
}

// Wait polls transaction txID until it ends; it returns the created
// resource's pkid when the transaction names one.
func (c *Client) Wait(ctx context.Context, txID string) (string, error) {
	delay := c.PollInterval
	started := time.Now()
	for {
		resp, err := c.do(ctx, http.MethodGet, "tool/Transaction/"+url.PathEscape(txID)+"/poll/", nil, nil)
		if err != nil {
			return "", err
		}
		// {"[id]": {status, href, description}} (the documented poll), or
		// the status on its own. The transaction was accepted: an answer
		// that cannot be read leaves its outcome unknown, to be verified
		// — never a transient failure to resend, nor a refusal.
		st, err := pollStatus(resp, txID)
		if err != nil {
			return "", &targets.UnknownOutcomeError{Err: fmt.Errorf("voss transaction %s: %w", txID, err)}
		}
		status := strings.ToLower(st.Status)
		switch {
		case status == "success" || status == "completed" || status == "complete" || status == "done":
			// The created resource's pkid is a courtesy: a server without
			// the transaction detail endpoint still completed the write.
			pkid, err := c.txResource(ctx, txID)
			if err != nil && targets.Classify(err) == targets.Permanent {
				return "", nil
			}
			return pkid, err
		case strings.Contains(status, "fail") || strings.Contains(status, "error") || strings.Contains(status, "cancel"):
			return "", &TxFailed{TxID: txID, Message: st.Message}
		}
		if time.Since(started) > c.MaxWait {
			return "", &targets.UnknownOutcomeError{Err: fmt.Errorf("voss transaction %s still %q after %v", txID, st.Status, c.MaxWait)}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// pollStatus reads a poll answer: the entry of txID (or the only entry),
// or a status given at the top level.
func pollStatus(resp *http.Response, txID string) (txStatus, error) {
	var raw map[string]json.RawMessage
	if err := decode(resp, &raw); err != nil {
		return txStatus{}, err
	}
	var st txStatus
	if _, flat := raw["status"]; flat {
		b, _ := json.Marshal(raw)
		return st, json.Unmarshal(b, &st)
	}
	entry, ok := raw[txID]
	if !ok && len(raw) == 1 {
		for _, only := range raw {
			entry = only
		}
	}
	if entry == nil {
		return st, nil // no status yet: polled again
	}
	err := json.Unmarshal(entry, &st)
	if st.Message == "" {
		st.Message = st.Description
	}
	return st, err
}

func (c *Client) txResource(ctx context.Context, txID string) (string, error) {
	resp, err := c.do(ctx, http.MethodGet, "tool/Transaction/"+url.PathEscape(txID)+"/", nil, nil)
	if err != nil {
		return "", err
	}
	var tx struct {
		Data struct {
			Resource struct {
				After string `json:"after_transaction"`
			} `json:"resource"`
		} `json:"data"`
	}
	if err := decode(resp, &tx); err != nil {
		return "", err
	}
	a := strings.TrimRight(tx.Data.Resource.After, "/")
	return a[strings.LastIndex(a, "/")+1:], nil
}

// Create adds an instance of model at hierarchy.
func (c *Client) Create(ctx context.Context, model, hierarchy string, data map[string]any, onTx func(string)) (WriteResult, error) {
	return c.write(ctx, http.MethodPost, model+"/", url.Values{"hierarchy": {hierarchy}}, data, onTx)
}

// Update modifies the given fields of instance pkid.
func (c *Client) Update(ctx context.Context, model, pkid, hierarchy string, data map[string]any, onTx func(string)) (WriteResult, error) {
	return c.write(ctx, http.MethodPut, model+"/"+url.PathEscape(pkid)+"/", url.Values{"hierarchy": {hierarchy}}, data, onTx)
}

// Delete removes instance pkid.
func (c *Client) Delete(ctx context.Context, model, pkid, hierarchy string, onTx func(string)) (WriteResult, error) {
	return c.write(ctx, http.MethodDelete, model+"/"+url.PathEscape(pkid)+"/", url.Values{"hierarchy": {hierarchy}}, nil, onTx)
}

// BulkDelete removes many instances of model in one request.
func (c *Client) BulkDelete(ctx context.Context, model, hierarchy string, pkids []string, onTx func(string)) error {
	hrefs := make([]string, len(pkids))
	for i, id := range pkids {
		hrefs[i] = "/api/" + model + "/" + id
	}
	_, err := c.write(ctx, http.MethodDelete, model+"/", url.Values{"hierarchy": {hierarchy}}, map[string]any{"hrefs": hrefs}, onTx)
	return err
}

// Roles returns the names of the data/Role instances visible at hierarchy.
// A role's summary need not carry its name (data/Role's summary
// attributes are not documented): those without one are read by pkid, so
// that a list without names never reads as "no roles".
func (c *Client) Roles(ctx context.Context, hierarchy string) ([]string, error) {
	var out, nameless []string
	err := c.List(ctx, "data/Role", hierarchy, [2]string{}, func(s Summary) error {
		if n, ok := s.Data["name"].(string); ok && n != "" {
			out = append(out, n)
		} else if s.Pkid != "" {
			nameless = append(nameless, s.Pkid)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range nameless {
		in, err := c.Get(ctx, "data/Role", id)
		if err != nil {
			return nil, err
		}
		if n, ok := in.Data["name"].(string); ok && n != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

// HierarchyNodes returns the hierarchy paths that exist, paging like any
// list: a provider's tree can hold more nodes than one page. In a list,
// hierarchy_path is where an instance lives (seed 002), and a node lives
// in its parent: a node whose path does not already end in its name is
// that path plus its name. When the nodes carry no path at all, the
// answer is nil: the client cannot tell which hierarchies exist.
func (c *Client) HierarchyNodes(ctx context.Context) (map[string]bool, error) {
	type node struct{ pkid, path, name string }
	var nodes []node
	unknown := false
	own := true // every path ends in its node's name: they are the nodes' own
	err := c.List(ctx, "data/HierarchyNode", "sys", [2]string{}, func(s Summary) error {
		name, _ := s.Data["name"].(string)
		if _, ok := s.Data["hierarchy_path"].(string); !ok {
			unknown = true
		}
		if name != "" && s.Hierarchy != name && !strings.HasSuffix(s.Hierarchy, "."+name) {
			own = false
		}
		nodes = append(nodes, node{s.Pkid, s.Hierarchy, name})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, n := range nodes {
		p := n.path
		if !own && n.name != "" {
			// Where the node lives (its parent's path), plus its name.
			p = strings.TrimPrefix(n.path+"."+n.name, ".")
		}
		if p == "" {
			continue
		}
		out[p] = true
		if n.pkid != "" {
			c.nodes.Store(n.pkid, p)
		}
	}
	if len(out) == 0 || unknown {
		return nil, nil
	}
	return out, nil
}

// Page reads one page of model at hierarchy and below: at most limit
// summaries from skip, and pagination.total. It is the cheap read a
// preflight uses.
func (c *Client) Page(ctx context.Context, model, hierarchy string, skip, limit int) (int, []Summary, error) {
	q := url.Values{"hierarchy": {hierarchy}, "skip": {strconv.Itoa(skip)}, "limit": {strconv.Itoa(limit)}}
	resp, err := c.do(ctx, http.MethodGet, model+"/", q, nil)
	if err != nil {
		return 0, nil, err
	}
	var page listPage
	if err := decodeList(resp, &page); err != nil {
		return 0, nil, err
	}
	out := make([]Summary, 0, len(page.Resources))
	for _, r := range page.Resources {
		h, _ := r.Data["hierarchy_path"].(string)
		if model != "data/HierarchyNode" {
			h = c.placed(h, r.Meta)
		}
		out = append(out, Summary{Pkid: r.Pkid, Hierarchy: h, Data: r.Data})
	}
	return page.Pagination.Total, out, nil
}
