// Package sim is a VOSS Automate API simulator for data/User and
// relation/HcsAdminUserREL (with data/Role and data/HierarchyNode to
// resolve references) that behaves as the API reference pages describe:
// Basic authentication, hierarchy required, summary-only list resources
// with the pagination block (maximum limit 2000), full instances by pkid,
// bulk export as a JSON zip, business keys unique within a hierarchy,
// schema checks (required fields, password pattern .{8,}, maxLength, role
// must exist), VOSS-shaped errors, and asynchronous mutators: with
// nowait=true a write is queued as a transaction, run by a pool of
// workers, and polled at /api/tool/Transaction/[id]/poll/.
package sim

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulkprov/bulkprov/targets/simkit"
)

// Options configure the simulator.
type Options struct {
	User, Password string
	ServiceTime    time.Duration // time each request takes
	TxWorkers      int           // transaction queue workers (VOSS default 30)
	// RateLimit is the requests per second allowed per user before the
	// throttle answers (0: off; VOSS documents 20/s per user per node).
	// Every request counts: lists, GETs, writes and transaction polls.
	RateLimit float64
	// ThrottleStatus is the status of a throttled request: 429 (default)
	// or 503 — the documentation does not settle it (assumed).
	ThrottleStatus int
	// ThrottleRetryAfter, when positive, is sent as Retry-After with a
	// throttled answer; zero sends none (it "may" come, assumed).
	ThrottleRetryAfter time.Duration
	MaxLimit           int // pagination maximum_limit (2000)
	Faults             simkit.Faults
	// DropFields and LowerFields make the server misbehave on purpose
	// (unkept.go): each MODEL:PATH entry names a field whose writes it
	// answers with success as usual but does not keep (DropFields) or
	// keeps lower-cased (LowerFields). Validate checks them; New ignores
	// an entry Validate refuses.
	DropFields, LowerFields []string
}

// Instance is a stored model instance.
type Instance struct {
	Model     string         `json:"model"`
	Hierarchy string         `json:"hierarchy"`
	Data      map[string]any `json:"data"`
}

// Tx is an asynchronous transaction.
type Tx struct {
	ID, Status, Message, Description, Resource string
}

// State is what the simulator holds; it can be saved and restored.
type State struct {
	Nodes     map[string]string    `json:"nodes"` // hierarchy path -> pkid
	Roles     []string             `json:"roles"`
	Instances map[string]*Instance `json:"instances"`
	Seq       int64                `json:"seq"`
}

// Server is the simulator; it is an http.Handler.
type Server struct {
	opts   Options
	faults *simkit.Injector
	unkept []unkeptRule
	Writes simkit.Writes

	mu    sync.Mutex
	st    State
	keys  map[string]string // model|hierarchy|lower key -> pkid
	txs   map[string]*Tx
	queue chan func()
	dirty atomic.Bool

	rateMu   sync.Mutex
	buckets  map[string]*bucket // per user
	requests atomic.Int64
}

// DefaultHierarchy is the sample tree's customer node.
var DefaultHierarchy = []string{
	"sys", "sys.hcs", "sys.hcs.CS-P", "sys.hcs.CS-P.CS-NB", "sys.hcs.CS-P.CS-NB.AAAGlobal",
	"sys.hcs.CS-P.CS-NB.AAAGlobal.Site1", "sys.hcs.CS-P.CS-NB.BBBGlobal", "sys.hcs.CS-P.CS-NB.BBBGlobal.Site1",
}

// DefaultRoles are the data/Role names the simulator starts with.
var DefaultRoles = []string{
	"AAAGlobalENTCustomerAdministrator", "BBBGlobalENTCustomerAdministrator", "CustomerAdministrator",
	"ProviderAdministrator", "ResellerAdministrator", "SiteAdministrator", "Operator", "SelfService",
	"User Administrator", "Help Desk Administrator", "Audit Administrator", "Greeting Administrator",
}

func pkidFor(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:12])
}

// New returns a simulator with the default hierarchy and roles.
func New(o Options) *Server {
	if o.TxWorkers <= 0 {
		o.TxWorkers = 30
	}
	if o.MaxLimit <= 0 {
		o.MaxLimit = 2000
	}
	s := &Server{opts: o, faults: simkit.NewInjector(o.Faults), txs: map[string]*Tx{}, queue: make(chan func(), 100000)}
	for _, list := range []struct {
		specs []string
		lower bool
	}{{o.DropFields, false}, {o.LowerFields, true}} {
		for _, spec := range list.specs {
			if r, err := parseRule(spec, list.lower); err == nil {
				s.unkept = append(s.unkept, r)
			}
		}
	}
	s.st = State{Nodes: map[string]string{}, Instances: map[string]*Instance{}}
	s.keys = map[string]string{}
	for _, h := range DefaultHierarchy {
		s.st.Nodes[h] = pkidFor("node:" + h)
	}
	s.st.Roles = append(s.st.Roles, DefaultRoles...)
	for i := 0; i < o.TxWorkers; i++ {
		go func() {
			for job := range s.queue {
				job()
			}
		}()
	}
	return s
}

// SetServiceTime changes the service time while running.
func (s *Server) SetServiceTime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.ServiceTime = d
}

// SetFaults changes the injected faults while running.
func (s *Server) SetFaults(f simkit.Faults) { s.faults.Set(f) }

// AddHierarchy creates a hierarchy node and its parents.
func (s *Server) AddHierarchy(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := strings.Split(path, ".")
	for i := range parts {
		p := strings.Join(parts[:i+1], ".")
		if _, ok := s.st.Nodes[p]; !ok {
			s.st.Nodes[p] = pkidFor("node:" + p)
		}
	}
}

// AddRole creates a data/Role.
func (s *Server) AddRole(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.st.Roles {
		if r == name {
			return
		}
	}
	s.st.Roles = append(s.st.Roles, name)
}

// Requests returns how many API requests were served.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// errorBody writes a VOSS-shaped error.
func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"success": false, "code": status, "http_code": status, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// bucket is a token bucket: RateLimit tokens a second, as many at most.
type bucket struct {
	tokens float64
	last   time.Time
}

// rateLimited takes a token from user's bucket; it reports whether there
// was none left.
func (s *Server) rateLimited(user string) bool {
	if s.opts.RateLimit <= 0 {
		return false
	}
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	now := time.Now()
	if s.buckets == nil {
		s.buckets = map[string]*bucket{}
	}
	b := s.buckets[user]
	if b == nil {
		b = &bucket{tokens: s.opts.RateLimit, last: now}
		s.buckets[user] = b
	}
	b.tokens = min(s.opts.RateLimit, b.tokens+now.Sub(b.last).Seconds()*s.opts.RateLimit)
	b.last = now
	if b.tokens < 1 {
		return true
	}
	b.tokens--
	return false
}

// ServeHTTP authenticates and routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sim/voss/stats" {
		writeJSON(w, 200, map[string]int{"requests": s.Requests()})
		return
	}
	if r.URL.Path == "/sim/voss/writes" {
		if simkit.BasicAuth(r, s.opts.User, s.opts.Password) {
			writeJSON(w, 200, s.Writes.Snapshot())
		} else {
			fail(w, 401, "Authentication required")
		}
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		http.NotFound(w, r)
		return
	}
	if !simkit.BasicAuth(r, s.opts.User, s.opts.Password) {
		w.Header().Set("WWW-Authenticate", `Basic realm="VOSS Automate"`)
		fail(w, 401, "Authentication credentials were not provided or are not valid.")
		return
	}
	s.requests.Add(1)
	user, _, _ := r.BasicAuth()
	if s.rateLimited(user) {
		if ra := s.opts.ThrottleRetryAfter; ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
		}
		st := s.opts.ThrottleStatus
		if st == 0 {
			st = http.StatusTooManyRequests
		}
		fail(w, st, "Request was throttled. Expected available in 1 second.")
		return
	}
	if s.faults.Forbidden(r) {
		fail(w, http.StatusForbidden, "You do not have permission to perform this action.")
		return
	}
	if s.faults.Before(w, func(w http.ResponseWriter) { fail(w, 503, "Service temporarily unavailable") }) {
		return
	}
	s.mu.Lock()
	service := s.opts.ServiceTime
	s.mu.Unlock()
	simkit.Sleep(r, service, s.faults.Spike())
	s.faults.Serve(w, r, http.HandlerFunc(s.route))
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	parts := strings.FieldsFunc(strings.TrimPrefix(r.URL.Path, "/api/"), func(c rune) bool { return c == '/' })
	if len(parts) < 2 {
		fail(w, 404, "no such resource")
		return
	}
	model := parts[0] + "/" + parts[1]
	rest := parts[2:]
	switch {
	case model == "tool/Transaction" && len(rest) >= 1:
		s.transaction(w, r, rest)
	case model == "data/HierarchyNode" && r.Method == http.MethodGet && len(rest) == 0:
		s.listNodes(w, r)
	case model == "data/Role" && r.Method == http.MethodGet && len(rest) == 0:
		s.listRoles(w, r)
	case models[model] == nil:
		fail(w, 404, "unknown model type "+model)
	case len(rest) == 0:
		s.routeModel(w, r, model)
	case len(rest) == 1:
		s.routeInstance(w, r, model, rest[0])
	default:
		fail(w, 405, "method not allowed")
	}
}

// routeModel serves /api/data/Model: list, create, bulk delete.
func (s *Server) routeModel(w http.ResponseWriter, r *http.Request, model string) {
	switch r.Method {
	case http.MethodGet:
		s.list(w, r, model)
	case http.MethodPost:
		s.create(w, r, model)
	case http.MethodDelete:
		s.bulkDelete(w, r, model)
	default:
		fail(w, 405, "method not allowed")
	}
}

// routeInstance serves /api/data/Model/X: bulk export (POST .../export),
// get, update, delete of instance X.
func (s *Server) routeInstance(w http.ResponseWriter, r *http.Request, model, id string) {
	switch {
	case id == "export" && r.Method == http.MethodPost:
		s.export(w, r, model)
	case r.Method == http.MethodGet:
		s.get(w, r, model, id)
	case r.Method == http.MethodPut:
		s.update(w, r, model, id)
	case r.Method == http.MethodDelete:
		s.delete(w, r, model, id)
	default:
		fail(w, 405, "method not allowed")
	}
}

// hierarchy resolves the hierarchy parameter (dot path or node pkid).
func (s *Server) hierarchy(w http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.URL.Query().Get("hierarchy")
	if h == "" {
		fail(w, 400, "The hierarchy parameter is required")
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.Nodes[h]; ok {
		return h, true
	}
	for p, id := range s.st.Nodes {
		if id == h {
			return p, true
		}
	}
	fail(w, 404, "Hierarchy node "+h+" not found")
	return "", false
}

func within(h, scope string) bool { return h == scope || strings.HasPrefix(h, scope+".") }

func keyOf(model string, data map[string]any) string {
	v, _ := data[models[model].key].(string)
	return v
}

func friendly(h string) string {
	i := strings.LastIndex(h, ".")
	return h[i+1:]
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, model string) {
	h, ok := s.hierarchy(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	skip, _ := strconv.Atoi(q.Get("skip"))
	limit := 250
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	limit = max(0, min(limit, s.opts.MaxLimit))
	ff, fc, ft := q.Get("filter_field"), strings.ToLower(q.Get("filter_condition")), q.Get("filter_text")
	m := models[model]
	s.mu.Lock()
	var pk []string
	instances := s.st.Instances
	if ff == m.key && (fc == "" || fc == "equals" || fc == "exact") {
		// An equality filter on the business key uses the index, as the
		// real server's database would.
		instances = map[string]*Instance{}
		for node := range s.st.Nodes {
			if id, ok := s.keys[ikey(model, node, ft)]; ok && within(node, h) {
				instances[id] = s.st.Instances[id]
			}
		}
	}
	for id, in := range instances {
		if in.Model != model || !within(in.Hierarchy, h) {
			continue
		}
		if ff != "" {
			v := fmt.Sprint(in.Data[ff])
			switch fc {
			case "", "equals", "exact":
				if !strings.EqualFold(v, ft) {
					continue
				}
			case "startswith":
				if !strings.HasPrefix(strings.ToLower(v), strings.ToLower(ft)) {
					continue
				}
			case "contains":
				if !strings.Contains(strings.ToLower(v), strings.ToLower(ft)) {
					continue
				}
			}
		}
		pk = append(pk, id)
	}
	sort.Slice(pk, func(i, j int) bool {
		a, b := s.st.Instances[pk[i]], s.st.Instances[pk[j]]
		if ka, kb := keyOf(model, a.Data), keyOf(model, b.Data); ka != kb {
			return ka < kb
		}
		return a.Hierarchy < b.Hierarchy
	})
	total := len(pk)
	lo, hi := min(skip, total), min(skip+limit, total)
	var res []any
	for _, id := range pk[lo:hi] {
		in := s.st.Instances[id]
		data := map[string]any{"pkid": id, "hierarchy_friendly_name": friendly(in.Hierarchy), "hierarchy_path": in.Hierarchy}
		data[m.key] = in.Data[m.key]
		res = append(res, map[string]any{"pkid": id, "meta": map[string]any{"model_type": model,
			"business_key": map[string]any{"hierarchy": true, "unique": []string{m.key}},
			"references":   map[string]any{"self": []any{map[string]any{"pkid": id, "href": "/api/" + model + "/" + id + "/"}}}},
			"data": data})
	}
	s.mu.Unlock()
	if res == nil {
		res = []any{}
	}
	writeJSON(w, 200, map[string]any{
		"pagination": map[string]any{"skip": skip, "limit": limit, "total": total, "maximum_limit": s.opts.MaxLimit,
			"order_by": m.key, "direction": "asc", "total_limit": nil,
			"current": fmt.Sprintf("/api/%s/?skip=%d&limit=%d&order_by=%s&direction=asc", model, skip, limit, m.key)},
		"meta":      map[string]any{"model_type": model, "summary_attrs": []any{map[string]any{"name": m.key}, map[string]any{"name": "hierarchy_friendly_name", "allow_filtering": true}}},
		"resources": res,
	})
}

// public returns a copy of data without write-only fields.
func public(model string, data map[string]any) map[string]any {
	return strip(models[model].root, data)
}

func (s *Server) instanceJSON(id string, in *Instance) map[string]any {
	// As seed 002's instance: meta names the parent node by pkid only,
	// with an empty business_key; the hierarchy path is not in the answer.
	return map[string]any{"pkid": id, "meta": map[string]any{"model_type": in.Model, "business_key": map[string]any{},
		"references": map[string]any{"parent": []any{map[string]any{"pkid": s.st.Nodes[in.Hierarchy], "href": "/api/data/HierarchyNode/" + s.st.Nodes[in.Hierarchy]}}}},
		"data": public(in.Model, in.Data)}
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, model, pkid string) {
	s.mu.Lock()
	in := s.st.Instances[pkid]
	var out map[string]any
	if in != nil && in.Model == model {
		out = s.instanceJSON(pkid, in)
	}
	s.mu.Unlock()
	if out == nil {
		fail(w, 404, model+" "+pkid+" not found")
		return
	}
	writeJSON(w, 200, out)
}

func readJSON(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object: %v", err)
	}
	return m, nil
}

// validate checks data against the model schema; it returns a message.
func (s *Server) validate(model string, data map[string]any) string {
	m := models[model]
	if msg := check(m.root, data, ""); msg != "" {
		return msg
	}
	role := m.role(data)
	for _, r := range s.st.Roles {
		if r == role {
			return ""
		}
	}
	return fmt.Sprintf("Unable to resolve the reference to data/Role with name %q at this hierarchy", role)
}

func ikey(model, h, key string) string { return model + "|" + h + "|" + strings.ToLower(key) }

// reindex rebuilds the business-key index.
func (s *Server) reindex() {
	s.keys = map[string]string{}
	for id, in := range s.st.Instances {
		s.keys[ikey(in.Model, in.Hierarchy, keyOf(in.Model, in.Data))] = id
	}
}

func (s *Server) findKey(model, h, key string, except string) string {
	if id := s.keys[ikey(model, h, key)]; id != except {
		return id
	}
	return ""
}

// modelOf returns the model type a request's path names.
func modelOf(r *http.Request) string {
	parts := strings.FieldsFunc(strings.TrimPrefix(r.URL.Path, "/api/"), func(c rune) bool { return c == '/' })
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "/" + parts[1]
}

// mutate runs op now, or as a transaction with nowait=true.
func (s *Server) mutate(w http.ResponseWriter, r *http.Request, status int, describe string, op func() (string, int, string)) {
	if r.URL.Query().Get("nowait") == "true" {
		// Transaction ids are random UUIDs, as on the real server: they
		// must never repeat, not even across a restart.
		var b [16]byte
		_, _ = rand.Read(b[:])
		s.mu.Lock()
		tx := &Tx{ID: fmt.Sprintf("%x-%x-4%x-8%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), Status: "Queued", Description: describe}
		s.txs[tx.ID] = tx
		s.mu.Unlock()
		s.queue <- func() {
			s.mu.Lock()
			tx.Status = "Processing"
			service := s.opts.ServiceTime
			s.mu.Unlock()
			time.Sleep(service)
			s.mu.Lock()
			defer s.mu.Unlock()
			pkid, st, msg := op()
			if st >= 300 {
				tx.Status, tx.Message = "Fail", msg
			} else {
				tx.Status, tx.Resource = "Success", pkid
			}
		}
		writeJSON(w, 202, map[string]any{"href": "/api/tool/Transaction/" + tx.ID, "success": true, "transaction_id": tx.ID})
		return
	}
	s.mu.Lock()
	pkid, st, msg := op()
	s.mu.Unlock()
	if st >= 300 {
		fail(w, st, msg)
		return
	}
	writeJSON(w, status, map[string]any{"pkid": pkid, "model_type": modelOf(r), "success": true, "meta": map[string]any{"uri": r.URL.Path}})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, model string) {
	h, ok := s.hierarchy(w, r)
	if !ok {
		return
	}
	data, err := readJSON(r)
	if err != nil {
		fail(w, 400, err.Error())
		return
	}
	key := keyOf(model, data)
	s.mutate(w, r, 201, "Add "+model+" "+key, func() (string, int, string) {
		if msg := s.validate(model, data); msg != "" {
			return "", 400, msg
		}
		if s.findKey(model, h, key, "") != "" {
			return "", 400, fmt.Sprintf("%s with business key %s already exists at %s", model, key, h)
		}
		if st := s.faults.FailKey(key); st != 0 {
			return "", st, "Internal server error"
		}
		s.st.Seq++
		id := pkidFor(fmt.Sprintf("instance:%d", s.st.Seq))
		hashSecrets(models[model].root, data)
		s.unkeep(model, nil, data)
		in := &Instance{Model: model, Hierarchy: h, Data: data}
		if model == modelUser {
			if _, ok := data["language"]; !ok {
				data["language"] = "en-us" // schema default
			}
		}
		s.st.Instances[id] = in
		s.keys[ikey(model, h, key)] = id
		s.Writes.Add(model + ":" + h + "/" + strings.ToLower(key) + ":create")
		s.dirty.Store(true)
		return id, 201, ""
	})
}

// merge copies src into dst, object by object; arrays replace.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out map[string]any
	_ = d.Decode(&out)
	return out
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, model, pkid string) {
	data, err := readJSON(r)
	if err != nil {
		fail(w, 400, err.Error())
		return
	}
	s.mu.Lock()
	in := s.st.Instances[pkid]
	s.mu.Unlock()
	if in == nil || in.Model != model {
		fail(w, 404, model+" "+pkid+" not found")
		return
	}
	s.mutate(w, r, 200, "Modify "+model+" "+pkid, func() (string, int, string) {
		in := s.st.Instances[pkid]
		if in == nil {
			return "", 404, model + " " + pkid + " not found"
		}
		next := clone(in.Data)
		merge(next, data)
		if msg := s.validate(model, next); msg != "" {
			return "", 400, msg
		}
		key := keyOf(model, next)
		if s.findKey(model, in.Hierarchy, key, pkid) != "" {
			return "", 400, fmt.Sprintf("%s with business key %s already exists at %s", model, key, in.Hierarchy)
		}
		if st := s.faults.FailKey(key); st != 0 {
			return "", st, "Internal server error"
		}
		hashSecrets(models[model].root, next)
		s.unkeep(model, in.Data, next)
		delete(s.keys, ikey(model, in.Hierarchy, keyOf(model, in.Data)))
		in.Data = next
		s.keys[ikey(model, in.Hierarchy, key)] = pkid
		s.Writes.Add(model + ":" + in.Hierarchy + "/" + strings.ToLower(key) + ":update")
		s.dirty.Store(true)
		return pkid, 200, ""
	})
}

func (s *Server) deleteOne(model, pkid string) (int, string) {
	in := s.st.Instances[pkid]
	if in == nil || in.Model != model {
		return 404, model + " " + pkid + " not found"
	}
	delete(s.st.Instances, pkid)
	delete(s.keys, ikey(model, in.Hierarchy, keyOf(model, in.Data)))
	s.Writes.Add(model + ":" + in.Hierarchy + "/" + strings.ToLower(keyOf(model, in.Data)) + ":delete")
	s.dirty.Store(true)
	return 204, ""
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, model, pkid string) {
	s.mu.Lock()
	_, exists := s.st.Instances[pkid]
	s.mu.Unlock()
	if !exists {
		fail(w, 404, model+" "+pkid+" not found")
		return
	}
	s.mutate(w, r, 200, "Delete "+model+" "+pkid, func() (string, int, string) {
		st, msg := s.deleteOne(model, pkid)
		return pkid, st, msg
	})
}

func hrefPkid(href string) string {
	parts := strings.FieldsFunc(href, func(c rune) bool { return c == '/' })
	if len(parts) == 0 {
		return ""
	}
	return parts[len(parts)-1]
}

func (s *Server) hrefs(r *http.Request) ([]string, error) {
	var body struct {
		Hrefs []string `json:"hrefs"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("expected {\"hrefs\": [...]}: %v", err)
	}
	var out []string
	for _, h := range body.Hrefs {
		out = append(out, hrefPkid(h))
	}
	return out, nil
}

func (s *Server) bulkDelete(w http.ResponseWriter, r *http.Request, model string) {
	if _, ok := s.hierarchy(w, r); !ok {
		return
	}
	ids, err := s.hrefs(r)
	if err != nil {
		fail(w, 400, err.Error())
		return
	}
	s.mutate(w, r, 200, fmt.Sprintf("Bulk delete %d %s", len(ids), model), func() (string, int, string) {
		for _, id := range ids {
			if st, msg := s.deleteOne(model, id); st >= 300 {
				return "", st, msg
			}
		}
		return "", 200, ""
	})
}

func (s *Server) export(w http.ResponseWriter, r *http.Request, model string) {
	if _, ok := s.hierarchy(w, r); !ok {
		return
	}
	if f := r.URL.Query().Get("export_format"); f != "" && f != "json" {
		fail(w, 400, "export_format "+f+" is not supported by the simulator (json only)")
		return
	}
	ids, err := s.hrefs(r)
	if err != nil {
		fail(w, 400, err.Error())
		return
	}
	s.mu.Lock()
	var items []any
	for _, id := range ids {
		in := s.st.Instances[id]
		if in == nil || in.Model != model {
			continue
		}
		m := models[model]
		items = append(items, map[string]any{
			"meta": map[string]any{"model_type": model, "hierarchy": in.Hierarchy, "pkid": id,
				"business_key": map[string]any{m.key: keyOf(model, in.Data), "hierarchy": in.Hierarchy}},
			"data": public(model, in.Data),
		})
	}
	s.mu.Unlock()
	if items == nil {
		items = []any{}
	}
	doc, _ := json.Marshal(items)
	name := "export_" + time.Now().UTC().Format("2006-01-02_15:04:05.000000")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, _ := zw.Create(name + ".json")
	_, _ = f.Write(doc)
	_ = zw.Close()
	w.Header().Set("Content-Type", "application/x-zip")
	w.Header().Set("Content-Disposition", "attachment; filename="+name+".json.zip")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) transaction(w http.ResponseWriter, r *http.Request, rest []string) {
	s.mu.Lock()
	tx := s.txs[rest[0]]
	var t Tx
	if tx != nil {
		t = *tx
	}
	s.mu.Unlock()
	if tx == nil {
		fail(w, 404, "transaction "+rest[0]+" not found")
		return
	}
	if len(rest) >= 2 && rest[1] == "poll" {
		writeJSON(w, 200, map[string]any{t.ID: map[string]any{"status": t.Status, "href": "/api/tool/Transaction/" + t.ID,
			"description": t.Description, "message": t.Message}})
		return
	}
	res := map[string]any{"hierarchy": "sys"}
	if t.Resource != "" {
		res["after_transaction"] = t.Resource
	}
	writeJSON(w, 200, map[string]any{"meta": map[string]any{"model_type": "tool/Transaction"},
		"data": map[string]any{"status": t.Status, "message": t.Message, "description": t.Description, "resource": res}})
}

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.hierarchy(w, r); !ok {
		return
	}
	s.mu.Lock()
	var res []any
	// A list's hierarchy_path is where an instance lives (seed 002), and
	// a node lives in its parent: the root's is empty.
	paths := map[string]string{}
	for p, id := range s.st.Nodes {
		parent := ""
		if i := strings.LastIndex(p, "."); i >= 0 {
			parent = p[:i]
		}
		paths[id] = p
		res = append(res, map[string]any{"pkid": id, "data": map[string]any{"pkid": id, "name": friendly(p), "hierarchy_path": parent}})
	}
	s.mu.Unlock()
	sort.Slice(res, func(i, j int) bool {
		return paths[res[i].(map[string]any)["pkid"].(string)] < paths[res[j].(map[string]any)["pkid"].(string)]
	})
	s.writePage(w, r, res)
}

// writePage answers one page of a list by skip and limit (default 250,
// capped at maximum_limit), as every VOSS list does.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, all []any) {
	q := r.URL.Query()
	skip, _ := strconv.Atoi(q.Get("skip"))
	limit := 250
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	limit = max(0, min(limit, s.opts.MaxLimit))
	skip = max(0, skip)
	lo, hi := min(skip, len(all)), min(skip+limit, len(all))
	page := all[lo:hi]
	if page == nil {
		page = []any{}
	}
	writeJSON(w, 200, map[string]any{"pagination": map[string]any{"skip": skip, "limit": limit, "total": len(all), "maximum_limit": s.opts.MaxLimit}, "resources": page})
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.hierarchy(w, r); !ok {
		return
	}
	s.mu.Lock()
	var res []any
	for _, name := range s.st.Roles {
		id := pkidFor("role:" + name)
		res = append(res, map[string]any{"pkid": id, "data": map[string]any{"pkid": id, "name": name}})
	}
	s.mu.Unlock()
	s.writePage(w, r, res)
}

// Save returns the state as JSON and clears the dirty mark.
func (s *Server) Save() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirty.Store(false)
	return json.Marshal(&s.st)
}

// Dirty reports whether the state changed since the last Save.
func (s *Server) Dirty() bool { return s.dirty.Load() }

// Load replaces the state with a saved one.
func (s *Server) Load(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var st State
	if err := d.Decode(&st); err != nil {
		return err
	}
	if st.Instances == nil {
		st.Instances = map[string]*Instance{}
	}
	s.mu.Lock()
	s.st = st
	s.reindex()
	s.mu.Unlock()
	return nil
}

// Count returns the number of instances of model.
func (s *Server) Count(model string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, in := range s.st.Instances {
		if in.Model == model {
			n++
		}
	}
	return n
}

// hashSecrets replaces write-only values by their hashes, so the simulator
// (and its --state file) never keeps a password in clear.
func hashSecrets(f *field, data map[string]any) {
	for k, v := range data {
		c := f.child(k)
		if c == nil {
			continue
		}
		switch t := v.(type) {
		case string:
			if c.secret && !strings.HasPrefix(t, "sha256:") {
				h := sha256.Sum256([]byte("voss-sim\x00" + t))
				data[k] = "sha256:" + hex.EncodeToString(h[:])
			}
		case map[string]any:
			hashSecrets(c, t)
		case []any:
			for _, el := range t {
				if m, ok := el.(map[string]any); ok {
					hashSecrets(c, m)
				}
			}
		}
	}
}
